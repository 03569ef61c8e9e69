"""The API against its own schema, with a token of every demo role on the demo ledger (schemathesis).

For each operation of the schema, requests are generated from it (a bounded number, so the whole takes a minute or
two) and sent through the whole Django stack with each role's token. Every answer must be no server error, have a
status, content type and body the schema declares, hold no case, child, visit, school, area, handover or job
outside the token's scope (students.access), and show no identifier the role may not see unmasked (the disclosure
rule, as tests/test_disclosure_matrix.py reads it: tests.factories.identifiers).
"""

import json
import re

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.tokens import token_create
from api.views.jobs import jobs_of
from counties.models import Role, User
from students.access import (
    cases_visible_to,
    divisions_visible_to,
    handovers_visible_to,
    schools_visible_to,
    scope_for,
    students_visible_to,
    visits_visible_to,
)
from students.demo.seed import seed_demo
from students.demo.users import DEMO_USERS
from students.models import Student
from tests.database import as_owner
from tests.factories import identifiers
from tests.students.seed_helpers import wipe

CASES = 100
SEED = 17
EXAMPLES = 2
ROLES = [user.username for user in DEMO_USERS]
NUMBERS = ("ID number", "registry number", "guardian's phone")
PEOPLE = ("full name", "guardian's name", "address", "household registration place")


@pytest.fixture(scope="module")
def ledger(django_db_setup, django_db_blocker):
    """The demo ledger with its working set, and a token for each demo user; wiped afterwards."""
    with django_db_blocker.unblock():
        with as_owner():
            seed_demo(cases=CASES, seed=SEED, reset=True, today=None)
        keys = {
            user.username: token_create(user=user, name="schema test").key
            for user in User.objects.filter(username__in=ROLES)
        }
        yield keys
        wipe()


@pytest.fixture
def wsgi_app(db, ledger):
    """The project's WSGI application, answering inside the test's transaction: the connection is not closed
    at the end of each request, as Django's own test client arranges it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _schema():
    """The schema /api/schema/ serves, made as it makes it (no request, no database), for the WSGI application."""
    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = get_wsgi_application()
    # The schema's own examples and EXAMPLES generated requests per operation; not the coverage phase's every
    # boundary of every parameter, which would take the suite far past its couple of minutes.
    loaded.config.phases.coverage.enabled = False
    return loaded


schema = _schema()


class Scope:
    """What one user may see: the ids and codes in scope, and the identifiers that must not reach them.

    Places and identifiers do not change through the API's requests and are read once per user; the cases,
    children, visits, handovers and jobs in scope are read again for each answer, since a request may add some.
    """

    def __init__(self, user):
        self.user = user
        self.schools = set(schools_visible_to(user).values_list("code", flat=True))
        self.areas = set(divisions_visible_to(user).values_list("code", flat=True))
        masked = not scope_for(user).sees_identifiers
        children = set(students_visible_to(user).values_list("pk", flat=True))
        self.hidden = []
        for student in Student.objects.all():
            if not masked and student.pk in children:
                continue
            for what, value in identifiers(student).items():
                if value and (what in NUMBERS or (masked and what in PEOPLE and len(value) >= 2)):
                    self.hidden.append((student.pk, what, value))
                if value and what == "last six of the ID":
                    self.hidden.append((student.pk, what, re.compile(rf"(?<!\d){re.escape(value)}(?![\dX])")))

    def refresh(self) -> "Scope":
        user = self.user
        self.cases = set(cases_visible_to(user).values_list("pk", flat=True))
        self.children = set(students_visible_to(user).values_list("pk", flat=True))
        self.visits = set(visits_visible_to(user).values_list("pk", flat=True))
        self.handovers = set(handovers_visible_to(user).values_list("pk", flat=True))
        self.jobs = set(jobs_of(user).values_list("pk", flat=True))
        return self


@pytest.fixture(scope="module")
def scopes(ledger, django_db_blocker):
    with django_db_blocker.unblock():
        return {user.username: Scope(user) for user in User.objects.filter(username__in=ROLES)}


def _rows(body):
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        return body["results"]
    return body if isinstance(body, list) else [body]


def out_of_scope(path: str, body, scope: Scope) -> list[str]:
    """The objects of an answer that the user may not see."""
    found = []
    for row in _rows(body):
        if not isinstance(row, dict):
            continue
        if path.startswith("/api/v1/cases/") and "child_id" in row:
            found += [f"case {row['id']}"] * (row["id"] not in scope.cases)
            found += [f"child {row['child_id']}"] * (row["child_id"] not in scope.children)
        if path.startswith("/api/v1/visits/") or (path.startswith("/api/v1/cases/") and "visit_date" in row):
            found += [f"visit {row['id']}"] * (row["id"] not in scope.visits)
        if path.startswith("/api/v1/children/"):
            found += [f"child {row['id']}"] * (row["id"] not in scope.children)
            found += [f"case {case['id']}" for case in row.get("cases", []) if case["id"] not in scope.cases]
        if path.startswith("/api/v1/schools/"):
            found += [f"school {row['code']}"] * (row["code"] not in scope.schools)
        if path.startswith("/api/v1/areas/"):
            found += [f"area {row['code']}"] * (row["code"] not in scope.areas)
        if path.startswith("/api/v1/handovers/") or "requested_by_receiver" in row:
            found += [f"handover {row['id']}"] * (row["id"] not in scope.handovers)
            found += [f"case {row['case']}"] * (row.get("case") is not None and row["case"] not in scope.cases)
        if path.startswith("/api/v1/jobs/") or "dry_run" in row:
            found += [f"job {row['id']}"] * (row["id"] not in scope.jobs)
    return found


def unmasked(text: str, scope: Scope, sent: str) -> list[str]:
    """The identifiers in `text` the user may not see, less those their own request sent."""
    found = []
    for pk, what, value in scope.hidden:
        if isinstance(value, re.Pattern):
            shown = value.search(text) is not None and value.pattern not in sent
        else:
            shown = value in text and value not in sent
        if shown:
            found.append(f"child {pk}'s {what}")
    return found


def scope_check(scope: Scope):
    def within_scope_and_masked(ctx, response, case):
        if response.status_code not in (200, 201, 202) or case.method.upper() not in ("GET", "POST", "PUT"):
            return None
        path = case.formatted_path
        body = json.loads(response.content)
        scope.refresh()
        outside = out_of_scope(path, body, scope)
        assert not outside, f"{scope.user.username} gets {outside} from {path}"
        sent = json.dumps([case.query, case.body], ensure_ascii=False, default=str)
        shown = unmasked(json.dumps(body, ensure_ascii=False), scope, sent)
        assert not shown, f"{scope.user.username} sees {shown} in {path}"
        return None

    return within_scope_and_masked


AREA_ROLES = (Role.MINISTRY, Role.PROVINCE, Role.PREFECTURE, Role.COUNTY, Role.PRINCIPAL, Role.ADMIN)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation_answers_within_the_schema_the_scope_and_the_disclosure_rule(case, ledger, scopes, wsgi_app):
    # Each generated request is sent with every role's token.
    for role in ROLES:
        checks = [*CHECKS, scope_check(scopes[role])]
        case.call_and_validate(headers={"Authorization": f"Token {ledger[role]}"}, checks=checks)


def test_the_demo_ledger_gives_each_role_something_to_see(ledger, db):
    """Every role has a demo user with a token, and every area's or school's scope holds cases: the checks above
    read real answers. (A verifier sees only the cases assigned to them, which the demo may not assign.)"""
    users = User.objects.filter(username__in=ROLES)
    assert {user.role for user in users} == set(Role.values)
    assert set(ledger) == set(ROLES)
    for user in users.filter(role__in=AREA_ROLES):
        assert cases_visible_to(user).exists(), user.username
