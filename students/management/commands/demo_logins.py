import unicodedata

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from counties.models import Role, User
from students.access import cases_editable_by
from students.choices import OPEN_STATUSES
from students.demo.users import DEMO_USERS

# The roles that work cases in one area: their line says how many open cases are waiting.
CASE_WORKERS = frozenset({Role.COUNTY, Role.PRINCIPAL})


def _width(text: str) -> int:
    """Columns the text takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = (
        "Print the demo sign-ins created by seed_demo: one line per role, with what each one sees "
        "and, for the county official and the principal, how many open cases they have to work on."
    )

    def handle(self, *args, **options):
        usernames = [spec.username for spec in DEMO_USERS]
        users = {user.username: user for user in User.objects.filter(username__in=usernames)}
        present = set(users)
        roles = {spec.username: str(Role(spec.role).label) for spec in DEMO_USERS}
        role_width = max(_width(label) for label in roles.values())
        name_width = max(len(spec.username) for spec in DEMO_USERS)
        password_width = max(len(spec.password) for spec in DEMO_USERS)
        for spec in DEMO_USERS:
            missing = "" if spec.username in present else "  " + _("(not created yet: run seed_demo)")
            self.stdout.write(
                f"{_pad(roles[spec.username], role_width)}  {spec.username:<{name_width}}  "
                f"{spec.password:<{password_width}}  {spec.full_name}: {spec.sees}{missing}"
                f"{_open_cases(users.get(spec.username), spec.role)}"
            )


def _open_cases(user: User | None, role: str) -> str:
    """For a county official or principal: how many open cases in their area wait for work."""
    if user is None or role not in CASE_WORKERS:
        return ""
    count = cases_editable_by(user).filter(status__in=OPEN_STATUSES).count()
    if not count:
        return "; " + _("no open case to work on")
    return "; " + ngettext("%(count)d open case to work on", "%(count)d open cases to work on", count) % {
        "count": count
    }
