"""The dashboards' spot-check panel, fed by its own selector: a dashboard includes one template and passes
nothing, so the dashboard's view knows nothing of spot checks."""

from django import template
from django.db.models import Max
from django.template.loader import render_to_string

from dropout_ledger.fragments import cached_fragment
from students.access import viewer_key

from ..models import SpotCheck
from ..selectors import area_figures, county_failures

register = template.Library()


def spot_check_panel(request, area) -> dict | None:
    """The checked share and failure rate of the dashboard's area and of each area one level down; on a county's
    dashboard, the failures of the cases the user works on. None on a group's page or where none was drawn."""
    division = area.division
    figures = area_figures(request.user, division)
    if figures is None:  # no check drawn in the area, so no failure either: one query in all
        return None
    whole, children = figures
    failures = county_failures(request.user, division) if area.is_county else []
    return {"whole": whole, "children": children, "failures": failures}


@register.simple_tag(takes_context=True)
def spot_checks(context) -> str:
    """The panel rendered. Above a county it counts checks and names no child: rendered once per viewer's place
    and state of the checks (the newest check drawn and the newest outcome recorded). A county's names the
    failures of the user's cases, so is rendered for each request."""
    area = context.get("area")
    request = context.get("request")
    if area is None or request is None or getattr(area, "group", None) is not None:
        return ""

    def render() -> str:
        spot = spot_check_panel(request, area)
        return render_to_string("verification/_panel.html", {"spot": spot}, request) if spot else ""

    if area.is_county:
        return render()
    stamp = SpotCheck.objects.aggregate(last=Max("pk"), recorded=Max("recorded_at"))
    return cached_fragment(
        f"spot-checks:{area.key}:{viewer_key(request.user)}:{stamp['last']}:{stamp['recorded']}", render
    )
