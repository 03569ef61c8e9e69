"""The roster comparison of a county (rosters): the whole run, and its joins against a hand-written SQL join.

Rosters of a generated county (rosters.generated: the household register, the student registry, the attendance
and the poor-household rosters, as CSV) are made for the demo county, around its open cases. Two figures:
- the whole comparison (every roster read and checked, COPY into the staging table, the joins, the candidates
  written), which must take under a minute for 100,000 children;
- the comparison's joins over the staged rosters (rosters.comparing.candidates_find: every group's candidates
  found and written), beside one hand-written SQL statement counting the same candidates from the same staged
  rows: at most 2 times.
Every run is in a transaction rolled back, so the ledger stays as seeded.
"""

from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from counties.models import Role
from rosters import comparing
from rosters.generated import generated_county
from rosters.models import CandidateGroup, RosterComparison, RosterKind, RosterUpload
from rosters.reading import read_roster
from rosters.services import comparison_run
from students.choices import OPEN_STATUSES
from students.models import DropoutCase

from . import personas
from .results import Result, at_most
from .timing import measure

ROWS = comparing.ROWS


class RolledBack(Exception):
    """Raised to leave a transaction without keeping its writes."""


def _rolled_back(action):
    outcome = []
    try:
        with transaction.atomic():
            outcome.append(action())
            raise RolledBack
    except RolledBack:
        pass
    return outcome[0]


def _same(t: str, s: str) -> tuple[str, str, str]:
    return (
        f"{t}.id_number = {s}.id_number",
        f"{t}.registry_number = {s}.registry_number",
        f"{t}.name_key = {s}.name_key AND {t}.birth_date = {s}.birth_date AND {t}.gender = {s}.gender"
        f" AND {s}.name_key <> '' AND ({s}.id_number IS NULL OR {t}.id_number IS NULL)"
        f" AND ({s}.registry_number IS NULL OR {t}.registry_number IS NULL)",
    )


def _none_in(kind: str, s: str = "s") -> str:
    return " AND ".join(
        f"NOT EXISTS (SELECT 1 FROM {ROWS} t WHERE t.comparison_id = %(c)s AND t.kind = '{kind}' AND {rule})"
        for rule in _same("t", s)
    )


OPEN = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
NOT_OPEN_ANYWHERE = f"""
    NOT EXISTS (SELECT 1 FROM students_student st JOIN students_dropoutcase dc ON dc.student_id = st.id
                WHERE dc.status IN ({OPEN}) AND (st.id_number = s.id_number))
    AND NOT EXISTS (SELECT 1 FROM students_student st JOIN students_dropoutcase dc ON dc.student_id = st.id
                    WHERE dc.status IN ({OPEN}) AND (st.registry_number = s.registry_number))
"""
# The same four counts as the comparison's groups, written by hand in one statement.
HAND_WRITTEN = f"""
    SELECT
      (SELECT count(*) FROM {ROWS} s WHERE s.comparison_id = %(c)s AND s.kind = 'household'
         AND (s.birth_date IS NULL OR (s.birth_date <= %(as_of)s::date - interval '6 years'
                                       AND s.birth_date > %(as_of)s::date - interval '16 years'))
         AND {_none_in("registry")} AND {_none_in("ledger")} AND {NOT_OPEN_ANYWHERE}),
      (SELECT count(*) FROM {ROWS} s WHERE s.comparison_id = %(c)s AND s.kind = 'registry'
         AND {_none_in("attendance")} AND {_none_in("ledger")} AND {NOT_OPEN_ANYWHERE}),
      (SELECT count(DISTINCT staged) FROM (
         {
    " UNION ALL ".join(
        f"SELECT s.id AS staged FROM {ROWS} s JOIN {ROWS} t ON {rule}"
        f" WHERE s.comparison_id = %(c)s AND s.kind = 'ledger' AND NOT s.registered_poor"
        f" AND t.comparison_id = %(c)s AND t.kind = 'poor'"
        for rule in _same("t", "s")
    )
}) matched),
      (SELECT count(*) FROM {ROWS} s WHERE s.comparison_id = %(c)s AND s.kind = 'ledger' AND s.registered_poor
         AND {_none_in("poor")})
"""


def collect(options: dict) -> dict:
    children = int(options.get("children", 100_000))
    repeat = int(options.get("repeat", 3))
    warmup = int(options.get("warmup", 1))
    official = personas.persona(Role.COUNTY)
    county = official.division
    cases = list(
        DropoutCase.objects.filter(county=county, status__in=OPEN_STATUSES)
        .select_related("student", "school")
        .order_by("pk")
    )
    schools = list(county.schools.order_by("code").values_list("code", flat=True))
    as_of = timezone.localdate()
    print(f"    generating the rosters of {children:,} children of {county}", flush=True)
    generated = generated_county(
        county_code=county.code, school_codes=schools, children=children, as_of=as_of, open_cases=cases
    )
    # Stored as an upload stores them, once: every run reads the same files.
    stored = {
        kind: default_storage.save(f"rosters/bench/{kind}.csv", ContentFile(generated.csv_bytes(kind)))
        for kind in generated.rosters
    }
    paths = {kind: Path(default_storage.path(name)) for kind, name in stored.items()}
    outcomes: list[dict] = []

    def whole_run():
        def run():
            comparison = RosterComparison.objects.create(county=county, requested_by=official, as_of=as_of)
            for kind, name in stored.items():
                RosterUpload.objects.create(comparison=comparison, kind=kind, file=name, filename=paths[kind].name)
            comparison_run(comparison)
            problems = [problem for upload in comparison.uploads.all() for problem in upload.problems]
            return comparison.counts, problems

        counts, problems = _rolled_back(run)
        if problems or counts["candidates"].get(CandidateGroup.NEVER_ENROLLED) != 1:
            raise RuntimeError(f"the comparison did not find the planted children: {counts}; problems {problems[:3]}")
        outcomes.append(counts)
        print(f"      whole run: {counts}", flush=True)

    print("    reading the rosters once, for the joins", flush=True)
    entries = {kind: read_roster(path, kind=kind, filename=path.name).entries for kind, path in paths.items()}
    staged = {}

    def stage():
        comparison = RosterComparison.objects.create(county=county, requested_by=official, as_of=as_of)
        for kind, rows in entries.items():
            comparing.stage_roster(comparison.pk, kind, rows)
        comparing.stage_ledger(comparison.pk, county.pk)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {ROWS}")
        # The hand-written join reads the same name keys the comparison works out.
        comparing.name_keys_fill(comparison.pk, comparing.name_key_pairs(set(RosterKind.values)))
        staged["comparison"] = comparison

    def joins():
        with transaction.atomic():
            counts = comparing.candidates_find(staged["comparison"].pk, set(RosterKind.values), as_of)
            transaction.set_rollback(True)
        staged["counts"] = counts

    def hand_written():
        with connection.cursor() as cursor:
            cursor.execute(HAND_WRITTEN, {"c": staged["comparison"].pk, "as_of": as_of})
            staged["hand"] = cursor.fetchone()

    def joins_and_baseline():
        stage()
        timings = {
            "joins": measure(joins, repeat=repeat, warmup=warmup),
            "hand": measure(hand_written, repeat=repeat, warmup=warmup),
        }
        return timings

    print("    the joins, and the hand-written SQL join of the same staged rosters", flush=True)
    timings = _rolled_back(joins_and_baseline)
    expected = tuple(staged["counts"][group] for group in CandidateGroup.values)
    if expected != tuple(staged["hand"]):
        raise RuntimeError(f"the hand-written join counts {staged['hand']}, the comparison {expected}")
    print(f"      joins {timings['joins'].median:.2f} s, hand-written {timings['hand'].median:.2f} s", flush=True)
    print("    the whole comparison", flush=True)
    whole = measure(whole_run, repeat=repeat, warmup=0)
    print(f"      {whole.median:.2f} s", flush=True)
    for name in stored.values():
        default_storage.delete(name)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {ROWS}")
    return {
        "children": children,
        "county": county.name,
        "rows": outcomes[-1]["rows"],
        "candidates": outcomes[-1]["candidates"],
        "whole_seconds": whole.median,
        "joins_seconds": timings["joins"].median,
        "hand_seconds": timings["hand"].median,
        "whole_runs": list(whole.runs),
    }


def results(figures: dict) -> list[Result]:
    children = figures["children"]
    rows = sum(value for key, value in figures["rows"].items() if key != "ledger")
    return [
        Result(
            f"roster comparison of {children:,} children (read, check, COPY, compare)",
            figures["whole_seconds"],
            "s",
            "a minute",
            60.0,
            at_most(60.0, of="value"),
            note=f"{figures['county']}: {rows:,} roster rows, candidates {figures['candidates']}",
        ),
        Result(
            f"roster comparison's joins, {children:,} children",
            figures["joins_seconds"],
            "s",
            "a hand-written SQL join of the same staged rosters",
            figures["hand_seconds"],
            at_most(2.0),
            note="every group's candidates found and written, against one statement counting them",
        ),
    ]
