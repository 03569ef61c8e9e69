"""Baseline views: the least a page of this app can do, to measure the real pages against.

- minimal_page: a signed-in user, the site's base template, no query of its own.
- minimal_insert: a signed-in POST that inserts one visit row, with no form, scoping rule or service.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from students.choices import VisitMethod, VisitorRole, VisitOutcome
from students.models import PersuasionVisit


@login_required
def minimal_page(request):
    return render(request, "bench/minimal.html")


@require_POST
@login_required
def minimal_insert(request, case_id: int):
    PersuasionVisit.objects.create(
        case_id=case_id,
        visit_date=timezone.localdate(),
        visitors=[{"role": VisitorRole.CLASS_TEACHER, "name": ""}],
        method=VisitMethod.PHONE,
        outcome=VisitOutcome.REFUSED,
        notes=request.POST.get("notes", ""),
        recorded_by=request.user,
    )
    return HttpResponse(status=204)
