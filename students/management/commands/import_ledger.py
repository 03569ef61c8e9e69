"""python manage.py import_ledger FILE --county CODE [--dry-run]: the upload's import, run in the console."""

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from counties.models import Division, Level
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
            result = import_ledger(file, county=division, dry_run=dry_run, filename=file.name, progress=progress)
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
                    self.stderr.write(f"... and {len(result.problems) - 50} more (use --report FILE to see them all)")
                counts = result.counts()
                raise CommandError(
                    f"{counts['problems']} problems in {counts['bad_rows']} rows of {result.rows}: nothing imported"
                )
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{result.rows:,} rows checked in {seconds:.1f} s ({result.rows / max(seconds, 1e-6):,.0f} rows/s): "
            f"{result.created:,} cases {verb} created, {result.updated:,} updated, {result.unchanged:,} unchanged; "
            f"{result.events:,} status changes {verb} recorded."
        )
