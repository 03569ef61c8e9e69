import unicodedata

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from counties.models import Role, User
from students.demo.users import DEMO_USERS


def _width(text: str) -> int:
    """Columns the text takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = "Print the demo sign-ins created by seed_demo: one line per role, with what each one sees."

    def handle(self, *args, **options):
        usernames = [spec.username for spec in DEMO_USERS]
        present = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
        roles = {spec.username: str(Role(spec.role).label) for spec in DEMO_USERS}
        role_width = max(_width(label) for label in roles.values())
        name_width = max(len(spec.username) for spec in DEMO_USERS)
        password_width = max(len(spec.password) for spec in DEMO_USERS)
        for spec in DEMO_USERS:
            missing = "" if spec.username in present else "  " + _("(not created yet: run seed_demo)")
            self.stdout.write(
                f"{_pad(roles[spec.username], role_width)}  {spec.username:<{name_width}}  "
                f"{spec.password:<{password_width}}  {spec.full_name}: {spec.sees}{missing}"
            )
