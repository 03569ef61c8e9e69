"""Rounds of spot checks, for ministry and province staff: draw one, see it, give its checks to verifiers.

A round's page names no child: each check is shown by its case number, county and school, so those who draw
rounds (who see identifiers masked) get nothing of the children, and the verifiers get them on their own pages.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from counties.models import Division

from ..forms import AssignForm, DrawForm
from ..models import FAILED
from ..selectors import rounds_visible_to
from ..services import spot_check_round_draw, spot_checks_assign

PAGE_ROUNDS = 50


def _rounds_page(request, form: DrawForm, status: int = 200):
    rounds = (
        rounds_visible_to(request.user)
        .select_related("area", "drawn_by")
        .annotate(
            sampled=Count("checks"),
            assigned=Count("checks", filter=Q(checks__verifier__isnull=False)),
            checked=Count("checks", filter=~Q(checks__outcome="")),
            failed=Count("checks", filter=Q(checks__outcome__in=FAILED)),
        )[:PAGE_ROUNDS]
    )
    return render(request, "verification/rounds.html", {"rounds": rounds, "form": form}, status=status)


@require_safe
def round_list(request):
    return _rounds_page(request, DrawForm(user=request.user))


@require_POST
def round_draw(request):
    form = DrawForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            spot_round = spot_check_round_draw(
                area=data["area"],
                returned_from=data["returned_from"],
                returned_until=data["returned_until"],
                size=data["size"],
                share=data["share"],
                seed=data["seed"],
                note=data["note"],
                user=request.user,
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            drawn = spot_round.checks.count()
            messages.success(
                request,
                ngettext("%(n)s case was drawn.", "%(n)s cases were drawn.", drawn) % {"n": drawn},
            )
            return redirect("verification:round-detail", pk=spot_round.pk)
    return _rounds_page(request, form, status=400)


def _round_page(request, pk: int, form: AssignForm | None = None, status: int = 200):
    spot_round = get_object_or_404(rounds_visible_to(request.user).select_related("area", "drawn_by"), pk=pk)
    checks = spot_round.checks.select_related("county", "case__school", "verifier", "reopened_case").order_by("pk")
    weights = spot_round.params.get("counties", {})
    places = Division.objects.in_bulk([int(county_id) for county_id in weights])
    # The weighting the draw used, heaviest first: each county's fall in open cases over the period.
    counties = sorted(
        (
            {"name": places[int(county_id)].name, **figures}
            for county_id, figures in weights.items()
            if int(county_id) in places
        ),
        key=lambda row: (-row["weight"], row["name"]),
    )
    return render(
        request,
        "verification/round_detail.html",
        {
            "round": spot_round,
            "checks": checks,
            "counties": counties,
            "form": form or AssignForm(spot_round=spot_round),
        },
        status=status,
    )


@require_safe
def round_detail(request, pk: int):
    return _round_page(request, pk)


@require_POST
def round_assign(request, pk: int):
    spot_round = get_object_or_404(rounds_visible_to(request.user), pk=pk)
    form = AssignForm(request.POST, spot_round=spot_round)
    if form.is_valid():
        try:
            assigned = spot_checks_assign(
                spot_round=spot_round,
                checks=list(form.cleaned_data["checks"]),
                verifier=form.cleaned_data["verifier"],
                user=request.user,
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request,
                ngettext("%(n)s check was assigned.", "%(n)s checks were assigned.", assigned) % {"n": assigned},
            )
            return redirect("verification:round-detail", pk=pk)
    messages.error(request, _("Nothing was assigned: see below."))
    return _round_page(request, pk, form, status=400)
