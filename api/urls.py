"""The REST API under /api/v1/, its schema and documentation under /api/, and the Tokens page."""

from django.urls import path, re_path

from .views import actions, cases, docs, handovers, jobs, places, tokens, totals

app_name = "api"

urlpatterns = [
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.SwaggerView.as_view(), name="docs"),
    path("redoc/", docs.RedocView.as_view(), name="redoc"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke_view, name="token-revoke"),
    path("v1/areas/", places.AreaList.as_view(), name="area-list"),
    path("v1/areas/<str:code>/", places.AreaDetail.as_view(), name="area-detail"),
    path("v1/groups/", places.GroupList.as_view(), name="group-list"),
    path("v1/groups/<slug:slug>/", places.GroupDetail.as_view(), name="group-detail"),
    path("v1/schools/", places.SchoolList.as_view(), name="school-list"),
    path("v1/schools/<str:code>/", places.SchoolDetail.as_view(), name="school-detail"),
    path("v1/children/", cases.ChildList.as_view(), name="child-list"),
    path("v1/children/<int:pk>/", cases.ChildDetail.as_view(), name="child-detail"),
    path("v1/cases/", cases.CaseList.as_view(), name="case-list"),
    path("v1/cases/new/", actions.CaseOpen.as_view(), name="case-open"),
    path("v1/cases/<int:pk>/", cases.CaseDetail.as_view(), name="case-detail"),
    path("v1/cases/<int:pk>/events/", cases.CaseEvents.as_view(), name="case-events"),
    path("v1/cases/<int:pk>/visits/", actions.CaseVisits.as_view(), name="case-visits"),
    path("v1/cases/<int:pk>/status/", actions.CaseStatus.as_view(), name="case-status"),
    path("v1/cases/<int:pk>/returned/", actions.CaseReturned.as_view(), name="case-returned"),
    path("v1/cases/<int:pk>/close/", actions.CaseClose.as_view(), name="case-close"),
    path("v1/cases/<int:pk>/relapse/", actions.CaseRelapse.as_view(), name="case-relapse"),
    path("v1/cases/<int:pk>/responsible-persons/", actions.CasePersons.as_view(), name="case-persons"),
    path("v1/cases/<int:pk>/handover/", handovers.CaseHandover.as_view(), name="case-handover"),
    path("v1/visits/", cases.VisitList.as_view(), name="visit-list"),
    path("v1/totals/", totals.TotalsSeries.as_view(), name="totals"),
    path("v1/totals/counties/", totals.CountyTotals.as_view(), name="county-totals"),
    path("v1/jobs/", jobs.JobList.as_view(), name="job-list"),
    path("v1/jobs/<int:pk>/", jobs.JobDetail.as_view(), name="job-detail"),
    path("v1/jobs/<int:pk>/confirm/", jobs.ImportConfirm.as_view(), name="import-confirm"),
    path("v1/imports/", jobs.ImportUpload.as_view(), name="import-upload"),
    path("v1/handovers/", handovers.HandoverList.as_view(), name="handover-list"),
    path("v1/handovers/claim/", handovers.HandoverClaim.as_view(), name="handover-claim"),
    path("v1/handovers/<int:pk>/", handovers.HandoverDetail.as_view(), name="handover-detail"),
    path("v1/handovers/<int:pk>/accept/", handovers.HandoverAccept.as_view(), name="handover-accept"),
    # Anything else under /api/v1/ (an id that is not a number, an operation that does not exist) is a 404 in JSON.
    re_path(r"^v1/", docs.NotFound.as_view(), name="not-found"),
]
