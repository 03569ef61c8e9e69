"""Baseline views: the least a page of this app can do, to measure the real pages against.

- minimal_page: a signed-in user, the site's base template, no query of its own.
- minimal_insert: a signed-in POST that inserts one visit row, with no form, scoping rule or service.
"""

import functools

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines
from django.utils import timezone
from django.views.decorators.http import require_POST

from students.choices import VisitMethod, VisitorRole, VisitOutcome
from students.models import PersuasionVisit

MINIMAL_PAGE = """{% extends "base.html" %}{% load i18n %}
{% block content %}<p>{% translate "Dropout-control ledger" %}</p>{% endblock %}"""


@functools.cache
def _minimal_template():
    # Parsed once, as the template loaders' cache does for the product's own pages.
    return engines["django"].from_string(MINIMAL_PAGE)


@login_required
def minimal_page(request):
    return HttpResponse(_minimal_template().render({}, request))


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
