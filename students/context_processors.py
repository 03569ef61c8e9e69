"""The navigation's badge of work due (students.worklist), for county officials and principals."""

from django.urls import reverse

from .worklist import has_work_list


def work_list(request) -> dict:
    """`work_list_due`: a callable giving the count where this request has worked it out (the work list page), else
    None, and the page fetches it from `work_list_count_url` once shown (students.views.work_list_count)."""
    user = getattr(request, "user", None)
    if user is None or not has_work_list(user):
        return {}
    return {
        "has_work_list": True,
        "work_list_due": lambda: getattr(request, "_work_list_count", None),
        "work_list_count_url": reverse("students:work-list-count"),
    }
