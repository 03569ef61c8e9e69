from django.urls import path

from . import views

app_name = "rosters"

urlpatterns = [
    path("", views.comparison_list, name="comparison-list"),
    path("new/<str:county_code>/", views.comparison_new, name="comparison-new"),
    path("<int:pk>/", views.comparison_detail, name="comparison-detail"),
    path("<int:pk>/status/", views.comparison_status, name="comparison-status"),
    path("<int:pk>/open-cases/", views.candidates_open, name="candidates-open"),
    path("candidates/<int:pk>/dismiss/", views.candidate_dismiss, name="candidate-dismiss"),
    path("candidates/<int:pk>/flag/", views.candidate_set_flag, name="candidate-flag"),
]
