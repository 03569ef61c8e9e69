"""Signed months for the demo ledger, so that the sign-off screens have something to show.

Rangtang County, the demo county, signs each month the dashboards follow up to the one before the seed's anchor
date, through the same services its official would use; Aba prefecture and Sichuan province accept them:
- the older months are signed and accepted by both;
- the month before those was first sent back by the prefecture with a note, then signed again and accepted;
- the last month is signed and waits for the prefecture.
The other counties of Aba sign nothing, so the prefecture's and the province's dashboards show pending and overdue
months beside Rangtang's signed ones. The figures signed are the published totals: the days of those months are
computed first when they are not published yet (a freshly seeded ledger has none).
"""

import datetime

from counties.models import Division, Role, User
from students.demo.places import RANGTANG
from students.demo.users import DEMO_USERS

from . import signoff
from .models import MonthSignOff
from .selectors import Area, totals_cover
from .services import signoff as services
from .services.runs import Trigger, recompute

SENT_BACK_NOTE = "请核对本月复学人数与学籍系统是否一致后重新签署。"


def _demo_users() -> dict[str, User]:
    usernames = {spec.role: spec.username for spec in DEMO_USERS}
    roles = (Role.COUNTY, Role.PREFECTURE, Role.PROVINCE)
    found = {user.role: user for user in User.objects.filter(username__in=[usernames[role] for role in roles])}
    return found if all(role in found for role in roles) else {}


def sign_off_demo_months(*, today: datetime.date) -> int:
    """Sign Rangtang's months up to the one before `today` (see the module's docstring); returns how many months
    were signed. Months already signed are left as they are, so seeding again adds nothing."""
    county = Division.objects.counties().select_related("province", "prefecture").filter(code=RANGTANG).first()
    users = _demo_users()
    months = sorted(signoff.months_shown(today))
    if county is None or not users or not months:
        return 0
    area, first, last = Area.of_division(county), months[0], signoff.month_end(months[-1])
    if not totals_cover(area, first, last):
        recompute(first, last, trigger=Trigger.COMMAND)
    done = set(MonthSignOff.objects.filter(county=county, month__in=months).values_list("month", flat=True))
    signed = 0
    for n, month in enumerate(months):
        if month in done:
            continue
        services.month_sign(county=county, month=month, user=users[Role.COUNTY], today=today)
        signed += 1
        if month == months[-1]:
            continue  # waits for the prefecture
        if n == len(months) - 2:
            services.month_send_back(county=county, month=month, user=users[Role.PREFECTURE], note=SENT_BACK_NOTE)
            services.month_sign(county=county, month=month, user=users[Role.COUNTY], today=today)
        services.month_accept(county=county, month=month, user=users[Role.PREFECTURE])
        services.month_accept(county=county, month=month, user=users[Role.PROVINCE])
    return signed
