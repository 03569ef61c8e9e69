"""Re-derive one day's figures from the case events and report every difference with the published totals."""

from django.core.management.base import BaseCommand, CommandError

from dropout_ledger.command_args import parse_day
from reports.services.checks import compare_day, last_day


class Command(BaseCommand):
    help = (
        "Re-derive a day's figures for every area from the case events and compare them with the published "
        "totals. Prints every difference and exits non-zero when there is one. Default day: the last day "
        "with totals."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="day", type=parse_day, help="the day to check (YYYY-MM-DD)")

    def handle(self, *args, day=None, **options):
        day = day or last_day()
        if day is None:
            raise CommandError("No totals are published yet: run recompute_totals first.")
        differences = compare_day(day)
        for difference in differences:
            self.stdout.write(str(difference))
        if differences:
            raise CommandError(f"{day}: {len(differences)} difference(s) between the totals and the events.")
        self.stdout.write(self.style.SUCCESS(f"{day}: the totals match the events."))
