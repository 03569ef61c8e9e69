"""The dashboards' spot-check panel, fed by its own selector: a dashboard includes one template and passes
nothing, so the dashboard's view knows nothing of spot checks."""

from django import template

from ..selectors import area_figures, county_failures

register = template.Library()


@register.simple_tag(takes_context=True)
def spot_check_panel(context) -> dict | None:
    """The checked share and failure rate of the dashboard's area and of each area one level down; on a county's
    dashboard, the failures of the cases the user works on. None on a group's page or where none was drawn."""
    area = context.get("area")
    request = context.get("request")
    if area is None or request is None or getattr(area, "group", None) is not None:
        return None
    division = area.division
    figures = area_figures(request.user, division)
    if figures is None:  # no check drawn in the area, so no failure either: one query in all
        return None
    whole, children = figures
    failures = county_failures(request.user, division) if area.is_county else []
    return {"whole": whole, "children": children, "failures": failures}
