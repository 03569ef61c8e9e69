from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("national/", views.national, name="national"),
    path("area/<str:code>/", views.division, name="division"),
    path("group/<slug:slug>/", views.group, name="group"),
    path("school/<str:code>/", views.school, name="school"),
    path("assets/plotly-<str:version>.min.js", views.plotly_js, name="plotly-js"),
]
