"""Case work screens."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .access import get_case_for_user, scope_for


@login_required
def case_detail(request, pk: int):
    # Out-of-scope cases are 404, exactly like cases that do not exist.
    case = get_case_for_user(request.user, pk)
    return render(
        request,
        "students/case_detail.html",
        {"case": case, "scope": scope_for(request.user), "events": case.events.select_related("recorded_by")},
    )
