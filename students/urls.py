from django.urls import path

from . import views

app_name = "students"

urlpatterns = [
    path("", views.case_list, name="case-list"),
    path("new/", views.case_new, name="case-new"),
    path("<int:pk>/", views.case_detail, name="case-detail"),
    path("<int:pk>/visit/", views.case_visit, name="case-visit"),
    path("<int:pk>/status/", views.case_status, name="case-status"),
    path("<int:pk>/returned/", views.case_mark_returned, name="case-returned"),
    path("<int:pk>/close/", views.case_close, name="case-close"),
    path("<int:pk>/relapse/", views.case_relapse, name="case-relapse"),
    path("<int:pk>/responsible/", views.case_responsible, name="case-responsible"),
]
