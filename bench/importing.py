"""The import of a county's ledger file against PostgreSQL COPY of the same rows into the same tables.

A valid file in the template's layout (Chinese headers, CSV in UTF-8) is generated for the demo county:
new children with valid ID and registry numbers, at the county's schools, dropped out this year. Each
import runs every check and writes in one transaction, which is then rolled back, so every run starts
from the same ledger; the COPY baseline loads the same children, cases and first events into the same
tables, in one transaction, also rolled back.
"""

import csv
import datetime
import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from counties.models import Role, School
from students.choices import Gender, Reason, Status
from students.identifiers import id_check_char
from students.importing import import_ledger
from students.ledger_columns import BY_KEY
from students.models import Student
from students.spreadsheets import write_xlsx

from . import personas
from .results import Result, at_least, at_most
from .timing import measure

DATA_DIR = Path(__file__).resolve().parent / "data"
FILE_COLUMNS = (
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "id_number",
    "registry_number",
    "hukou_place",
    "address",
    "guardian_name",
    "guardian_phone",
    "registered_poor",
    "left_behind",
    "school_code",
    "grade",
    "dropout_date",
    "reason",
    "status",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "明华强伟芳娜秀英敏静丽军平刚桂兰玉萍毅浩宇轩泽晨欣怡佳琪梓涵子豪俊杰雨婷诗雅"


class RolledBack(Exception):
    """Raised to leave a transaction without keeping its writes."""


def _taken_id_numbers(prefix: str) -> set[str]:
    return set(Student.objects.filter(id_number__startswith=prefix).values_list("id_number", flat=True))


def generate_rows(county, count: int, *, seed: int = 2019, today: datetime.date | None = None) -> list[dict]:
    """`count` new children of `county` who dropped out this year, each row valid for every import check."""
    today = today or timezone.localdate()
    schools = list(School.objects.filter(county=county).order_by("code").values_list("code", flat=True))
    if not schools:
        raise RuntimeError(f"{county} has no school to import cases into")
    taken = _taken_id_numbers(county.code)
    rng = random.Random(seed)
    start = datetime.date(today.year, 1, 1)
    span = max(1, (today - start).days)
    reasons = list(Reason.values)
    rows: list[dict] = []
    sequence = 0
    while len(rows) < count:
        sequence += 1
        grade = 1 + sequence % 9
        # Of the age for the grade; the three-digit sequence number of the ID makes each child distinct.
        birth = datetime.date(today.year - 7 - grade, 1, 1) + datetime.timedelta(days=(sequence // 9) % 365)
        number = (sequence // (9 * 365)) % 1000
        first17 = f"{county.code}{birth:%Y%m%d}{number:03d}"
        id_number = first17 + id_check_char(first17)
        if id_number in taken:
            continue
        rows.append(
            {
                "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                "gender": Gender.MALE if number % 2 else Gender.FEMALE,
                "ethnicity": "01",
                "birth_date": birth.isoformat(),
                "id_number": id_number,
                "registry_number": "G" + id_number,
                "hukou_place": county.name,
                "address": f"{county.name}{rng.randint(1, 99)}村",
                "guardian_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "guardian_phone": f"13{rng.randint(0, 999_999_999):09d}",
                "registered_poor": "否",
                "left_behind": "",
                "school_code": schools[sequence % len(schools)],
                "grade": str(grade),
                "dropout_date": (start + datetime.timedelta(days=sequence % span)).isoformat(),
                "reason": reasons[sequence % len(reasons)],
                "status": Status.DROPPED_OUT,
            }
        )
    return rows


def write_file(rows: list[dict], path: Path) -> Path:
    """The rows in the template's layout, with the template's Chinese headers: CSV, or XLSX for a .xlsx path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = [BY_KEY[key].zh for key in FILE_COLUMNS]
    if path.suffix == ".xlsx":
        with open(path, "wb") as handle:
            write_xlsx(handle, header, ([row[key] for key in FILE_COLUMNS] for row in rows), title="ledger")
        return path
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row[key] for key in FILE_COLUMNS])
    return path


CHECK_MEMORY_MB = 500  # what a worker may take to check a file of the benchmark's size


def check_memory(path: Path, county) -> dict:
    """The peak memory of checking the file, in a fresh process (bench.check_memory) against this database."""
    answer = subprocess.run(
        [sys.executable, "-m", "bench.check_memory", str(path), "--county", county.code],
        cwd=Path(__file__).resolve().parent.parent,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def _text(values) -> str:
    """One line of COPY's text format (the generated values hold no tab, newline or backslash)."""
    return "\t".join("\\N" if v is None else ("t" if v is True else "f" if v is False else str(v)) for v in values)


STUDENT_COPY = (
    "id, name, gender, ethnicity, birth_date, id_number, registry_number, hukou_place, address, guardian_name,"
    " guardian_phone, registered_poor, left_behind, migrant, orphan, unsupported, disability, created_at"
)
CASE_COPY = (
    "id, student_id, county_id, school_id, grade, dropout_date, reason, reason_detail, status, struck_off_on,"
    " returned_on, placement, closure_reason_id, previous_case_id, version, created_at, updated_at"
)
EVENT_COPY = (
    "case_id, from_status, to_status, effective_date, recorded_at, recorded_by_id, placement, closure_reason_id, note"
)


def copy_buffers(rows: list[dict], county, student_ids: list[int], case_ids: list[int]) -> dict[str, str]:
    """The same rows as COPY input for the three tables an import writes."""
    schools = dict(School.objects.filter(county=county).values_list("code", "pk"))
    now = timezone.now().isoformat()
    students, cases, events = [], [], []
    for row, student_id, case_id in zip(rows, student_ids, case_ids, strict=True):
        students.append(
            _text(
                (
                    student_id,
                    row["name"],
                    row["gender"],
                    row["ethnicity"],
                    row["birth_date"],
                    row["id_number"],
                    row["registry_number"],
                    row["hukou_place"],
                    row["address"],
                    row["guardian_name"],
                    row["guardian_phone"],
                    False,
                    "",
                    False,
                    False,
                    False,
                    "",
                    now,
                )
            )
        )
        cases.append(
            _text(
                (
                    case_id,
                    student_id,
                    county.pk,
                    schools[row["school_code"]],
                    row["grade"],
                    row["dropout_date"],
                    row["reason"],
                    "",
                    Status.DROPPED_OUT,
                    None,
                    None,
                    "",
                    None,
                    None,
                    1,
                    now,
                    now,
                )
            )
        )
        events.append(_text((case_id, "", Status.DROPPED_OUT, row["dropout_date"], now, None, "", None, "")))
    return {
        f"students_student ({STUDENT_COPY})": "\n".join(students) + "\n",
        f"students_dropoutcase ({CASE_COPY})": "\n".join(cases) + "\n",
        f"students_caseevent ({EVENT_COPY})": "\n".join(events) + "\n",
    }


def _reserve_ids(cursor, table: str, count: int) -> list[int]:
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
    return [row[0] for row in cursor.fetchall()]


def _rolled_back(action) -> object:
    """Run `action` in a transaction and undo its writes; what it returned."""
    outcome = []
    try:
        with transaction.atomic():
            outcome.append(action())
            raise RolledBack
    except RolledBack:
        pass
    return outcome[0]


def collect(options: dict) -> dict:
    count = int(options.get("rows", 100_000))
    repeat = int(options.get("repeat", 3))
    warmup = int(options.get("warmup", 1))
    official = personas.persona(Role.COUNTY)
    county = official.division
    print(f"    generating {count:,} rows for {county}", flush=True)
    rows = generate_rows(county, count)
    path = write_file(rows, DATA_DIR / f"import_{county.code}_{count}.csv")
    workbook = write_file(rows, DATA_DIR / f"import_{county.code}_{count}.xlsx")
    with connection.cursor() as cursor:
        student_ids = _reserve_ids(cursor, "students_student", count)
        case_ids = _reserve_ids(cursor, "students_dropoutcase", count)
    buffers = copy_buffers(rows, county, student_ids, case_ids)
    outcomes: list[dict] = []

    def run_import():
        result = _rolled_back(lambda: import_ledger(path, county=county, user=official, filename=path.name))
        if not result.ok or result.created != count:
            problems = "; ".join(str(p.as_dict()) for p in result.problems[:3])
            raise RuntimeError(f"the import did not create {count} cases ({result.counts()}): {problems}")
        outcomes.append(result.counts())
        print(f"      import: {result.counts()}", flush=True)

    def run_copy():
        def copy_all():
            with connection.cursor() as cursor:
                for target, text in buffers.items():
                    cursor.copy_expert(f"COPY {target} FROM STDIN", io.StringIO(text))

        _rolled_back(copy_all)

    print("    COPY of the same rows", flush=True)
    copy_timing = measure(run_copy, repeat=max(repeat, 3), warmup=warmup)
    print(f"      {copy_timing.median:.2f} s", flush=True)
    print("    import (every check on)", flush=True)
    import_timing = measure(run_import, repeat=repeat, warmup=warmup)
    print(f"      {import_timing.median:.2f} s", flush=True)
    print("    peak memory of a check, CSV and XLSX, each in a process of its own", flush=True)
    memory = {file.suffix[1:]: check_memory(file, county) for file in (path, workbook)}
    print(f"      {memory}", flush=True)
    # The rolled-back rows stay in the tables and their indexes until vacuumed: clear them now, or the
    # county's pages would be measured over hundreds of thousands of dead rows.
    with connection.cursor() as cursor:
        for table in ("students_student", "students_dropoutcase", "students_caseevent"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return {
        "rows": count,
        "county": county.name,
        "file": path.name,
        "import_seconds": import_timing.median,
        "copy_seconds": copy_timing.median,
        "import_counts": outcomes[-1],
        "import_runs": list(import_timing.runs),
        "copy_runs": list(copy_timing.runs),
        "check_memory": memory,
    }


def results(figures: dict) -> list[Result]:
    rows = figures["rows"]
    return [
        Result(
            f"import {rows:,} rows",
            rows / figures["import_seconds"],
            "rows/s",
            "COPY of the same rows",
            rows / figures["copy_seconds"],
            at_least(0.4),
            note=(
                f"{figures['county']}: import {figures['import_seconds']:.2f} s, COPY {figures['copy_seconds']:.2f} s "
                "(students, cases and first events)"
            ),
        ),
        *check_memory_results(rows, figures.get("check_memory", {})),
    ]


def check_memory_results(rows: int, memory: dict) -> list[Result]:
    """The peak memory of a check of the file, beside the process's before it; the target bounds the peak."""
    return [
        Result(
            f"check of a {rows:,}-row {kind.upper()} file, peak memory",
            figures["peak_mb"],
            "MB",
            "the same process before the check",
            figures["before_mb"],
            at_most(CHECK_MEMORY_MB, of="value"),
            note=f"{figures['rows']:,} rows checked in {figures['seconds']:.1f} s, {figures['problems']} problems",
        )
        for kind, figures in memory.items()
    ]
