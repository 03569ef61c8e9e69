"""Shared by the seed tests: build a demo ledger for a test module, wipe it afterwards, fingerprint it."""

import datetime
import hashlib

from django.db import connection, transaction
from django.db.models import Q

from counties.models import CountyGroup, CountyGroupMembership, Division, School, User
from students.demo.seed import ledger_reset, seed_demo
from students.demo.users import DEMO_USERS
from students.models import CaseEvent, DropoutCase, PersuasionVisit, ResponsiblePerson, Student
from tests.database import as_owner


def build(cases: int, seed: int):
    """Seeding is the owner's work, as in make run: it re-creates constraints and restarts sequences."""
    with as_owner():
        return seed_demo(cases=cases, seed=seed, reset=True)


def wipe() -> None:
    """Remove everything the seed wrote (it commits), so later test modules start from an empty database."""
    with as_owner():
        ledger_reset()
    User.objects.filter(username__in=[user.username for user in DEMO_USERS]).delete()
    with transaction.atomic(), connection.cursor() as cursor:
        # Plain deletes: the divisions point at each other, and the foreign keys are checked at commit.
        for model in (School, CountyGroupMembership, CountyGroup, Division):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")


def open_on(day: datetime.date):
    """The cases open at the end of `day`, written out independently of the seed's own code."""
    return DropoutCase.objects.filter(
        Q(dropout_date__lte=day) & (Q(struck_off_on__isnull=True) | Q(struck_off_on__gt=day))
    )


def fingerprint() -> str:
    """A hash of the whole ledger by natural keys (ID numbers, school codes, dates), not by primary keys."""
    case_key = ("case__student__id_number", "case__dropout_date")
    parts = [
        School.objects.values_list("code", "name", "township", "kind", "county__code"),
        Student.objects.values_list(
            "id_number", "registry_number", "name", "gender", "ethnicity", "birth_date", "hukou_place", "address",
            "guardian_name", "guardian_phone", "registered_poor", "left_behind", "migrant", "orphan", "unsupported",
            "disability",
        ),
        DropoutCase.objects.values_list(
            "student__id_number", "dropout_date", "county__code", "school__code", "grade", "reason", "reason_detail",
            "status", "struck_off_on", "returned_on", "placement", "closure_reason__code",
            "previous_case__dropout_date", "version",
        ),
        CaseEvent.objects.values_list(
            *case_key, "from_status", "to_status", "effective_date", "placement", "closure_reason__code", "note",
            "recorded_at",
        ),
        PersuasionVisit.objects.values_list(
            *case_key, "visit_date", "visitors", "method", "outcome", "notes", "next_follow_up", "recorded_at"
        ),
        ResponsiblePerson.objects.values_list(*case_key, "line", "role", "name", "phone"),
    ]  # fmt: skip
    digest = hashlib.sha256()
    for rows in parts:
        for row in sorted(repr(row) for row in rows):
            digest.update(row.encode())
    return digest.hexdigest()
