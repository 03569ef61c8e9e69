"""Which dashboards a user may open, decided without a query from their scope."""

from counties.models import Division, Level
from students.access import Scope


def can_open(scope: Scope, division: Division) -> bool:
    """Whether the user's dashboard scope includes `division` (the rule of divisions_visible_to, without a query)."""
    if scope.everything:
        return True
    if scope.school is not None:
        return division.pk == scope.school.county_id
    if scope.division is None:
        return False
    if scope.division.level == Level.PROVINCE:
        return division.province_id == scope.division.pk
    if scope.division.level == Level.PREFECTURE:
        return division.prefecture_id == scope.division.pk
    return division.pk == scope.division.pk
