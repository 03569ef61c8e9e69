"""The national, province, prefecture, county and county-group dashboards: one template, one shape.

Every figure comes from the stored daily totals (reports.selectors); only the county page adds lists
read from the live ledger, through the scoping rule. Handovers between counties are read live too: a
county's pending ones on its page, the count stuck for more than 30 days on the pages above it.
"""

import datetime
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from counties.models import CountyGroup
from students import handover as handovers
from students.access import Scope, divisions_visible_to, scope_for

from .. import selectors
from ..selectors import Area
from ..views_runs import can_manage_totals
from .access import can_open
from .assets import plotly_js_url
from .county import county_ledger
from .figures import cached_figures, with_day


@dataclass(frozen=True)
class Crumb:
    label: str
    url: str | None


def _requested_day(request) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return None


@login_required
@require_safe
def national(request):
    scope = scope_for(request.user)
    if not scope.everything:
        raise Http404
    return _dashboard(request, Area.nation(), scope)


@login_required
@require_safe
def division(request, code: str):
    # Outside the user's area the dashboard does not exist: 404, like a code that is not on the list.
    place = get_object_or_404(divisions_visible_to(request.user).select_related("province", "prefecture"), code=code)
    scope = scope_for(request.user)
    return _dashboard(request, Area.of_division(place), scope)


@login_required
@require_safe
def group(request, slug: str):
    # A group spans provinces: only those who see the whole country may open it.
    scope = scope_for(request.user)
    if not scope.everything:
        raise Http404
    county_group = get_object_or_404(CountyGroup, slug=slug)
    return _dashboard(request, Area.of_group(county_group), scope)


def _crumbs(area: Area, scope: Scope, day: datetime.date | None) -> list[Crumb]:
    """The way back up: the nation, then the province and prefecture above a division."""
    if area.level == "nation":
        return []
    crumbs = [Crumb(_("Nation"), with_day(reverse("reports:national"), day) if scope.everything else None)]
    place = area.division
    if place is not None:
        for ancestor in (place.province, place.prefecture):
            if ancestor is not None and ancestor.pk != place.pk:
                url = reverse("reports:division", args=[ancestor.code]) if can_open(scope, ancestor) else None
                crumbs.append(Crumb(ancestor.name, with_day(url, day) if url else None))
    return crumbs


def _dashboard(request, area: Area, scope: Scope):
    requested = _requested_day(request)
    span = selectors.totals_span()
    day = span.resolve(requested)
    # Links keep the chosen day only when the user chose one; otherwise they follow the latest totals.
    link_day = day if requested is not None else None
    context = {
        "area": area,
        "scope": scope,
        "crumbs": _crumbs(area, scope, link_day),
        "span": span,
        "day": day,
        "requested_day": requested,
        "run": selectors.freshness(),
        "baseline_date": selectors.baseline_date(),
        "plotly_url": plotly_js_url(),
        "runs_url": reverse("reports:runs") if can_manage_totals(request.user) else None,
    }
    if day is not None:
        context.update(cached_figures(area, scope, span, day, link_day, context["run"]))
    if area.is_county:
        context["ledger"] = county_ledger(request.user, scope, area.division, timezone.localdate())
    context["handovers"] = _handovers(request.user, area)
    return render(request, "reports/dashboard.html", context)


# The most pending handovers a county's dashboard lists; the count says how many there are.
HANDOVER_LIMIT = 10


def _handovers(user, area: Area) -> dict | None:
    """A county's pending handovers, in and out, longest waiting first; above a county, how many are stuck."""
    if scope_for(user).school is not None:
        return None  # principals take no part in handovers
    place = area.division
    if area.is_county:
        pending = handovers.pending_of_county(user, place).select_related(
            "case__student", "case__school", "from_county", "to_county"
        )
        shown = list(pending[: HANDOVER_LIMIT + 1])
        count = len(shown) if len(shown) <= HANDOVER_LIMIT else pending.count()
        return {
            "for_county": True,
            "rows": handovers.handover_rows(user, shown[:HANDOVER_LIMIT], place.pk),
            "count": count,
            "list_url": reverse("students:handover-list"),
            "stuck_after": handovers.STUCK_AFTER_DAYS,
        }
    if area.level == "group":
        return None
    url = reverse("students:handover-stuck")
    return {
        "stuck": handovers.stuck_handovers(user, place).count(),
        "stuck_url": f"{url}?area={place.code}" if place is not None else url,
        "stuck_after": handovers.STUCK_AFTER_DAYS,
    }
