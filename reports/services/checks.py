"""Checking and reading the published totals for one day, for operators (check_totals, show_totals).

`derive_day` re-derives a day's figures from the case events, independently of the dates the totals
are computed from: a case is open at the end of day d when its last event effective on or before d
(the latest recorded, among events of the same day) leaves it dropped out or being persuaded; a new
dropout is a case's first event, a return an event to "returned", a closure an event to "closed". A case
handed over between counties counts in the county that held it at the end of day d: the receiving county of
its last accepted handover dated on or before d, else the giving county of its first one, else its county.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.utils.translation import gettext as _

from counties.models import CountyGroup, CountyGroupMembership, Division, Level
from students.choices import HandoverStatus, Status

from ..models import FIGURE_COLUMNS, AreaLevel, DailyTotal
from .sql import BREAKDOWNS, OPEN
from .totals import baseline_date

ACTIVITY = ("new_count", "returned_count", "closed_count")
SPARSE_LEVELS = (AreaLevel.COUNTY, AreaLevel.PREFECTURE)

# A handover of a case already struck off moves the child, not the figures: it is not a move of `handed_to`,
# and until its day `not_yet_handed` still names the old county, which counted the case while it was open.
MOVED = """JOIN students_dropoutcase moved ON moved.id = h.case_id
        AND (moved.struck_off_on IS NULL OR moved.struck_off_on >= h.handed_over_on)"""
# The county holding each handed-over case at the end of %(day)s, read from its accepted handovers.
HELD_ON_DAY = f"""
    handed_to AS (
        SELECT DISTINCT ON (h.case_id) h.case_id, h.to_county_id AS county_id
        FROM students_handover h {MOVED}
        WHERE h.status = '{HandoverStatus.ACCEPTED.value}' AND h.handed_over_on <= %(day)s
        ORDER BY h.case_id, h.handed_over_on DESC, h.id DESC
    ),
    not_yet_handed AS (
        SELECT DISTINCT ON (h.case_id) h.case_id, h.from_county_id AS county_id
        FROM students_handover h
        WHERE h.status = '{HandoverStatus.ACCEPTED.value}' AND h.handed_over_on > %(day)s
        ORDER BY h.case_id, h.handed_over_on, h.id
    )"""
HOLDER = "COALESCE(handed_to.county_id, not_yet_handed.county_id, c.county_id)"
HOLDER_JOINS = """
    LEFT JOIN handed_to ON handed_to.case_id = c.id
    LEFT JOIN not_yet_handed ON not_yet_handed.case_id = c.id"""

DERIVE_OPEN = f"""
    WITH last AS (
        SELECT DISTINCT ON (e.case_id) e.case_id, e.to_status
        FROM students_caseevent e
        WHERE e.effective_date <= %(day)s
        ORDER BY e.case_id, e.effective_date DESC, e.id DESC
    ),
    {HELD_ON_DAY}
    SELECT {HOLDER}, {", ".join(f"sum({expr})" for expr in BREAKDOWNS.values())}
    FROM last
    JOIN students_dropoutcase c ON c.id = last.case_id
    JOIN students_student s ON s.id = c.student_id
    {HOLDER_JOINS}
    WHERE last.to_status IN ({OPEN})
    GROUP BY 1
"""

DERIVE_ACTIVITY = f"""
    WITH {HELD_ON_DAY}
    -- A handover's event keeps the status (from = to): it is neither a return nor a closure.
    SELECT {HOLDER},
           count(*) FILTER (WHERE e.from_status = ''),
           count(*) FILTER (WHERE e.to_status = '{Status.RETURNED.value}' AND e.from_status <> e.to_status),
           count(*) FILTER (WHERE e.to_status = '{Status.CLOSED.value}' AND e.from_status <> e.to_status)
    FROM students_caseevent e
    JOIN students_dropoutcase c ON c.id = e.case_id
    {HOLDER_JOINS}
    WHERE e.effective_date = %(day)s
    GROUP BY 1
"""

Key = tuple[str, int | None]  # (level, division or group id; None for the nation)


def _county_figures(day: datetime.date) -> dict[int, dict[str, int]]:
    figures: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURE_COLUMNS, 0))
    with connection.cursor() as cursor:
        cursor.execute(DERIVE_OPEN, {"day": day})
        for county_id, *values in cursor.fetchall():
            figures[county_id].update(zip(BREAKDOWNS, values, strict=True))
        cursor.execute(DERIVE_ACTIVITY, {"day": day})
        for county_id, *values in cursor.fetchall():
            figures[county_id].update(zip(ACTIVITY, values, strict=True))
    return figures


def derive_day(day: datetime.date) -> dict[Key, dict[str, int]]:
    """Every area's figures for `day`, from the events: counties, prefectures, provinces, nation, groups.

    Counties and prefectures with nothing open and no activity are left out, as in the totals.
    """
    counties = _county_figures(day)
    baselines = {county: figures["open_count"] for county, figures in _county_figures(baseline_date()).items()}
    places = {
        pk: (prefecture, province)
        for pk, prefecture, province in Division.objects.filter(level=Level.COUNTY).values_list(
            "pk", "prefecture_id", "province_id"
        )
    }
    members: dict[int, set[int]] = defaultdict(set)
    for group_id, county_id in CountyGroupMembership.objects.active_on(day).values_list("group_id", "county_id"):
        members[group_id].add(county_id)

    derived: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURE_COLUMNS, 0))
    for pk in Division.objects.provinces().values_list("pk", flat=True):
        derived[(AreaLevel.PROVINCE, pk)]
    derived[(AreaLevel.NATION, None)]
    for pk in CountyGroup.objects.values_list("pk", flat=True):
        derived[(AreaLevel.GROUP, pk)]

    def add(key: Key, figures: dict[str, int]) -> None:
        target = derived[key]
        for name in FIGURE_COLUMNS:
            if name != "baseline_open":
                target[name] += figures[name]

    for county, figures in counties.items():
        if not any(figures[name] for name in ("open_count", *ACTIVITY)):
            continue
        prefecture, province = places[county]
        add((AreaLevel.COUNTY, county), figures)
        if prefecture is not None:
            add((AreaLevel.PREFECTURE, prefecture), figures)
        add((AreaLevel.PROVINCE, province), figures)
        add((AreaLevel.NATION, None), figures)
        for group_id, group_counties in members.items():
            if county in group_counties:
                add((AreaLevel.GROUP, group_id), figures)

    area_baselines: dict[Key, int] = defaultdict(int)
    for county, count in baselines.items():
        prefecture, province = places[county]
        area_baselines[(AreaLevel.COUNTY, county)] += count
        area_baselines[(AreaLevel.PREFECTURE, prefecture)] += count
        area_baselines[(AreaLevel.PROVINCE, province)] += count
        area_baselines[(AreaLevel.NATION, None)] += count
        for group_id, group_counties in members.items():
            if county in group_counties:
                area_baselines[(AreaLevel.GROUP, group_id)] += count
    for key, figures in derived.items():
        figures["baseline_open"] = area_baselines.get(key, 0)
    return dict(derived)


def stored_day(day: datetime.date) -> dict[Key, dict[str, int]]:
    """Every published row of `day`, keyed like derive_day."""
    rows = DailyTotal.objects.filter(day=day).values("level", "division_id", "group_id", *FIGURE_COLUMNS)
    return {
        (row["level"], row["division_id"] or row["group_id"]): {name: row[name] for name in FIGURE_COLUMNS}
        for row in rows
    }


@dataclass(frozen=True)
class Difference:
    area: str
    figure: str
    stored: int | None
    derived: int

    def __str__(self) -> str:
        stored = _("no row") if self.stored is None else self.stored
        return _("%(area)s: %(figure)s stored %(stored)s, derived %(derived)s") % {
            "area": self.area,
            "figure": self.figure,
            "stored": stored,
            "derived": self.derived,
        }


def compare_day(day: datetime.date) -> list[Difference]:
    """Every difference between the published figures of `day` and those derived from the events."""
    derived, stored = derive_day(day), stored_day(day)
    differences = []
    for key in sorted(set(derived) | set(stored), key=lambda k: (k[0], k[1] or 0)):
        level = key[0]
        mine, theirs = stored.get(key), derived.get(key)
        if theirs is None:
            theirs = dict.fromkeys(FIGURE_COLUMNS, 0)
            if mine is not None:
                theirs["baseline_open"] = mine["baseline_open"]
        if mine is None:
            if level not in SPARSE_LEVELS:
                differences.append(Difference(area_label(key), "open_count", None, theirs["open_count"]))
                continue
            mine = dict.fromkeys(FIGURE_COLUMNS, 0)
            mine["baseline_open"] = theirs["baseline_open"]
        for name in FIGURE_COLUMNS:
            if mine[name] != theirs[name]:
                differences.append(Difference(area_label(key), name, mine[name], theirs[name]))
    return differences


def area_label(key: Key) -> str:
    level, pk = key
    if level == AreaLevel.NATION:
        return str(_("Nation"))
    if level == AreaLevel.GROUP:
        group = CountyGroup.objects.filter(pk=pk).first()
        return f"{_('group')} {group.slug if group else pk}"
    division = Division.objects.filter(pk=pk).first()
    return f"{division.code} {division.name}" if division else f"{level} {pk}"


def last_day() -> datetime.date | None:
    """The last day with published national totals."""
    return DailyTotal.objects.filter(level=AreaLevel.NATION).order_by("-day").values_list("day", flat=True).first()


def stored_figures(day: datetime.date, *, division: Division | None = None, group: CountyGroup | None = None):
    """The published figures of one area on `day` as (name, value) pairs, or None when nothing is published.

    A county or prefecture without a row that day has all counts zero; its baseline is read from
    its row on the baseline date.
    """
    rows = DailyTotal.objects.filter(day=day)
    if division is not None:
        row = rows.filter(division=division).first()
    elif group is not None:
        row = rows.filter(group=group).first()
    else:
        row = rows.filter(level=AreaLevel.NATION).first()
    if row is None:
        if division is None or division.level not in SPARSE_LEVELS or last_day() is None or day > last_day():
            return None
        base = DailyTotal.objects.filter(division=division, day=baseline_date()).first()
        row = DailyTotal(day=day, level=division.level, division=division, baseline_open=base.open_count if base else 0)
    decrease = row.baseline_open - row.open_count
    percent = f"{row.decrease_percent:.1f}" if row.decrease_percent is not None else "-"
    pairs = [
        ("open", row.open_count),
        ("new", row.new_count),
        ("returned", row.returned_count),
        ("closed", row.closed_count),
        ("baseline", row.baseline_open),
        ("decrease", decrease),
        ("decrease_percent", percent),
    ]
    breakdowns = [name for name in FIGURE_COLUMNS if name.startswith("open_") and name != "open_count"]
    pairs += [(name, getattr(row, name)) for name in breakdowns]
    return pairs
