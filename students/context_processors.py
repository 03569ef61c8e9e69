"""The navigation's badge of work due (students.worklist), for county officials and principals."""

import functools

from django.utils import timezone

from .worklist import badge_count, has_work_list


def work_list(request) -> dict:
    """`work_list_due`: a callable the template calls only where it draws the badge, counted once per request."""
    user = getattr(request, "user", None)
    if user is None or not has_work_list(user):
        return {}
    return {"has_work_list": True, "work_list_due": functools.partial(badge_count, request, timezone.localdate())}
