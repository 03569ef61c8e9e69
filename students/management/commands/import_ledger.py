"""python manage.py import_ledger FILE --county CODE [--dry-run]: the upload's import, run in the console."""

import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from counties.models import Division, Level
from students.import_mapping import Mapping
from students.import_rows import VOCABULARIES, mappable_codes, mappable_fields
from students.importing import import_ledger
from students.spreadsheets import write_csv, write_xlsx


class ConsoleProgress:
    """A one-line progress bar on stderr: [#########.........]  45%  45,000 / 100,000 rows."""

    def __init__(self, stream, width: int = 30):
        self.stream = stream
        self.width = width
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        share = min(done / max(total, 1), 1.0)
        filled = int(self.width * share)
        rate = done / max(time.monotonic() - self.started, 1e-6)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {share:4.0%}  {done:,} / {total:,} rows  {rate:,.0f} rows/s")
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")


class Command(BaseCommand):
    help = (
        "Check a county's ledger file (XLSX or CSV) and import it, all rows or none. With --dry-run, "
        "only check and report. The same code as the upload on the county page."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the ledger file (.xlsx or .csv)")
        parser.add_argument("--county", required=True, help="the county's six-digit division code")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument("--report", type=Path, help="write every problem found to this .csv or .xlsx file")
        parser.add_argument("--language", default="zh-hans", help="language of the problem report (zh-hans or en)")
        parser.add_argument(
            "--mapping",
            type=Path,
            help=(
                "a JSON file saying what the file's own headings and values mean, as the county's mapping page "
                'downloads it: {"headings": {"返校时间": "return_date"}, "values": {"reason": {"家庭经济困难": '
                '"poverty"}}}; without it, the mapping saved for the county is used'
            ),
        )

    def handle(self, *args, file: Path, county: str, dry_run: bool, report: Path | None, language: str, **options):
        if not file.exists():
            raise CommandError(f"{file} does not exist")
        try:
            division = Division.objects.get(code=county, level=Level.COUNTY)
        except Division.DoesNotExist:
            raise CommandError(f"no county with the code {county}") from None
        progress = ConsoleProgress(sys.stderr) if options["verbosity"] else None
        started = time.monotonic()
        with translation.override(language):
            mapping = read_mapping(options["mapping"]) if options["mapping"] else None
            result = import_ledger(
                file, county=division, dry_run=dry_run, filename=file.name, progress=progress, mapping=mapping
            )
            if progress:
                progress.finish()
            seconds = time.monotonic() - started
            for warning in result.warnings:
                self.stderr.write(warning)
            # The report holds the file's identifiers, but is not written to the identifier-access log: the log
            # names a user, and a console run has none (whoever runs it already holds the file and the database).
            if report and result.problems:
                rows = [[p.row, p.column, p.value, p.message] for p in result.problems]
                with open(report, "wb") as out:
                    header = ["row", "column", "value", "problem"]
                    if report.suffix == ".xlsx":
                        write_xlsx(out, header, rows, title="problems")
                    else:
                        write_csv(out, header, rows)
            if result.problems:
                for problem in result.problems[:50]:
                    where = f"row {problem.row}" if problem.row else "file"
                    self.stderr.write(f"{where} · {problem.column} · {problem.value!s:.40} · {problem.message}")
                if len(result.problems) > 50:
                    self.stderr.write(f"... and {len(result.problems) - 50:,} more (use --report FILE to see them all)")
                counts = result.counts()
                if not counts["bad_rows"]:
                    raise CommandError(f"{plural(counts['problems'], 'problem')} with the file: nothing imported")
                raise CommandError(
                    f"{plural(counts['problems'], 'problem')} in {plural(counts['bad_rows'], 'row')} of "
                    f"{result.rows:,}: nothing imported"
                )
        verb = "would be" if dry_run else "were"
        rate = result.rows / max(seconds, 1e-6)
        self.stdout.write(
            f"{plural(result.rows, 'row')} checked in {seconds:.1f} s ({rate:,.0f} rows/s): "
            f"{plural(result.created, 'case')} {verb} created, {result.updated:,} updated, {result.unchanged:,} "
            f"unchanged; {plural(result.events, 'status change')} {verb} recorded."
        )


def plural(count: int, noun: str) -> str:
    """ "1 row", "2 rows": the console's English, counted."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def read_mapping(path: Path) -> Mapping:
    """The --mapping file, each field and code checked against the ledger's."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise CommandError(f"the mapping {path} cannot be read as JSON: {error}") from None
    codes = {key: [code for code, _label in mappable_codes(key)] for key in (*VOCABULARIES, "closure_reason")}
    try:
        return Mapping.from_json(data, fields=[key for key, _name in mappable_fields()], codes=codes)
    except ValueError as error:
        raise CommandError(f"the mapping {path}: {error}") from None
