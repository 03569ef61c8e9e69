"""The monthly sign-off's writes: a county signs a month, the prefecture and the province accept it or send it back.

Each is one transaction that locks the month's record, checks that the step is the user's (reports.signoff:
next_role, acts_for) and that the month can be signed, then writes the new status and a step with who and when.
A user who may not take the step gets PermissionDenied (the views answer 404, as for anything out of reach); a
step that does not apply now (a month not ended, its totals not computed, already signed) a ValidationError that
says why.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from counties.models import Division, Role

from .. import signoff
from ..models import MonthSignOff, SignOffAction, SignOffStatus, SignOffStep
from ..selectors import Area, period_figures, totals_cover

NOTE_MAX_LENGTH = 2000


def _locked(county: Division, month: datetime.date) -> MonthSignOff | None:
    return MonthSignOff.objects.select_for_update().filter(county=county, month=month).first()


def _check_step(user, county: Division, status: str | None, *, roles: tuple[str, ...]) -> str:
    """The role whose step it is, when the user acts for the county in one of `roles` and the step is theirs now.

    Someone who never acts for the county in these roles is refused (PermissionDenied); someone who does, but
    whose step it is not now, is told where the month stands.
    """
    if not any(signoff.acts_for(user, role, county) for role in roles):
        raise PermissionDenied
    role = signoff.next_role(status, county)
    if role not in roles or not signoff.acts_for(user, role, county):
        raise ValidationError(
            _("This month is not waiting for you: %(stage)s.") % {"stage": signoff.stage_label(status, county)}
        )
    return role


def signable_problems(county: Division, month: datetime.date, today: datetime.date) -> list[str]:
    """Why the county cannot sign `month` today, if it cannot."""
    end = signoff.month_end(month)
    if month.day != 1 or end >= today:
        return [
            _("%(month)s has not ended yet: it can be signed from %(day)s.")
            % {"month": month.strftime("%Y-%m"), "day": date_format(end + datetime.timedelta(days=1))}
        ]
    earliest = signoff.first_month()
    if earliest is not None and month < earliest:
        return [_("Months before %(month)s are not signed.") % {"month": earliest.strftime("%Y-%m")}]
    if not totals_cover(Area.of_division(county), month, end):
        return [
            _("The totals of %(month)s are not all computed yet; they are computed each night. Sign once they are.")
            % {"month": month.strftime("%Y-%m")}
        ]
    return []


@transaction.atomic
def month_sign(*, county: Division, month: datetime.date, user, today: datetime.date | None = None) -> MonthSignOff:
    """The county's official signs the month's figures as the published totals give them now, which are kept."""
    today = today or timezone.localdate()
    sign_off = _locked(county, month)
    _check_step(user, county, sign_off.status if sign_off else None, roles=(Role.COUNTY,))
    problems = signable_problems(county, month, today)
    if problems:
        raise ValidationError(problems)
    figures = signoff.figures_as_stored(period_figures([Area.of_division(county)], month, signoff.month_end(month))[0])
    now = timezone.now()
    if sign_off is None:
        try:
            with transaction.atomic():
                sign_off = MonthSignOff.objects.create(
                    county=county,
                    month=month,
                    status=SignOffStatus.SIGNED,
                    figures=figures,
                    signed_at=now,
                    signed_by=user,
                )
        except IntegrityError:
            # Another official of the county signed it a moment ago.
            raise ValidationError(_("This month has just been signed by someone else.")) from None
    else:
        sign_off.status, sign_off.figures, sign_off.signed_at, sign_off.signed_by = (
            SignOffStatus.SIGNED,
            figures,
            now,
            user,
        )
        sign_off.save(update_fields=["status", "figures", "signed_at", "signed_by", "updated_at"])
    SignOffStep.objects.create(sign_off=sign_off, action=SignOffAction.SIGN, by=user, at=now, figures=figures)
    return sign_off


def _existing(county: Division, month: datetime.date, user) -> MonthSignOff:
    sign_off = _locked(county, month)
    if sign_off is None:
        if not any(signoff.acts_for(user, role, county) for role in (Role.PREFECTURE, Role.PROVINCE)):
            raise PermissionDenied
        raise ValidationError(_("The county has not signed this month yet."))
    return sign_off


@transaction.atomic
def month_accept(*, county: Division, month: datetime.date, user) -> MonthSignOff:
    """The prefecture's staff, then the province's, accept the figures the county signed."""
    sign_off = _existing(county, month, user)
    role = _check_step(user, county, sign_off.status, roles=(Role.PREFECTURE, Role.PROVINCE))
    if role == Role.PREFECTURE:
        sign_off.status, action = SignOffStatus.PREFECTURE_ACCEPTED, SignOffAction.PREFECTURE_ACCEPT
    else:
        sign_off.status, action = SignOffStatus.ACCEPTED, SignOffAction.PROVINCE_ACCEPT
    sign_off.save(update_fields=["status", "updated_at"])
    SignOffStep.objects.create(sign_off=sign_off, action=action, by=user, at=timezone.now())
    return sign_off


@transaction.atomic
def month_send_back(*, county: Division, month: datetime.date, user, note: str) -> MonthSignOff:
    """The prefecture's or the province's staff send the signed figures back to the county, saying why in a note;
    the county can then sign again."""
    note = (note or "").strip()
    sign_off = _existing(county, month, user)
    _check_step(user, county, sign_off.status, roles=(Role.PREFECTURE, Role.PROVINCE))
    if not note:
        raise ValidationError({"note": [_("Say what the county should look at again.")]})
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": [_("Keep the note under %(count)d characters.") % {"count": NOTE_MAX_LENGTH}]})
    sign_off.status = SignOffStatus.SENT_BACK
    sign_off.save(update_fields=["status", "updated_at"])
    SignOffStep.objects.create(sign_off=sign_off, action=SignOffAction.SEND_BACK, by=user, at=timezone.now(), note=note)
    return sign_off
