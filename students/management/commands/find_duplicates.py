"""Run the duplicate search now: what the nightly task does."""

from django.core.management.base import BaseCommand

from students.duplicates import duplicates_find


class Command(BaseCommand):
    help = (
        "Search the ledger for records that are probably one child entered twice: names equal in pinyin with the "
        "same birth date and gender, or ID or registry numbers one typo apart, within a county and the other "
        "counties of its prefecture. Proposes each new pair once for the counties to decide (what the nightly "
        "task does); a pair decided as not the same child is not proposed again."
    )

    def handle(self, *args, **options):
        found = duplicates_find()
        self.stdout.write(self.style.SUCCESS(f"{found} new duplicate candidates."))
