from django.core.management.base import BaseCommand

from counties.models import Role, User
from students.demo.users import DEMO_USERS


class Command(BaseCommand):
    help = "Print the demo sign-ins created by seed_demo: one line per role, with what each one sees."

    def handle(self, *args, **options):
        present = set(
            User.objects.filter(username__in=[u.username for u in DEMO_USERS]).values_list("username", flat=True)
        )
        width = max(len(str(Role(u.role).label)) for u in DEMO_USERS)
        for user in DEMO_USERS:
            missing = "" if user.username in present else "  (not created yet: run seed_demo)"
            self.stdout.write(
                f"{str(Role(user.role).label):<{width}}  {user.username:<10} {user.password:<15} "
                f"{user.full_name}: {user.sees}{missing}"
            )
