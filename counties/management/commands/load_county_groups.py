from django.core.management.base import BaseCommand, CommandError

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
            raise CommandError(f"The county group data does not resolve:\n{error}") from error
        self.stdout.write(
            "County groups: {groups_created} created, {groups_updated} updated; memberships: "
            "{memberships_created} created, {memberships_removed} removed, {memberships_unchanged} unchanged.".format(
                **counts
            )
        )
        if not any(
            counts[key] for key in ("groups_created", "groups_updated", "memberships_created", "memberships_removed")
        ):
            self.stdout.write("Nothing to change.")
