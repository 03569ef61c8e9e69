"""Print the published figures of one area on one day, one `name: value` per line."""

from django.core.management.base import BaseCommand, CommandError

from counties.models import CountyGroup, Division
from dropout_ledger.command_args import parse_day
from reports.services.checks import last_day, stored_figures


class Command(BaseCommand):
    help = (
        "Print the published totals of the nation (default), a division (--region CODE, GB/T 2260) or a "
        "county group (--group SLUG) for a day (default: the last day with totals), one `name: value` per line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="day", type=parse_day, help="the day (YYYY-MM-DD)")
        area = parser.add_mutually_exclusive_group()
        area.add_argument("--region", help="six-digit division code")
        area.add_argument("--group", help="county group short name")

    def handle(self, *args, day=None, region=None, group=None, **options):
        division = county_group = None
        if region:
            division = Division.objects.filter(code=region).first()
            if division is None:
                raise CommandError(f"No division has the code {region}.")
        if group:
            county_group = CountyGroup.objects.filter(slug=group).first()
            if county_group is None:
                raise CommandError(f"No county group is called {group}.")
        day = day or last_day()
        if day is None:
            raise CommandError("No totals are published yet: run recompute_totals first.")
        pairs = stored_figures(day, division=division, group=county_group)
        if pairs is None:
            raise CommandError(f"No totals are published for {day}.")
        area = division.full_name if division else county_group.name if county_group else "nation"
        self.stdout.write(f"area: {area}")
        self.stdout.write(f"date: {day}")
        for name, value in pairs:
            self.stdout.write(f"{name}: {value}")
