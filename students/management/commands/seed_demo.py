import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from students.demo.calibration import baseline_date, expected_open_counts
from students.demo.seed import SeedError, open_counts, seed_demo


class Command(BaseCommand):
    help = (
        "Build the demo ledger: N cases open at the baseline over the real divisions, calibrated so the open "
        "count follows the published national, 52-county and registered-poor figures scaled to N. "
        "On top of that history, a current working set of cases in the months before --today (default: today), "
        "so the demo county official and principal have open cases to work on. "
        "Deterministic for a given --cases, --seed and --today. Creates the demo users (see demo_logins)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=6000, help="cases open at the baseline (600000 = national)")
        parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same ledger")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if the ledger already has cases")
        parser.add_argument("--reset", action="store_true", help="remove the existing ledger first")
        parser.add_argument(
            "--today",
            type=datetime.date.fromisoformat,
            default=None,
            metavar="YYYY-MM-DD",
            help="anchor date of the current working set (default: today); not in the future",
        )

    def handle(self, *args, cases, seed, if_empty, reset, today, verbosity, **options):
        self.verbosity = verbosity
        self.last_print = 0.0
        self.started = time.monotonic()
        today = today or timezone.localdate()
        try:
            result = seed_demo(
                cases=cases, seed=seed, reset=reset, if_empty=if_empty, today=today, progress=self.progress
            )
        except SeedError as error:
            raise CommandError(str(error)) from None
        if result.skipped:
            self.stdout.write(_("The ledger already has cases: left as it is (--if-empty)."))
            if result.current:
                self.stdout.write(
                    _("Added the current working set: %(count)d cases up to %(day)s.")
                    % {"count": result.current, "day": today}
                )
            return
        if self.verbosity:
            self.stdout.write("")
        counts = ", ".join(f"{value:,} {name}" for name, value in result.counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo ledger built in %(seconds).1f s: %(counts)s.") % {"seconds": result.seconds, "counts": counts}
            )
        )
        self.stdout.write(
            _("Current working set: %(count)d cases up to %(day)s.") % {"count": result.current, "day": today}
        )
        if self.verbosity >= 1:
            expected = expected_open_counts(cases, baseline_date())
            for day in sorted(expected["national"]):
                actual = open_counts(day)
                parts = [
                    f"{series} {actual[series]:,} (expected {expected[series][day]:,})"
                    for series in ("national", "group", "poor")
                    if day in expected[series]
                ]
                self.stdout.write(f"  open on {day}: " + "; ".join(parts))

    def progress(self, stage: str, done: int, total: int) -> None:
        if not self.verbosity:
            return
        if stage != "cases":
            if done >= total:
                count = f" ({done:,})" if total > 1 else ""
                self.stdout.write(f"  {stage}: done{count} [{time.monotonic() - self.started:.1f} s]")
            return
        now = time.monotonic()
        if done < total and now - self.last_print < 0.5:
            return
        self.last_print = now
        percent = 100 * done // max(total, 1)
        elapsed = time.monotonic() - self.started
        self.stdout.write(
            f"\r  cases: {done:,}/{total:,} ({percent}%) [{elapsed:.1f} s]", ending="\n" if done >= total else ""
        )
        self.stdout.flush()
