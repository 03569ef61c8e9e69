"""Build the demo ledger over the real divisions: the service behind `manage.py seed_demo`."""

import datetime
import io
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from counties.models import CountyGroup, Division, School, User
from counties.services import county_groups_load, divisions_load
from reports.demo import sign_off_demo_months
from reports.models import DailyTotal, MonthSignOff, SignOffStep, TotalsRun
from rosters.demo import demo_rosters_add
from rosters.models import RosterComparison
from students.duplicates import duplicates_find
from students.models import (
    CaseEvent,
    ClosureReason,
    DropoutCase,
    IdentifierAccess,
    LedgerCorrection,
    PersuasionVisit,
    ResponsiblePerson,
    Student,
)
from verification.demo import demo_spot_checks_add
from verification.models import SpotCheckRound

from . import sang
from .bulk import constraints_deferred
from .calibration import GROUP_SLUG, JUNE_2020, STRATA, baseline_date, stratum_curves
from .current import CurrentSetError, anchor_problems, current_cases_add, current_set_present
from .episodes import FixedCase, _Weighted, simulate
from .ledger import SCHOOL_COLUMNS, Copier, County, LedgerWriter, Progress, check_columns, school_rows
from .places import RANGTANG, SHANGDUKE_SCHOOL, county_places, county_weight
from .users import PRINCIPAL_OF_SHANGDUKE, demo_users_create

# The smallest ledger that still holds the real case and every stratum.
MIN_CASES = 100
# At most this many cases per county on average when the ledger is too small to reach every county,
# so that a small demo still has a few schools in each county it uses.
CASES_PER_COUNTY_FLOOR = 9
CASES_PER_SCHOOL = 3

LEDGER_MODELS = (Student, DropoutCase, CaseEvent, PersuasionVisit, ResponsiblePerson)
# Tables emptied by a reset: the ledger, what hangs off it, and the totals computed from it.
RESET_MODELS = (
    IdentifierAccess,
    ResponsiblePerson,
    PersuasionVisit,
    CaseEvent,
    DropoutCase,
    Student,
    LedgerCorrection,
    DailyTotal,
    TotalsRun,
    SignOffStep,
    MonthSignOff,
    RosterComparison,
    SpotCheckRound,
)

GROUP_STRATA = frozenset({STRATA.index("group_poor"), STRATA.index("group_other")})
POOR_STRATA = frozenset({STRATA.index("group_poor"), STRATA.index("rest_poor")})
SANG_STRATUM = STRATA.index("rest_other")


class SeedError(Exception):
    pass


@dataclass
class SeedResult:
    skipped: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # Cases of the current working set added (see students.demo.current).
    current: int = 0


def _quiet(stage: str, done: int, total: int) -> None:
    pass


def ledger_is_empty() -> bool:
    return not DropoutCase.objects.exists() and not Student.objects.exists()


def places_ensure(progress: Progress = _quiet) -> None:
    """Load the real divisions and the shipped county groups if they are not there yet."""
    if not Division.objects.counties().exists():
        divisions_load()
        progress("divisions loaded", 1, 1)
    if not CountyGroup.objects.filter(slug=GROUP_SLUG).exists():
        county_groups_load()
        progress("county groups loaded", 1, 1)


def ledger_reset() -> None:
    """Empty the ledger (and the totals computed from it) and remove the schools nobody signs in for.

    TRUNCATE does not fire the row-level trigger that keeps case events append-only: wiping the demo
    ledger wholesale is the one intended exception.
    """
    tables = ", ".join(model._meta.db_table for model in RESET_MODELS)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    kept = User.objects.filter(school__isnull=False).values("school_id")
    School.objects.filter(counterpart__isnull=False).exclude(pk__in=kept).update(counterpart=None)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {School._meta.db_table} WHERE id NOT IN "
            f"(SELECT school_id FROM {User._meta.db_table} WHERE school_id IS NOT NULL)"
        )


def _counties(cases: int, rng: random.Random) -> tuple[list[County], list[int], list[int]]:
    """The counties the ledger uses, and the positions of the group's and of the others among them."""
    baseline = baseline_date()
    group = CountyGroup.objects.filter(slug=GROUP_SLUG).first()
    if group is None:
        raise SeedError(_("The county group “%(slug)s” is missing.") % {"slug": GROUP_SLUG})
    on_baseline = set(group.counties_on(baseline).values_list("pk", flat=True))
    in_june = set(group.counties_on(JUNE_2020).values_list("pk", flat=True))
    # Cases of the group's strata lie in counties that belong to it on both published dates; the others
    # lie in counties that belong to it on neither, so each date's group count is exactly its strata.
    group_ids = on_baseline & in_june
    if not group_ids:
        raise SeedError(
            _("The county group “%(slug)s” has no county on both %(first)s and %(second)s.")
            % {"slug": GROUP_SLUG, "first": baseline, "second": JUNE_2020}
        )
    everything = list(
        Division.objects.counties()
        .select_related("province", "prefecture")
        .order_by("code")
        .values_list("pk", "code", "name", "kind", "province__name", "prefecture__name")
    )
    others = [row for row in everything if row[0] not in on_baseline | in_june]
    limit = max(1, math.ceil(cases / CASES_PER_COUNTY_FLOOR))
    if len(others) > limit:
        # A weighted sample without replacement (Efraimidis–Spirakis), the real case's county always in.
        keyed = sorted(
            others, key=lambda row: (row[1] != RANGTANG, -(rng.random() ** (1 / county_weight(row[1], row[3]))))
        )
        chosen = {row[0] for row in keyed[:limit]}
        others = [row for row in others if row[0] in chosen]
    if not any(row[1] == RANGTANG for row in others):
        raise SeedError(
            _("Rangtang County (%(code)s) is not loaded, or it is in the group “%(slug)s”.")
            % {"code": RANGTANG, "slug": GROUP_SLUG}
        )
    rows = sorted([row for row in everything if row[0] in group_ids] + others, key=lambda row: row[1])
    counties = [
        County(id=pk, code=code, name=name, kind=kind or "", province=province or "", prefecture=prefecture or "")
        for pk, code, name, kind, province, prefecture in rows
    ]
    in_group = [n for n, row in enumerate(rows) if row[0] in group_ids]
    outside = [n for n, row in enumerate(rows) if row[0] not in group_ids]
    return counties, in_group, outside


def seed_demo(
    *,
    cases: int,
    seed: int,
    reset: bool = False,
    if_empty: bool = False,
    today: datetime.date | None = None,
    progress: Progress = _quiet,
) -> SeedResult:
    """Build a deterministic demo ledger of `cases` open cases at the baseline, calibrated to the published figures.

    With `today`, a current working set of cases in the months before that day is added on top of the
    calibrated history (students.demo.current), so the demo users have open cases to work on.
    The same (cases, seed, today) gives the same rows. Refuses to write into a ledger that has cases unless
    `reset` (start again) or `if_empty` (then it leaves the ledger as it is and says so; it only adds the
    working set if the ledger has none yet).
    """
    if cases < MIN_CASES:
        raise SeedError(_("A demo ledger needs at least %(count)d cases.") % {"count": MIN_CASES})
    if today is not None and anchor_problems(today):
        raise SeedError(" ".join(anchor_problems(today)))
    started = time.monotonic()
    check_columns()
    if if_empty and not reset and not ledger_is_empty():
        added = 0
        if today is not None and not current_set_present():
            added = _current_add(seed, today, progress)
        return SeedResult(skipped=True, current=added, seconds=time.monotonic() - started)
    places_ensure(progress)

    curves = stratum_curves(cases)
    counties, in_group, outside = _counties(cases, random.Random(f"{seed}:counties"))
    draws = {}
    for stratum in range(len(STRATA)):
        positions = in_group if stratum in GROUP_STRATA else outside
        draws[stratum] = _Weighted(positions, [county_weight(counties[p].code, counties[p].kind) for p in positions])
    rangtang = next(n for n, county in enumerate(counties) if county.code == RANGTANG)
    real_case = FixedCase(SANG_STRATUM, rangtang, sang.REASON, sang.DROPOUT_DATE, sang.RETURNED_ON)
    episodes = simulate(
        curves=dict(enumerate(curves[name] for name in STRATA)),
        counties=draws,
        poor_strata=POOR_STRATA,
        rng=random.Random(f"{seed}:episodes"),
        fixed=[real_case],
    )
    progress(f"episodes calibrated ({len(episodes):,} cases)", 1, 1)

    per_county = Counter(episodes.county)
    for position, county in enumerate(counties):
        schools = round(per_county[position] / CASES_PER_SCHOOL)
        county.places = county_places(county.code, county.name, schools, random.Random(f"{seed}:{county.code}"))
    progress(f"places laid out ({len(counties):,} counties)", 1, 1)

    with transaction.atomic():
        if reset:
            ledger_reset()
            progress("previous ledger removed", 1, 1)
        if not ledger_is_empty():
            if if_empty:
                return SeedResult(skipped=True)
            raise SeedError(_("The ledger already has cases: use --reset to replace them, or --if-empty to keep them."))
        with connection.cursor() as cursor:
            # Run the checks the reset queued now: a table with pending checks cannot be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            tables = [model._meta.db_table for model in (School, *LEDGER_MODELS)]
            with constraints_deferred(cursor, tables):
                schools, counts = _load(cursor, counties, episodes, seed, reset, progress)
            progress("indexes and foreign keys checked", 1, 1)
    progress("committed", 1, 1)
    with connection.cursor() as cursor:
        for model in (School, *LEDGER_MODELS):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    progress("analysed", 1, 1)
    counts = {"schools": schools, **{model._meta.model_name: counts[model] for model in LEDGER_MODELS}}
    added = _current_add(seed, today, progress) if today is not None else 0
    return SeedResult(counts=counts, seconds=time.monotonic() - started, current=added)


def _current_add(seed: int, today: datetime.date, progress: Progress) -> int:
    try:
        added = len(current_cases_add(seed=seed, today=today, progress=progress))
    except CurrentSetError as error:
        raise SeedError(str(error)) from None
    # The working set holds children entered twice: the search proposes them, so the duplicates screen has pairs.
    found = duplicates_find()
    progress(f"duplicate candidates ({found})", 1, 1)
    progress(f"signed months ({sign_off_demo_months(today=today)})", 1, 1)
    demo_rosters_add(seed=seed, today=today, progress=progress)
    progress(f"spot-check round in Aba ({demo_spot_checks_add(today)} cases)", 1, 1)
    return added


def _load(cursor, counties: list[County], episodes, seed: int, reset: bool, progress: Progress):
    """COPY the schools, create the demo users, COPY the ledger. Returns the new schools and the row counts."""
    existing = dict(School.objects.values_list("code", "pk"))
    first_id = (School.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
    lines = school_rows(counties, existing, first_id)
    if lines:
        cursor.copy_expert(
            f"COPY {School._meta.db_table} ({', '.join(SCHOOL_COLUMNS)}) FROM STDIN",
            io.StringIO("\n".join(lines) + "\n"),
        )
    _sequences_reset(cursor, [School])
    progress("schools", len(lines), len(lines))

    users = demo_users_create(reset_passwords=reset)
    writer = LedgerWriter(
        episodes=episodes,
        counties=counties,
        poor_strata=POOR_STRATA,
        closure_ids=dict(ClosureReason.objects.values_list("code", "pk")),
        rng=random.Random(f"{seed}:rows"),
        sang_recorder_id=users["principal"].pk,
        key_offsets={model: model.objects.aggregate(top=Max("pk"))["top"] or 0 for model in LEDGER_MODELS},
    )
    # The people of the real case: her principal is the demo principal.
    rangtang = next(county for county in counties if county.code == RANGTANG)
    shangduke = rangtang.school_ids[
        next(n for n, school in enumerate(rangtang.places.schools) if school.name == SHANGDUKE_SCHOOL)
    ]
    writer.staff[("principal", shangduke)] = (PRINCIPAL_OF_SHANGDUKE, "13881740236")
    writer.staff[("teacher", shangduke, sang.GRADE)] = (sang.CLASS_TEACHER, "13990412785")
    writer.staff[("village", RANGTANG, sang.TOWNSHIP, sang.VILLAGE)] = (sang.VILLAGE_CADRE, "13568255019")

    copier = Copier(cursor.cursor, LEDGER_MODELS)
    try:
        writer.write(copier, progress)
        copier.close()
    except BaseException:
        copier.abandon()
        raise
    _sequences_reset(cursor, LEDGER_MODELS)
    progress("rows sent", 1, 1)
    return len(lines), copier.counts


def _sequences_reset(cursor, models) -> None:
    for statement in connection.ops.sequence_reset_sql(no_style(), list(models)):
        cursor.execute(statement)


def open_counts(day: datetime.date) -> dict[str, int]:
    """The ledger's open cases at the end of `day`: national, in the 52-county group as of that day, poor."""
    is_open = Q(dropout_date__lte=day) & (Q(struck_off_on__isnull=True) | Q(struck_off_on__gt=day))
    open_cases = DropoutCase.objects.filter(is_open)
    group = CountyGroup.objects.filter(slug=GROUP_SLUG).first()
    return {
        "national": open_cases.count(),
        "group": open_cases.filter(county__in=group.counties_on(day)).count() if group else 0,
        "poor": open_cases.filter(student__registered_poor=True).count(),
    }
