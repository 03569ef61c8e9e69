"""Reads of spot checks: the rounds a user may see, and the figures and failures the dashboards show.

Figures are counts of checks per area, which name no child. The failures listed to a county name their children
as the disclosure rule lets the user see them, and only for cases the scoping rule gives the user.
"""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from counties.models import Division, Level
from students.access import cases_visible_to, divisions_visible_to, scope_for
from students.disclosure import disclosure_for

from .models import FAILED, SpotCheck, SpotCheckRound
from .services import area_q, may_draw

# The failures a county's dashboard lists at a time, newest first.
FAILURES_SHOWN = 20


def rounds_visible_to(user) -> QuerySet[SpotCheckRound]:
    """The rounds of the user's area, for those who draw them (ministry and province staff, administrators)."""
    if not may_draw(user):
        return SpotCheckRound.objects.none()
    return SpotCheckRound.objects.filter(area__in=divisions_visible_to(user))


@dataclass(frozen=True)
class AreaFigures:
    name: str
    url: str | None
    sampled: int
    checked: int
    failed: int
    not_found: int

    @property
    def checked_share(self) -> float | None:
        return 100.0 * self.checked / self.sampled if self.sampled else None

    @property
    def failure_rate(self) -> float | None:
        return 100.0 * self.failed / self.checked if self.checked else None


COUNTS = {
    "sampled": Count("pk"),
    "checked": Count("pk", filter=~Q(outcome="")),
    "failed": Count("pk", filter=Q(outcome__in=FAILED)),
    "not_found": Count("pk", filter=Q(outcome="not_found")),
}

# Per level of a dashboard: the field of a check's county that names the areas one level down.
CHILD_AREA = {None: "county__province", Level.PROVINCE: "county__prefecture", Level.PREFECTURE: "county"}


def area_figures(user, division: Division | None) -> tuple[AreaFigures, list[AreaFigures]] | None:
    """The spot checks drawn in an area (None: the nation): its checked share and failure rate, and each area's
    one level down; None when none was drawn there."""
    checks = SpotCheck.objects.all() if division is None else SpotCheck.objects.filter(area_q(division))
    total = checks.aggregate(**COUNTS)
    if not total["sampled"]:
        return None
    name = division.name if division is not None else ""
    whole = AreaFigures(name=name, url=None, **total)
    key = CHILD_AREA.get(division.level if division is not None else None)
    if key is None:
        return whole, []
    rows = list(checks.values(key).annotate(**COUNTS).order_by(key))
    places = Division.objects.in_bulk([row[key] for row in rows if row[key] is not None])
    openable = set(divisions_visible_to(user).filter(pk__in=list(places)).values_list("pk", flat=True))
    children = []
    for row in rows:
        place = places.get(row.pop(key))
        if place is None:  # a county under a municipality has no prefecture: its own row
            continue
        url = reverse("reports:division", args=[place.code]) if place.pk in openable else None
        children.append(AreaFigures(name=place.name, url=url, **row))
    return whole, children


@dataclass(frozen=True)
class Failure:
    check: SpotCheck
    name: str  # the child's name as the user may see it


def county_failures(user, county: Division) -> list[Failure]:
    """The failed checks of the county's cases the user works on (county officials, principals), newest first:
    the county's notice that a return did not hold."""
    scope = scope_for(user)
    if not scope.can_write or scope.everything:
        return []
    disclosure = disclosure_for(user)
    failed = (
        SpotCheck.objects.filter(county=county, outcome__in=FAILED, case__in=cases_visible_to(user))
        .select_related("case__student", "case__school", "reopened_case")
        .order_by("-recorded_at", "-pk")[:FAILURES_SHOWN]
    )
    return [Failure(check=check, name=disclosure.name(check.case.student.name)) for check in failed]
