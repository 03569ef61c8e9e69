"""The monthly sign-offs of the disclosure matrix's ledger (tests/test_disclosure_matrix.py).

Each county's month of the returns ("b" children, back in school 35 days ago) was signed before those returns were
recorded, so every one of them is a correction on its county's page, naming its child.
"""

import datetime

from django.utils import timezone

from reports.models import MonthSignOff, SignOffAction, SignOffStatus, SignOffStep

SIGNED_FIGURES = {
    "open_count": 2,
    "new_count": 0,
    "returned_count": 0,
    "closed_count": 0,
    "open_poor": 0,
    "reasons": {"poverty": 2},
}


def sign_off_month() -> datetime.date:
    return (timezone.localdate() - datetime.timedelta(days=35)).replace(day=1)


def build_sign_offs(area: dict, users: dict) -> dict:
    signed_at = timezone.now() - datetime.timedelta(days=60)
    objects = {}
    for place, official in (("county", "county"), ("neighbour", "neighbour_county"), ("far", "admin")):
        sign_off = MonthSignOff.objects.create(
            county=area[place],
            month=sign_off_month(),
            status=SignOffStatus.SIGNED,
            figures=SIGNED_FIGURES,
            signed_at=signed_at,
            signed_by=users[official],
        )
        SignOffStep.objects.create(
            sign_off=sign_off, action=SignOffAction.SIGN, by=users[official], at=signed_at, figures=SIGNED_FIGURES
        )
        objects[f"sign_off_{place}"] = sign_off
    return objects
