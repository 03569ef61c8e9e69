"""The navigation's badge of work due (students.worklist), for county officials and principals."""

from django.urls import reverse

from .worklist import has_work_list


def work_list(request) -> dict:
    """`work_list_due`: None, so the page fetches the count from `work_list_count_url` once shown
    (students.views.work_list_count); the work list page, which counts the same, gives it in its own context."""
    user = getattr(request, "user", None)
    if user is None or not has_work_list(user):
        return {}
    return {
        "has_work_list": True,
        "work_list_due": None,
        "work_list_count_url": reverse("students:work-list-count"),
    }
