from django.urls import path

from counties.models import Role
from counties.roles import requires_role

from . import views, views_runs
from .views import signoff

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
    # A county's month to sign, accept or send back (reports.views.signoff), scoped as its dashboard is.
    path("sign-off/<str:code>/<str:month>/", signoff.month_page, name="sign-off"),
    path("sign-off/<str:code>/<str:month>/sign/", signoff.month_sign, name="sign-off-sign"),
    path("sign-off/<str:code>/<str:month>/accept/", signoff.month_accept, name="sign-off-accept"),
    path("sign-off/<str:code>/<str:month>/send-back/", signoff.month_send_back, name="sign-off-send-back"),
    path("assets/plotly-<str:version>.min.js", views.plotly_js, name="plotly-js"),
    path("totals/runs/", administrators(views_runs.run_list), name="runs"),
    path("totals/runs/start/", administrators(views_runs.run_start), name="run-start"),
    path("totals/runs/<int:pk>/status/", administrators(views_runs.run_status), name="run-status"),
]
