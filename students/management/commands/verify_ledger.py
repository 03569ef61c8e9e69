"""Walk the ledger's hash chains and name each broken link: what the nightly verification does, on demand."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from counties.models import Division
from dropout_ledger.command_args import parse_day
from students.ledger_chain import describe, ledger_verify


class Command(BaseCommand):
    help = (
        "Verify the hash chains of the ledger's history (case events, visits, identity changes): recompute every "
        "entry's hash and check each link to the entry before it. Prints each broken link (table, entry, case or "
        "child, county, what is wrong), keeps the result (shown on the totals runs page and in the admin) and "
        "exits non-zero when a link is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument("--county", metavar="CODE", help="only the chains of this county (its division code)")
        parser.add_argument(
            "--since",
            metavar="DATE",
            type=parse_day,
            help="only the chains with an entry recorded on or after this day (YYYY-MM-DD), each chain whole",
        )

    def handle(self, *args, county=None, since=None, **options):
        area = None
        if county:
            area = Division.objects.counties().filter(code=county).first()
            if area is None:
                raise CommandError(f"No county has the code {county}.")
        start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min)) if since else None
        verification, broken = ledger_verify(county=area, since=start)
        for record in broken:
            self.stdout.write(describe(record))
        if broken:
            raise CommandError(f"{len(broken)} broken link(s) in {verification.entries_checked} entries.")
        self.stdout.write(self.style.SUCCESS(f"{verification.entries_checked} entries checked: every chain holds."))
