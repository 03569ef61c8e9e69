"""The demo's spot checks: one round in Aba prefecture (阿坝州), drawn by the demo province official from the
children of the current working set (students.demo.current) who returned to school in the last months, and given
to the demo verifier, who has recorded two of them: one confirmed, one record found wrong. The rest are theirs to
check, so each screen of spot checks has something to show. The same anchor date draws the same round.
"""

import datetime

from django.db import transaction

from counties.models import Division, Role, User
from students.demo.users import DEMO_USERS

from .models import Outcome, SpotCheckRound
from .services import spot_check_record, spot_check_round_draw, spot_checks_assign

ABA = "513200"
# The round looks back over the returns of this many days before the anchor date.
PERIOD_DAYS = 130
SAMPLE_SIZE = 6
SEED = 2019
NOTES = {
    Outcome.CONFIRMED: "到校核查：该生在班上课，班主任确认其返校后一直在校。",
    Outcome.RECORD_WRONG: "到校核查：该生在校，但台账所记年级与学籍系统不符，请县教育局更正。",
}


def _demo_user(role: str) -> User | None:
    username = next(spec.username for spec in DEMO_USERS if spec.role == role)
    return User.objects.filter(username=username).select_related("division").first()


@transaction.atomic
def demo_spot_checks_add(today: datetime.date) -> int:
    """Draw, assign and partly record the demo round; returns how many cases it drew (0: already there)."""
    aba = Division.objects.filter(code=ABA).first()
    drawer, verifier = _demo_user(Role.PROVINCE), _demo_user(Role.VERIFIER)
    if aba is None or drawer is None or verifier is None or SpotCheckRound.objects.filter(area=aba).exists():
        return 0
    spot_round = spot_check_round_draw(
        area=aba,
        returned_from=today - datetime.timedelta(days=PERIOD_DAYS),
        returned_until=today,
        size=SAMPLE_SIZE,
        seed=SEED,
        note="阿坝州复学情况抽查复验（演示）",
        user=drawer,
    )
    checks = list(spot_round.checks.order_by("pk"))
    spot_checks_assign(spot_round=spot_round, checks=checks, verifier=verifier, user=drawer)
    for check, outcome in zip(checks, NOTES, strict=False):
        spot_check_record(check=check, outcome=outcome, checked_on=today, note=NOTES[outcome], user=verifier)
    return len(checks)
