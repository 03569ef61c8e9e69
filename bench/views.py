"""Baseline views: the least a page of this app can do, to measure the real pages against.

- minimal_page: a signed-in user, the site's base template, no query of its own.
- minimal_list: the case list reduced to its reads: the user's cases for one status and reason through
  the scoping rule, counted and one page read as the list reads them, printed as bare rows in the
  base template; no filter form, sort headers, pager or exports. What the list cannot go below.
- minimal_insert: a signed-in POST that inserts one visit row, with no form, scoping rule or service.
"""

import functools

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines
from django.utils import timezone
from django.views.decorators.http import require_POST

from students.access import cases_visible_to
from students.choices import OPEN_STATUSES, VisitMethod, VisitorRole, VisitOutcome
from students.disclosure import disclosure_for
from students.filters import OPEN
from students.models import PersuasionVisit
from students.views.cases import LIST_FIELDS, PAGE_SIZE, list_rows
from students.views.paging import CappedCountPaginator

MINIMAL_PAGE = """{% extends "base.html" %}{% load i18n %}
{% block content %}<p>{% translate "Dropout-control ledger" %}</p>{% endblock %}"""


MINIMAL_LIST = """{% extends "base.html" %}
{% block content %}<table>{% for row in rows %}<tr><td><a href="{{ row.url }}">{{ row.name }}</a></td>
<td>{{ row.status_label }}</td><td>{{ row.dropout_date }}</td><td>{{ row.school }}</td><td>{{ row.grade }}</td>
<td>{{ row.reason_label }}</td><td>{{ row.returned_on }}</td><td>{{ row.id_number }}</td></tr>{% endfor %}
</table>{% endblock %}"""


@functools.cache
def _template(source: str):
    # Parsed once, as the template loaders' cache does for the product's own pages.
    return engines["django"].from_string(source)


@login_required
def minimal_page(request):
    return HttpResponse(_template(MINIMAL_PAGE).render({}, request))


@login_required
def minimal_list(request):
    cases = cases_visible_to(request.user).filter(reason=request.GET.get("reason", ""))
    if request.GET.get("status") == OPEN:
        cases = cases.filter(status__in=OPEN_STATUSES)
    paginator = CappedCountPaginator(cases.order_by("-dropout_date", "-pk"), PAGE_SIZE, fields=LIST_FIELDS)
    rows = list_rows(paginator.get_page(request.GET.get("page")).object_list, disclosure_for(request.user))
    return HttpResponse(_template(MINIMAL_LIST).render({"rows": rows}, request))


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
