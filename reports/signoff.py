"""The monthly sign-off: its calendar, who acts at each step, and the reads its pages and the dashboards make.

By the SIGN_OFF_DUE_DAY (15th) of each month a county's official signs the previous calendar month's figures, as
the dashboards compute them from the published totals (reports.selectors.period_figures); the prefecture's staff
accept them, then the province's (a county under a province directly, with no prefecture, goes straight to the
province), or either sends them back to the county with a note and the county signs again. The writes are in
reports.services.signoff.

A month is, for the dashboards:
- signed: signed by the county and accepted by the province;
- pending: not yet, and its due day (the SIGN_OFF_DUE_DAY of the following month) has not passed;
- overdue: not yet, and its due day has passed.

A signed month is frozen: its figures are kept as signed. A case event recorded after the signature, with an
effective date inside the month, in the county that held the case on that day, is a correction against it
(`corrections`): it moved the published totals (students.services.correction_record) but not the signed figure.
Every case is read through the scoping rule (students.access) and named through the disclosure rule.
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from counties.models import Division, Level, Role
from students.access import cases_visible_to, scope_for
from students.choices import OPEN_STATUSES, HandoverStatus
from students.disclosure import disclosure_for
from students.models import CaseEvent, Handover

from .models import AreaLevel, MonthSignOff, SignOffStatus
from .selectors import Area, PeriodFigures, baseline_date

# --- The calendar ----------------------------------------------------------------------------------------------


def month_end(month: datetime.date) -> datetime.date:
    return next_month(month) - datetime.timedelta(days=1)


def next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def previous_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def due_date(month: datetime.date) -> datetime.date:
    """The last day to sign and accept `month`: settings.SIGN_OFF_DUE_DAY of the month after it."""
    following = next_month(month)
    return following.replace(day=min(settings.SIGN_OFF_DUE_DAY, month_end(following).day))


def parse_month(text: str) -> datetime.date | None:
    """A month written YYYY-MM, as its first day; None when it is not one."""
    try:
        year, number = text.split("-")
        return datetime.date(int(year), int(number), 1) if len(year) == 4 and len(number) == 2 else None
    except ValueError:
        return None


def first_month() -> datetime.date | None:
    """settings.SIGN_OFF_FIRST_MONTH: no month before it is due."""
    return parse_month(settings.SIGN_OFF_FIRST_MONTH) if settings.SIGN_OFF_FIRST_MONTH else None


def months_shown(today: datetime.date) -> list[datetime.date]:
    """The months the dashboards follow: the last SIGN_OFF_MONTHS_SHOWN that have ended, newest first; none before
    SIGN_OFF_FIRST_MONTH, nor before the ledger opened (reports.selectors.baseline_date)."""
    months, month = [], previous_month(today)
    earliest = max(first_month() or datetime.date.min, baseline_date().replace(day=1))
    for _step in range(settings.SIGN_OFF_MONTHS_SHOWN):
        if month < earliest:
            break
        months.append(month)
        month = previous_month(month)
    return months


class State:
    SIGNED = "signed"
    PENDING = "pending"
    OVERDUE = "overdue"


STATE_LABELS = {
    State.SIGNED: _("Signed and accepted"),
    State.PENDING: _("Sign-off pending"),
    State.OVERDUE: _("Sign-off overdue"),
}


def state_of(status: str | None, month: datetime.date, today: datetime.date) -> str:
    if status == SignOffStatus.ACCEPTED:
        return State.SIGNED
    return State.OVERDUE if today > due_date(month) else State.PENDING


# --- Who acts next ---------------------------------------------------------------------------------------------


def next_role(status: str | None, county: Division) -> str | None:
    """The role whose step it is: the county's (to sign), the prefecture's or the province's (to accept); None once
    the province has accepted."""
    if status is None or status == SignOffStatus.SENT_BACK:
        return Role.COUNTY
    if status == SignOffStatus.SIGNED and county.prefecture_id is not None:
        return Role.PREFECTURE
    if status in (SignOffStatus.SIGNED, SignOffStatus.PREFECTURE_ACCEPTED):
        return Role.PROVINCE
    return None


def acts_for(user, role: str | None, county: Division) -> bool:
    """Whether `user` takes the step of `role` for `county`: its own official, or staff of its prefecture or
    province."""
    if role is None or not getattr(user, "is_authenticated", False) or user.role != role:
        return False
    area = {Role.COUNTY: county.pk, Role.PREFECTURE: county.prefecture_id, Role.PROVINCE: county.province_id}
    return user.division_id is not None and user.division_id == area[role]


WAITING_FOR = {
    Role.COUNTY: _("Waiting for the county to sign"),
    Role.PREFECTURE: _("Signed; waiting for the prefecture"),
    Role.PROVINCE: _("Waiting for the province"),
}


def stage_label(status: str | None, county: Division):
    if status == SignOffStatus.ACCEPTED:
        return SignOffStatus.ACCEPTED.label
    if status == SignOffStatus.SENT_BACK:
        return _("Sent back; waiting for the county to sign again")
    return WAITING_FOR[next_role(status, county)]


# --- The figures -----------------------------------------------------------------------------------------------


def figures_as_stored(figures: PeriodFigures) -> dict:
    """A month's figures as a sign-off keeps them."""
    return {
        "open_count": figures.open_count,
        "new_count": figures.new_count,
        "returned_count": figures.returned_count,
        "closed_count": figures.closed_count,
        "open_poor": figures.open_poor,
        "reasons": dict(figures.reasons),
    }


@dataclass(frozen=True)
class FigureRow:
    label: str
    signed: int | None
    now: int | None

    @property
    def difference(self) -> int | None:
        if self.signed is None or self.now is None:
            return None
        return self.now - self.signed


def figure_rows(signed: dict | None, now: dict | None) -> list[FigureRow]:
    """The month's figures line by line: as signed, and as the totals publish them now."""
    from students.choices import Reason

    def value(figures: dict | None, key: str, reason: str | None = None) -> int | None:
        if figures is None:
            return None
        return figures["reasons"].get(reason, 0) if reason else figures[key]

    rows = [
        (_("Open at the end of the month"), "open_count"),
        (_("Open, registered-poor"), "open_poor"),
        (_("New dropouts in the month"), "new_count"),
        (_("Returned to school in the month"), "returned_count"),
        (_("Closed for another reason in the month"), "closed_count"),
    ]
    lines = [FigureRow(str(label), value(signed, key), value(now, key)) for label, key in rows]
    lines += [
        FigureRow(
            str(_("Open: %(reason)s") % {"reason": reason.label}),
            value(signed, "", reason.value),
            value(now, "", reason.value),
        )
        for reason in Reason
    ]
    return lines


# --- Corrections -----------------------------------------------------------------------------------------------

# Events that move the figures: a case opened, a case struck off or put back on the open ledger, the handover of an
# open case (the status stays, the county changes). A first visit (dropped out -> being persuaded), a retention
# check or the end of a returned episode on relapse (the new episode's opening counts) moves none.
MOVES_FIGURES = (
    Q(from_status="")
    | Q(from_status__in=OPEN_STATUSES) & ~Q(to_status__in=OPEN_STATUSES)
    | ~Q(from_status__in=OPEN_STATUSES) & ~Q(from_status="") & Q(to_status__in=OPEN_STATUSES)
    | Q(from_status=F("to_status"), to_status__in=OPEN_STATUSES)
)


def _held_by(county_id: int) -> Q:
    """Events of cases the county held on the event's date: its cases but those handed to it after that day, and
    cases it handed to another county on or after that day."""
    accepted = Handover.objects.filter(case=OuterRef("case_id"), status=HandoverStatus.ACCEPTED)
    came_later = accepted.filter(to_county_id=county_id, handed_over_on__gt=OuterRef("effective_date"))
    left_later = accepted.filter(from_county_id=county_id, handed_over_on__gte=OuterRef("effective_date"))
    return Q(case__county_id=county_id) & ~Exists(came_later) | Exists(left_later)


def correction_events(user, county: Division, start: datetime.date, end: datetime.date) -> QuerySet[CaseEvent]:
    """Events that move the county's figures dated from `start` to `end`, of the cases the user may see."""
    return (
        CaseEvent.objects.filter(case__in=cases_visible_to(user), effective_date__gte=start, effective_date__lte=end)
        .filter(MOVES_FIGURES)
        .filter(_held_by(county.pk))
    )


@dataclass(frozen=True)
class Correction:
    event: CaseEvent
    what: str
    child: str  # the child's name as the disclosure rule lets the user see it
    by: str


def _what(event: CaseEvent) -> str:
    if not event.from_status:
        return str(_("New case"))
    if event.from_status == event.to_status:
        return str(_("Handed over"))
    return str(event.get_to_status_display())


def user_name(user) -> str:
    if user is None:
        return str(_("the system"))
    return user.get_full_name() or user.username


def corrections(user, sign_off: MonthSignOff) -> list[Correction]:
    """The events recorded after the county signed that change the month's figures, oldest first."""
    events = (
        correction_events(user, sign_off.county, sign_off.month, month_end(sign_off.month))
        .filter(recorded_at__gt=sign_off.signed_at)
        .select_related("case__student", "recorded_by")
        .order_by("recorded_at", "pk")
    )
    disclosure = disclosure_for(user)
    return [
        Correction(
            event=event,
            what=_what(event),
            child=disclosure.name(event.case.student.name),
            by=user_name(event.recorded_by),
        )
        for event in events
    ]


def correction_counts(user, county: Division, sign_offs: list[MonthSignOff]) -> dict[datetime.date, int]:
    """For each signed month, how many corrections were recorded after its signature: one query."""
    if not sign_offs:
        return {}
    signed_at = {sign_off.month: sign_off.signed_at for sign_off in sign_offs}
    start, end = min(signed_at), month_end(max(signed_at))
    rows = (
        correction_events(user, county, start, end)
        .filter(recorded_at__gt=min(signed_at.values()))
        .values_list("effective_date", "recorded_at")
    )
    counts = dict.fromkeys(signed_at, 0)
    for day, recorded_at in rows:
        month = day.replace(day=1)
        if month in signed_at and recorded_at > signed_at[month]:
            counts[month] += 1
    return counts


# --- The dashboards' panel --------------------------------------------------------------------------------------


@dataclass
class AreaRow:
    """Signed, pending and overdue county-months of one area over the months shown."""

    division: Division | None
    signed: int = 0
    pending: int = 0
    overdue: int = 0
    url: str | None = None

    @property
    def total(self) -> int:
        return self.signed + self.pending + self.overdue


@dataclass
class MonthRow:
    """One month of a county: where its sign-off stands and its figure, as signed (or as published, unsigned)."""

    month: datetime.date
    sign_off: MonthSignOff | None
    state: str
    stage: str
    due: datetime.date
    open_count: int | None
    returned_count: int | None
    corrections: int = 0
    state_label: str = ""


@dataclass
class Panel:
    months: list[datetime.date]
    area_row: AreaRow
    rows: list[AreaRow] = field(default_factory=list)
    month_rows: list[MonthRow] = field(default_factory=list)
    waiting: list[MonthSignOff] = field(default_factory=list)
    due_day: int = 15


def _counties_below(area: Area, today: datetime.date) -> tuple[QuerySet[Division], dict]:
    """The counties of an area above a county, each annotated with the area one level down it belongs to (`key`,
    `key_name`, `key_code`): provinces for the nation; prefectures, and the counties it runs directly, for a
    province; counties for a prefecture and for a group (its members today)."""
    counties = Division.objects.counties()
    if area.level == AreaLevel.NATION:
        return counties, {"key": F("province_id"), "key_name": F("province__name"), "key_code": F("province__code")}
    itself = {"key": F("id"), "key_name": F("name"), "key_code": F("code")}
    if area.group is not None:
        return counties.filter(pk__in=area.member_ids(today)), itself
    if area.division.level == Level.PROVINCE:
        return counties.filter(province_id=area.division.pk), {
            "key": Coalesce("prefecture_id", "id"),
            "key_name": Coalesce("prefecture__name", "name"),
            "key_code": Coalesce("prefecture__code", "code"),
        }
    return counties.filter(prefecture_id=area.division.pk), itself


# Staff wait on the steps of their own level: how many are listed at once.
WAITING_LIMIT = 20


def waiting_for(user, counties: QuerySet[Division]) -> QuerySet[MonthSignOff]:
    """Signed months of these counties whose next step is the user's (prefecture or province staff)."""
    if user.role == Role.PREFECTURE:
        steps = Q(status=SignOffStatus.SIGNED, county__prefecture_id=user.division_id)
    elif user.role == Role.PROVINCE:
        steps = Q(county__province_id=user.division_id) & (
            Q(status=SignOffStatus.PREFECTURE_ACCEPTED)
            | Q(status=SignOffStatus.SIGNED, county__prefecture__isnull=True)
        )
    else:
        return MonthSignOff.objects.none()
    return (
        MonthSignOff.objects.filter(steps, county__in=counties)
        .select_related("county")
        .order_by("month", "county__code")
    )


def sign_off_panel(user, area: Area, today: datetime.date) -> Panel | None:
    """The dashboards' sign-off panel over the months shown: for an area above a county, per area one level down,
    the county-months signed, pending and overdue (one query), and the months waiting for the user's acceptance;
    for a county, each month with its stage and its figures as signed. None for principals, who take no part."""
    scope = scope_for(user)
    if scope.school is not None or (scope.division is None and not scope.everything):
        return None
    months = months_shown(today)
    panel = Panel(months=months, area_row=AreaRow(division=area.division), due_day=settings.SIGN_OFF_DUE_DAY)
    if not months:
        return panel
    if area.is_county:
        panel.month_rows = county_months(user, area.division, months, today)
        for row in panel.month_rows:
            setattr(panel.area_row, row.state, getattr(panel.area_row, row.state) + 1)
        return panel
    counties, keys = _counties_below(area, today)
    accepted = MonthSignOff.objects.filter(county=OuterRef("pk"), status=SignOffStatus.ACCEPTED)
    per_month = {f"m{n}": Count("pk", filter=Exists(accepted.filter(month=month))) for n, month in enumerate(months)}
    rows = counties.annotate(**keys).values("key", "key_name", "key_code").annotate(n=Count("pk"), **per_month)
    for values in rows:
        row = AreaRow(division=Division(pk=values["key"], name=values["key_name"], code=values["key_code"]))
        row.url = reverse("reports:division", args=[values["key_code"]])
        for n, month in enumerate(months):
            done = values[f"m{n}"]
            row.signed += done
            if today > due_date(month):
                row.overdue += values["n"] - done
            else:
                row.pending += values["n"] - done
        panel.rows.append(row)
        for state in (State.SIGNED, State.PENDING, State.OVERDUE):
            setattr(panel.area_row, state, getattr(panel.area_row, state) + getattr(row, state))
    panel.rows.sort(key=lambda row: (-row.overdue, -row.pending, row.division.code))
    panel.waiting = list(waiting_for(user, counties)[:WAITING_LIMIT])
    return panel


def county_months(user, county: Division, months: list[datetime.date], today: datetime.date) -> list[MonthRow]:
    """Each month of the county: its sign-off's stage, its figures as signed (none for a month not signed, or sent
    back), and the corrections recorded since. Two queries."""
    sign_offs = {row.month: row for row in MonthSignOff.objects.filter(county=county, month__in=months)}
    signed = [row for row in sign_offs.values() if row.status != SignOffStatus.SENT_BACK]
    counts = correction_counts(user, county, signed)
    rows = []
    for month in months:
        sign_off = sign_offs.get(month)
        status = sign_off.status if sign_off else None
        figures = sign_off.figures if sign_off is not None and status != SignOffStatus.SENT_BACK else None
        state = state_of(status, month, today)
        rows.append(
            MonthRow(
                month=month,
                sign_off=sign_off,
                state=state,
                state_label=str(STATE_LABELS[state]),
                stage=str(stage_label(status, county)),
                due=due_date(month),
                open_count=figures["open_count"] if figures else None,
                returned_count=figures["returned_count"] if figures else None,
                corrections=counts.get(month, 0),
            )
        )
    return rows
