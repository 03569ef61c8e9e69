"""The landing page: every user is sent straight to the dashboard they come for."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from counties.models import Role


def dashboard_url_for(user) -> str | None:
    """Where the user's work starts: national for the ministry, their area, their county, their school; a
    verifier's spot checks."""
    if user.is_superuser or user.role in (Role.MINISTRY, Role.ADMIN):
        return reverse("reports:national")
    if user.role == Role.PRINCIPAL:
        return reverse("reports:school", args=[user.school.code]) if user.school_id else None
    if user.role == Role.VERIFIER:
        return reverse("verification:my-checks")
    if user.division_id:
        return reverse("reports:division", args=[user.division.code])
    return None


@login_required
def home(request):
    url = dashboard_url_for(request.user)
    if url is not None:
        return redirect(url)
    # An account that is not yet tied to an area or school has no dashboard to open.
    return render(request, "reports/home.html")
