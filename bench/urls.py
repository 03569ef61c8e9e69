"""The project's URLs plus the benchmark's baseline views (only ever served by the benchmark process)."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("_bench/minimal/", views.minimal_page, name="bench-minimal"),
    path("_bench/list/", views.minimal_list, name="bench-list"),
    path("_bench/insert/<int:case_id>/", views.minimal_insert, name="bench-insert"),
    path("", include("dropout_ledger.urls")),
]
