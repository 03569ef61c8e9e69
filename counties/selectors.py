"""Reads of the places that other apps share."""

import datetime

from django.db.models import QuerySet

from .models import CountyGroup, Division, Level


def county_by_code(code: str) -> Division:
    """The county-level division with this six-digit code; raises Division.DoesNotExist."""
    return Division.objects.select_related("province", "prefecture").get(code=code, level=Level.COUNTY)


def group_counties_on(slug: str, day: datetime.date) -> QuerySet[Division]:
    """The counties of the group `slug` on `day`; raises CountyGroup.DoesNotExist for an unknown slug."""
    return CountyGroup.objects.get(slug=slug).counties_on(day).select_related("province", "prefecture")


def counties_within(division: Division) -> QuerySet[Division]:
    """The county-level divisions in `division` (itself, if it is a county)."""
    return Division.objects.within(division).counties()
