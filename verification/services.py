"""Every write of a spot check: drawing a round, assigning its checks, recording what a verifier found.

Each function validates first, then writes in one transaction. A "not found" reopens the case through the
ledger's own service (students.services.case_reopen_on_relapse: the episode ends as a relapse and a new case is
opened for the county), so the status rule, the history and the figures stay the ledger's.
"""

import datetime
import secrets
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from counties.models import Division, Role, User
from counties.roles import has_role
from students.access import Scope, cases_visible_to, divisions_visible_to, scope_for
from students.choices import Reason, Status
from students.services import case_reopen_on_relapse

from . import draw
from .evidence import evidence_problems
from .models import Outcome, SpotCheck, SpotCheckRound

# Who draws rounds and assigns their checks.
DRAWING_ROLES = frozenset({Role.MINISTRY, Role.PROVINCE, Role.ADMIN})
# The statuses of a child back in school: the cases a round may draw, and a "not found" may reopen.
BACK_IN_SCHOOL = (Status.RETURNED, Status.RETAINED)
# A seed is any non-negative 63-bit integer (a PostgreSQL bigint).
SEED_LIMIT = 2**63


def may_draw(user) -> bool:
    return has_role(user, DRAWING_ROLES)


def _require_drawer(user, area: Division) -> None:
    if not may_draw(user):
        raise PermissionDenied(_("Only ministry and province staff draw spot checks."))
    if not divisions_visible_to(user).filter(pk=area.pk).exists():
        raise PermissionDenied(_("This area is outside yours."))


def area_q(area: Division, county_field: str = "county") -> Q:
    """A filter on a field that points at a county: the counties of `area` (the scoping rule's own filter)."""
    return Scope(division=area).county_q(county_field)


def round_candidates(user, area: Division, start: datetime.date, end: datetime.date):
    """The returned cases of the area whose child went back to school in the period and is still there."""
    return cases_visible_to(user).filter(
        area_q(area), returned_on__gte=start, returned_on__lte=end, status__in=BACK_IN_SCHOOL
    )


@transaction.atomic
def spot_check_round_draw(
    *,
    area: Division,
    returned_from: datetime.date,
    returned_until: datetime.date,
    size: int | None = None,
    share: Decimal | None = None,
    seed: int | None = None,
    note: str = "",
    user,
) -> SpotCheckRound:
    """Draw a sample of the area's returned cases (a size or a share), weighted towards the counties whose open
    count fell fastest over the period (verification.draw), and keep the seed and parameters that reproduce it."""
    _require_drawer(user, area)
    errors: dict[str, list[str]] = {}
    if returned_from > returned_until:
        errors["returned_until"] = [_("The end of the period cannot be before its start.")]
    if returned_until > timezone.localdate():
        errors["returned_until"] = [_("The period cannot end in the future.")]
    if (size is None) == (share is None):
        errors["__all__"] = [_("Give either a sample size or a share, not both.")]
    if size is not None and size < 1:
        errors["size"] = [_("Draw at least one case.")]
    if share is not None and not (0 < share <= 100):
        errors["share"] = [_("A share is more than 0 and at most 100 percent.")]
    if seed is not None and not (0 <= seed < SEED_LIMIT):
        errors["seed"] = [_("A seed is a whole number from 0 to %(top)s.") % {"top": SEED_LIMIT - 1}]
    if errors:
        raise ValidationError(errors)
    candidates = list(round_candidates(user, area, returned_from, returned_until).values_list("pk", "county_id"))
    if not candidates:
        raise ValidationError(_("No child of this area returned to school in this period and is still there."))
    seed = secrets.randbelow(SEED_LIMIT) if seed is None else seed
    weights = draw.county_weights({county for _pk, county in candidates}, returned_from, returned_until)
    k = draw.sample_size(len(candidates), size=size, share=share)
    drawn = draw.weighted_sample([(pk, weights[county].weight) for pk, county in candidates], k, seed)
    county_of = dict(candidates)
    spot_round = SpotCheckRound(
        area=area,
        returned_from=returned_from,
        returned_until=returned_until,
        size=size,
        share=share,
        seed=seed,
        note=note,
        drawn_by=user,
        params={
            "emphasis": draw.EMPHASIS,
            "candidates": len(candidates),
            "drawn": len(drawn),
            "counties": {str(pk): weight.as_params() for pk, weight in weights.items()},
        },
    )
    spot_round.full_clean(exclude=["area", "drawn_by"])
    spot_round.save()
    SpotCheck.objects.bulk_create(
        SpotCheck(round=spot_round, case_id=pk, county_id=county_of[pk], weight=weights[county_of[pk]].weight)
        for pk in drawn
    )
    return spot_round


def spot_check_round_redraw(spot_round: SpotCheckRound, *, user) -> list[int]:
    """The case ids the round's seed and parameters draw from the ledger as it is now (to check a round)."""
    candidates = list(
        round_candidates(user, spot_round.area, spot_round.returned_from, spot_round.returned_until).values_list(
            "pk", "county_id"
        )
    )
    weights = draw.county_weights(
        {county for _pk, county in candidates},
        spot_round.returned_from,
        spot_round.returned_until,
        emphasis=spot_round.params["emphasis"],
    )
    k = draw.sample_size(len(candidates), size=spot_round.size, share=spot_round.share)
    return draw.weighted_sample([(pk, weights[county].weight) for pk, county in candidates], k, spot_round.seed)


def verifiers_for(spot_round: SpotCheckRound) -> QuerySet[User]:
    """The verifiers who may be given this round's checks: active, their area the round's, above it or within it."""
    area = spot_round.area
    around = [pk for pk in (area.pk, area.prefecture_id, area.province_id) if pk is not None]
    within = Division.objects.within(area).values("pk")
    return (
        User.objects.filter(Q(division__in=around) | Q(division__in=within), role=Role.VERIFIER, is_active=True)
        .select_related("division")
        .order_by("username")
    )


@transaction.atomic
def spot_checks_assign(*, spot_round: SpotCheckRound, checks: list[SpotCheck], verifier, user) -> int:
    """Give checks of a round to a verifier whose area holds their cases; returns how many were assigned."""
    _require_drawer(user, spot_round.area)
    if not verifiers_for(spot_round).filter(pk=verifier.pk).exists():
        raise ValidationError({"verifier": [_("Choose a verifier of this area.")]})
    verifier_area = Division.objects.within(verifier.division)
    locked = list(SpotCheck.objects.select_for_update().filter(round=spot_round, pk__in=[check.pk for check in checks]))
    if not locked:
        raise ValidationError({"checks": [_("Choose the checks to assign.")]})
    if any(check.outcome for check in locked):
        raise ValidationError({"checks": [_("A check already recorded cannot be given to someone else.")]})
    outside = {check.county_id for check in locked} - set(verifier_area.values_list("pk", flat=True))
    if outside:
        raise ValidationError({"verifier": [_("Some of these cases are outside the verifier's area.")]})
    now = timezone.now()
    for check in locked:
        check.verifier = verifier
        check.assigned_at = now
    SpotCheck.objects.bulk_update(locked, ["verifier", "assigned_at"])
    return len(locked)


def checks_assigned_to(user):
    """The spot checks given to a verifier, each of a case their scope holds (students.access)."""
    if scope_for(user).verifier_id is None:
        return SpotCheck.objects.none()
    return SpotCheck.objects.filter(verifier=user, case__in=cases_visible_to(user))


@transaction.atomic
def spot_check_record(
    *, check: SpotCheck, outcome: str, checked_on: datetime.date, note: str, evidence=None, user
) -> SpotCheck:
    """Record what the verifier found. "Not found in school" reopens the case (a relapse and a new case for the
    county, which its dashboard lists); "record wrong" is shown to the county to put right."""
    locked = checks_assigned_to(user).select_for_update(of=("self",)).select_related("case").filter(pk=check.pk).first()
    if locked is None:
        raise PermissionDenied(_("This check is not assigned to you."))
    errors: dict[str, list[str]] = {}
    if locked.outcome:
        errors["__all__"] = [_("This check is already recorded.")]
    if outcome not in Outcome.values:
        errors["outcome"] = [_("Choose what you found.")]
    if checked_on > timezone.localdate():
        errors["checked_on"] = [_("The date cannot be in the future.")]
    elif locked.case.returned_on and checked_on < locked.case.returned_on:
        errors["checked_on"] = [_("The check cannot be before the child's return to school.")]
    if not note.strip():
        errors["note"] = [_("Say what you saw and where.")]
    if evidence:
        problems = evidence_problems(evidence)
        if problems:
            errors["evidence"] = problems
    if outcome == Outcome.NOT_FOUND and locked.case.status not in BACK_IN_SCHOOL:
        errors["__all__"] = [
            _("The case is no longer marked back in school (%(status)s): there is nothing to reopen.")
            % {"status": Status(locked.case.status).label}
        ]
    if errors:
        raise ValidationError(errors)
    locked.outcome = outcome
    locked.checked_on = checked_on
    locked.note = note.strip()
    locked.recorded_at = timezone.now()
    if evidence:
        # The name the verifier's file had may name the child: it is kept under the check's own.
        evidence.name = f"check-{locked.pk}{Path(evidence.name).suffix.lower()}"
        locked.evidence = evidence
    if outcome == Outcome.NOT_FOUND:
        who = user.get_full_name() or user.username
        # The verifier may not change the ledger: the reopening is the spot check's, recorded in the verifier's name.
        try:
            locked.reopened_case = case_reopen_on_relapse(
                case=locked.case,
                dropout_date=checked_on,
                reason=Reason.OTHER,
                recorded_by=user,
                note=_("Not found in school at a spot check by %(verifier)s: %(note)s")
                % {"verifier": who, "note": locked.note},
            )
        except ValidationError as error:
            # The ledger's date rule (not before the case's last change) speaks of the check's date here.
            if hasattr(error, "error_dict") and "effective_date" in error.error_dict:
                raise ValidationError({"checked_on": error.error_dict["effective_date"]}) from None
            raise
    locked.save()
    return locked
