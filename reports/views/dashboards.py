"""The national, province, prefecture, county and county-group dashboards: one template, one shape.

Every figure comes from the stored daily totals (reports.selectors); only the county page adds lists
read from the live ledger, through the scoping rule. Handovers between counties are read live too: a
county's pending ones on its page, the count stuck for more than 30 days on the pages above it.
"""

import datetime
import hashlib
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Max
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from counties.models import CountyGroup
from dropout_ledger.fragments import cached_fragment
from students import handover as handovers
from students.access import Scope, divisions_visible_to, scope_for, viewer_key
from students.views.paging import page_from, pager

from .. import charts, selectors
from ..models import SignOffStep
from ..selectors import Area
from ..signoff import sign_off_panel
from ..views_runs import can_manage_totals
from .access import can_open
from .assets import plotly_js_url
from .county import county_ledger
from .figures import FIGURES_CACHE_SECONDS, cached_figures, cached_span, figures_key, with_day
from .trend import figures_csv_url, overlay_options, preset_links, query_without, trend_form


@dataclass(frozen=True)
class Crumb:
    label: str
    url: str | None


def _requested_day(request) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return None


# The area of each kind of dashboard, as the user may open it: the pages and their CSV files (figures_csv) alike.


def national_area(request) -> tuple[Area, Scope]:
    scope = scope_for(request.user)
    if not scope.everything:
        raise Http404
    return Area.nation(), scope


def division_area(request, code: str) -> tuple[Area, Scope]:
    # Outside the user's area the dashboard does not exist: 404, like a code that is not on the list.
    place = get_object_or_404(divisions_visible_to(request.user).select_related("province", "prefecture"), code=code)
    return Area.of_division(place), scope_for(request.user)


def group_area(request, slug: str) -> tuple[Area, Scope]:
    # A group spans provinces: only those who see the whole country may open it.
    scope = scope_for(request.user)
    if not scope.everything:
        raise Http404
    return Area.of_group(get_object_or_404(CountyGroup, slug=slug)), scope


@login_required
@require_safe
def national(request):
    return _dashboard(request, *national_area(request))


@login_required
@require_safe
def division(request, code: str):
    return _dashboard(request, *division_area(request, code))


@login_required
@require_safe
def group(request, slug: str):
    return _dashboard(request, *group_area(request, slug))


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


def dashboard_figures(request, area: Area, scope: Scope, *, figures: bool = True) -> dict:
    """The chosen range and lines (reports.forms) and the figures they show: for the page and its CSV files.

    A group page asked for `as_of` holds the group's members of that day fixed over the range. Without
    `figures`, the figures themselves are left out: the page adds them only when it renders them
    (`figures_html`).
    """
    requested = _requested_day(request)
    run = selectors.freshness()
    span = cached_span(run)
    form = trend_form(request, span, scope, area)
    view = form.view()
    if area.group is not None and view is not None and view.as_of is not None:
        area = Area.of_group(area.group, view.as_of)
    day = view.day if view else None
    # Links keep the chosen day only when the user chose one; otherwise they follow the latest totals.
    link_day = day if requested is not None else None
    context = {
        "area": area,
        "span": span,
        "day": day,
        "requested_day": requested,
        "link_day": link_day,
        "run": run,
        "trend_form": form,
        "trend_view": view,
    }
    if view is not None and figures:
        context.update(_figures(context, scope))
    return context


def _figures_of(context: dict, scope: Scope) -> tuple:
    """What an area's figures depend on, from a page's context: cached_figures' and figures_key's arguments."""
    keys = ("span", "day", "link_day", "run", "trend_view")
    return (context["area"], scope, *(context[name] for name in keys))


def _figures(context: dict, scope: Scope) -> dict:
    return cached_figures(*_figures_of(context, scope))


def figures_html(request, context: dict, scope: Scope) -> dict[str, str]:
    """The page's figures rendered (headline, then the charts below the county's live lists), once per totals run.

    The figures are cached per run already (`cached_figures`); their HTML is too, per run and query, so a
    dashboard rendered again costs a cache read instead of its charts' and tables' templates. Everything the
    fragments show depends only on the run, the area, the scope and the query.
    """
    view = context["trend_view"]
    key = None
    if view is not None:
        key = figures_key(*_figures_of(context, scope))
    if key is not None:
        query = hashlib.sha256(request.GET.urlencode().encode()).hexdigest()[:16]
        key = f"{key}:html:{query}"
        cached = cache.get(key)
        if cached is not None:
            return {part: mark_safe(html) for part, html in cached.items()}  # rendered by the templates below
    if view is not None:
        context = context | _figures(context, scope)
    html = {
        "headline": render_to_string("reports/_headline.html", context, request),
        "body": render_to_string("reports/_figures.html", context, request),
    }
    if key is not None:
        cache.set(key, {part: str(text) for part, text in html.items()}, FIGURES_CACHE_SECONDS)
    return html


def sign_off_html(request, area: Area) -> str:
    """The sign-off panel rendered: above a county, once per viewer's place, day and sign-off step (it counts the
    counties' months and names no child); a county's panel counts corrections of the user's cases, so is live."""
    user, today = request.user, timezone.localdate()

    def render() -> str:
        panel = sign_off_panel(user, area, today)
        return render_to_string("reports/_sign_off.html", {"sign_off": panel, "area": area}, request) if panel else ""

    if area.is_county:
        return render()
    stamp = SignOffStep.objects.aggregate(last=Max("pk"))["last"]
    return cached_fragment(f"sign-off:{area.key}:{viewer_key(user)}:{today}:{stamp}", render)


def _dashboard(request, area: Area, scope: Scope):
    context = dashboard_figures(request, area, scope, figures=False)
    area = context["area"]
    context |= {
        "scope": scope,
        "crumbs": _crumbs(area, scope, context["link_day"]),
        "baseline_date": selectors.baseline_date(),
        "plotly_url": plotly_js_url(),
        "chart_options": {
            "config": charts.modebar_config(),
            "download": _("Download the chart as PNG, with its title, range and source"),
        },
        "runs_url": reverse("reports:runs") if can_manage_totals(request.user) else None,
    }
    view = context["trend_view"]
    if view is not None:
        context |= {
            "presets": preset_links(request, view, context["trend_form"].first),
            "overlay_options": overlay_options(context["trend_form"], view),
            "csv_url": figures_csv_url(area),
            "csv_query": query_without(request, "chart"),
        }
    if area.is_county:
        context["ledger"] = county_ledger(request, scope, area.division, timezone.localdate())
    context["handovers"] = _handovers(request, area)
    context["sign_off_html"] = sign_off_html(request, area)
    if context["span"].exists:
        context["figures_html"] = figures_html(request, context, scope)
    return render(request, "reports/dashboard.html", context)


# Pending handovers a county's dashboard lists at a time (paged by handovers_page); the count says how many in all.
HANDOVER_LIMIT = 10


def _handovers(request, area: Area) -> dict | None:
    """A county's pending handovers, in and out, longest waiting first; above a county, how many are stuck."""
    user = request.user
    if scope_for(user).school is not None:
        return None  # principals take no part in handovers
    place = area.division
    if area.is_county:
        pending = handovers.pending_of_county(user, place)
        related = pending.select_related("case__student", "case__school", "from_county", "to_county")
        page = page_from(request, pending, per_page=HANDOVER_LIMIT, param="handovers_page", rows=related)
        return {
            "for_county": True,
            "rows": handovers.handover_rows(user, list(page.object_list), place.pk),
            "pager": pager(request, page, param="handovers_page", anchor="handovers"),
            "count": page.paginator.count,
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
