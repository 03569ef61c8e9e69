"""Who sees which comparisons, through the one scoping rule (students.access.scope_for).

A comparison belongs to its county. County officials of that county and administrators see it and act on its
candidates, identifiers shown; prefecture, province and ministry staff whose area holds the county see it
read-only, identifiers masked by the disclosure rule. Principals do not see it: a roster names every child of the
county, not their school's. Anything else does not exist for the user (404).
"""

from django.db.models import QuerySet
from django.http import Http404

from counties.models import Division, Level
from students.access import divisions_visible_to, scope_for

from .models import Candidate, RosterComparison


def comparisons_visible_to(user) -> QuerySet[RosterComparison]:
    scope = scope_for(user)
    if scope.school is not None:
        return RosterComparison.objects.none()
    return RosterComparison.objects.filter(scope.county_q("county"))


def may_compare(user, county: Division) -> bool:
    """County officials for their own county and administrators: they upload rosters and decide candidates."""
    scope = scope_for(user)
    if not scope.can_write or scope.school is not None or county.level != Level.COUNTY:
        return False
    return scope.everything or scope.division.pk == county.pk


def counties_for_comparison(user) -> QuerySet[Division]:
    """The counties whose comparisons a user may list: their area's."""
    if scope_for(user).school is not None:
        return Division.objects.none()
    return divisions_visible_to(user).filter(level=Level.COUNTY)


def comparison_for_user(user, pk: int) -> RosterComparison:
    try:
        return comparisons_visible_to(user).select_related("county", "requested_by").get(pk=pk)
    except (RosterComparison.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def candidates_of(comparison: RosterComparison) -> QuerySet[Candidate]:
    return comparison.candidates.select_related("case", "student")
