from django.urls import path

from counties.models import Role
from counties.roles import requires_role

from . import views
from .services import DRAWING_ROLES

# Rounds are ministry and province staff's (and administrators'); checks are the verifiers'. Inside, every case
# is read through the scoping rule (students.access), which gives a verifier only the cases assigned to them.
drawing = requires_role(*DRAWING_ROLES)
verifiers = requires_role(Role.VERIFIER)

app_name = "verification"

urlpatterns = [
    path("rounds/", drawing(views.round_list), name="rounds"),
    path("rounds/draw/", drawing(views.round_draw), name="round-draw"),
    path("rounds/<int:pk>/", drawing(views.round_detail), name="round-detail"),
    path("rounds/<int:pk>/assign/", drawing(views.round_assign), name="round-assign"),
    path("mine/", verifiers(views.my_checks), name="my-checks"),
    path("checks/<int:pk>/", verifiers(views.check_detail), name="check-detail"),
    # The photo or scan of a check: its verifier, and the county and school of its case (scoped inside).
    path("checks/<int:pk>/evidence/", views.check_evidence, name="check-evidence"),
]
