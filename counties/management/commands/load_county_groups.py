from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from counties.services import CountyGroupDataError, county_groups_load


class Command(BaseCommand):
    help = (
        "Create the shipped county groups (the 52 poverty counties of 2020, 三区三州) with dated membership, "
        "resolved against the loaded divisions (run load_divisions first). Adds only what is missing; "
        "administrators' edits are kept unless --reset is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Make the shipped groups match the shipped data exactly, undoing administrators' edits.",
        )

    def handle(self, *args, reset=False, **options):
        try:
            counts = county_groups_load(reset=reset)
        except CountyGroupDataError as error:
            raise CommandError(
                _("The county group data does not resolve:\n%(problems)s") % {"problems": error}
            ) from error
        self.stdout.write(
            _(
                "County groups: %(groups_created)d created, %(groups_updated)d updated; memberships: "
                "%(memberships_created)d created, %(memberships_removed)d removed, "
                "%(memberships_unchanged)d unchanged."
            )
            % counts
        )
        changes = ("groups_created", "groups_updated", "memberships_created", "memberships_removed")
        if not any(counts[key] for key in changes):
            self.stdout.write(_("Nothing to change."))
