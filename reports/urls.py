from django.urls import path

from counties.models import Role
from counties.roles import requires_role

from . import views, views_runs

# The totals runs are the administrators' (counties.roles); every other screen scopes itself (students.access).
administrators = requires_role(Role.ADMIN)

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("national/", views.national, name="national"),
    path("area/<str:code>/", views.division, name="division"),
    path("group/<slug:slug>/", views.group, name="group"),
    # Each chart's figures as CSV, scoped as the page is.
    path("national/figures.csv", views.national_csv, name="national-csv"),
    path("area/<str:code>/figures.csv", views.division_csv, name="division-csv"),
    path("group/<slug:slug>/figures.csv", views.group_csv, name="group-csv"),
    path("school/<str:code>/", views.school, name="school"),
    path("assets/plotly-<str:version>.min.js", views.plotly_js, name="plotly-js"),
    path("totals/runs/", administrators(views_runs.run_list), name="runs"),
    path("totals/runs/start/", administrators(views_runs.run_start), name="run-start"),
    path("totals/runs/<int:pk>/status/", administrators(views_runs.run_status), name="run-status"),
]
