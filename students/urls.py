from django.urls import path

from counties.models import Role
from counties.roles import requires_role

from . import views, views_jobs
from .views import import_mapping

app_name = "students"

urlpatterns = [
    path("", views.case_list, name="case-list"),
    path("new/", views.case_new, name="case-new"),
    # Schools matching a typed name, for the case list's school filter (students.views.schools).
    path("schools/suggest/", views.school_suggestions, name="school-suggestions"),
    # What is due today, for a county official (their county) or a principal (their school).
    path("due/", requires_role(Role.COUNTY, Role.PRINCIPAL)(views.work_list), name="work-list"),
    path("due/count/", requires_role(Role.COUNTY, Role.PRINCIPAL)(views.work_list_count), name="work-list-count"),
    path("<int:pk>/", views.case_detail, name="case-detail"),
    # The case on paper (一生一案), through the same scoping and disclosure rules as its page.
    path("<int:pk>/sheet/", views.case_sheet, name="case-sheet"),
    path("<int:pk>/visit/", views.case_visit, name="case-visit"),
    path("<int:pk>/status/", views.case_status, name="case-status"),
    path("<int:pk>/returned/", views.case_mark_returned, name="case-returned"),
    path("<int:pk>/close/", views.case_close, name="case-close"),
    path("<int:pk>/retention-check/", views.case_retention_check, name="case-retention-check"),
    path("<int:pk>/relapse/", views.case_relapse, name="case-relapse"),
    path("<int:pk>/responsible/", views.case_responsible, name="case-responsible"),
    path("disclosures/", views.disclosure_log, name="disclosure-log"),
    # Records that are probably one child: candidates, decisions, merges (students.views.duplicates).
    path("duplicates/", views.duplicates, name="duplicates"),
    path("duplicates/<int:pk>/", views.duplicate_detail, name="duplicate-detail"),
    path("duplicates/<int:pk>/merge/", views.duplicate_merge, name="duplicate-merge"),
    path("duplicates/<int:pk>/not-same/", views.duplicate_not_same, name="duplicate-not-same"),
    path("duplicates/merges/<int:pk>/undo/", views.merge_undo, name="merge-undo"),
    # Handovers of cases between counties (students.views.handover).
    path("<int:pk>/handover/", views.case_handover, name="case-handover"),
    path("handovers/", views.handover_list, name="handover-list"),
    path("handovers/stuck/", views.handover_stuck, name="handover-stuck"),
    path("handovers/claim/", views.handover_claim, name="handover-claim"),
    path("handovers/<int:pk>/", views.handover_detail, name="handover-detail"),
    path("handovers/<int:pk>/accept/", views.handover_accept, name="handover-accept"),
    path("handovers/<int:pk>/decline/", views.handover_decline, name="handover-decline"),
    path("handovers/<int:pk>/cancel/", views.handover_cancel, name="handover-cancel"),
    # Spreadsheet import and export, their background jobs (students.views_jobs).
    path("import/template/", views_jobs.import_template, name="import-template"),
    path("import/<str:county_code>/", views_jobs.import_upload, name="import-upload"),
    # How the county's own spreadsheets name the fields and values (students.views.import_mapping).
    path("import/<str:county_code>/mapping/", import_mapping.import_mapping_edit, name="import-mapping"),
    path("jobs/<int:pk>/mapping/", import_mapping.import_mapping_confirm, name="import-mapping-confirm"),
    path("jobs/<int:pk>/", views_jobs.job_detail, name="job-detail"),
    path("jobs/<int:pk>/status/", views_jobs.job_status, name="job-status"),
    path("jobs/<int:pk>/confirm/", views_jobs.import_confirm, name="import-confirm"),
    path("jobs/<int:pk>/problems.<str:fmt>", views_jobs.job_problems, name="job-problems"),
    path("jobs/<int:pk>/download/", views_jobs.job_download, name="job-download"),
    path("export/", views_jobs.export_cases_view, name="export"),
    path("export/ledger/<str:county_code>/", views_jobs.export_ledger, name="export-ledger"),
    # The monthly reports of the nation, a county group and a division (students.views.monthly).
    path("reports/monthly/national/", views.monthly_report_national, name="monthly-report-national"),
    path("reports/monthly/group/<slug:slug>/", views.monthly_report_group, name="monthly-report-group"),
    path("reports/monthly/<str:division_code>/", views.monthly_report, name="monthly-report"),
]
