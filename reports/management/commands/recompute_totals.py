"""Recompute and publish the daily totals for a range of days, or for every day changed since the last run."""

from django.core.management.base import BaseCommand, CommandError

from dropout_ledger.command_args import parse_day
from reports.models import TotalsRun
from reports.services.runs import Trigger, recompute
from reports.services.totals import ReconciliationError


class Command(BaseCommand):
    help = (
        "Recompute the daily totals from the ledger and publish them in one transaction. Without dates, "
        "recomputes every day touched by changes since the last successful run, to today (what the "
        "nightly task does); with --from/--to, those days (backfill or repair)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="from_day", type=parse_day, help="first day (default: the baseline date)")
        parser.add_argument("--to", dest="to_day", type=parse_day, help="last day (default: today)")
        parser.add_argument(
            "--single-statement",
            action="store_true",
            help="compute every county in one statement instead of one step per province",
        )

    def handle(self, *args, from_day=None, to_day=None, single_statement=False, verbosity=1, **options):
        if from_day and to_day and from_day > to_day:
            raise CommandError("--from is after --to.")

        def progress(run: TotalsRun) -> None:
            if verbosity >= 1:
                self.stdout.write(
                    f"[{run.progress:3d}%] step {run.steps_done}/{run.steps_total} ({run.from_day} .. {run.to_day})"
                )

        try:
            run = recompute(
                from_day,
                to_day,
                by_province=not single_statement,
                trigger=Trigger.COMMAND,
                progress=progress,
            )
        except ReconciliationError as error:
            raise CommandError(f"The totals do not add up; nothing was published.\n{error}") from error
        seconds = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(self.style.SUCCESS(f"Run {run.pk}: {run.message} ({seconds:.1f} s)"))
