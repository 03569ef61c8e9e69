"""The ledger's hash chains: written by the database on every insert, whatever the writer, and verified."""

import datetime
import hashlib
import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone

from students.choices import (
    OPEN_STATUSES,
    IdentitySource,
    Placement,
    Reason,
    Status,
    VisitMethod,
    VisitorRole,
    VisitOutcome,
)
from students.ledger_chain import CHAINS, chains_walk, ledger_verify, parallel_scan, walk_sql
from students.models import (
    CaseEvent,
    ClosureReason,
    CountyVerification,
    IdentityChange,
    LedgerVerification,
    PersuasionVisit,
)
from students.services import (
    STUDENT_DATA_FIELDS,
    BulkCase,
    BulkStudent,
    CaseStep,
    StudentData,
    case_mark_returned,
    ledger_bulk_write,
    student_update,
    visit_record,
)
from tests.database import as_owner
from tests.factories import StudentFactory, make_id_number, open_case

pytestmark = pytest.mark.django_db
D = datetime.date


def visit(case, day=D(2019, 6, 1), notes="Home visit"):
    return visit_record(
        case=case,
        visit_date=day,
        visitors=[{"role": VisitorRole.CLASS_TEACHER, "name": "Teacher Li"}],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.REFUSED,
        notes=notes,
    )


def content(entry) -> bytes:
    """The entry's content as the database serializes it for hashing."""
    table = entry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {table}_content(e) FROM {table} e WHERE e.id = %s", [entry.pk])
        return bytes(cursor.fetchone()[0])


def assert_chained(entries) -> None:
    """Positions 1, 2, …; each entry links to the one before and hashes to SHA-256(previous hash || content)."""
    previous = None
    for position, entry in enumerate(entries, start=1):
        assert entry.chain_position == position
        assert entry.previous_hash == previous
        assert entry.entry_hash == hashlib.sha256((previous or b"") + content(entry)).digest()
        previous = entry.entry_hash


def chain(model, **owner) -> list:
    return list(model.objects.filter(**owner).order_by("chain_position"))


# --- written on every insert


def test_status_changes_are_chained_per_case(area):
    case = open_case(area["school"])
    other = open_case(area["school"])
    visit(case)
    case_mark_returned(case=case, returned_on=D(2019, 9, 1), placement=Placement.REGULAR_CLASS)

    events = chain(CaseEvent, case=case)
    assert [event.to_status for event in events] == [Status.DROPPED_OUT, Status.PERSUADING, Status.RETURNED]
    assert_chained(events)
    assert_chained(chain(CaseEvent, case=other))


def test_visits_are_chained_per_case_apart_from_its_events(area):
    case = open_case(area["school"])
    visit(case, D(2019, 6, 1))
    visit(case, D(2019, 6, 8), notes="Second visit")

    visits = chain(PersuasionVisit, case=case)
    assert [v.notes for v in visits] == ["Home visit", "Second visit"]
    assert_chained(visits)
    assert_chained(chain(CaseEvent, case=case))


def test_identity_changes_are_chained_per_child(area):
    student = StudentFactory()
    open_case(area["school"], student=student)
    student_update(student=student, changes={"name": "桑青卓玛"}, source=IdentitySource.FORM)
    student_update(student=student, changes={"address": "上杜柯乡"}, source=IdentitySource.FORM)

    changes = chain(IdentityChange, student=student)
    assert len(changes) == 2
    assert_chained(changes)


def test_the_application_cannot_choose_the_chain_fields(area):
    case = open_case(area["school"])
    event = CaseEvent.objects.create(
        case=case,
        to_status=Status.DROPPED_OUT,
        effective_date=D(2019, 4, 1),
        chain_position=7,
        previous_hash=b"forged",
        entry_hash=b"forged",
    )

    assert_chained(chain(CaseEvent, case=case))
    event.refresh_from_db()
    assert event.chain_position == 2


def test_a_bulk_import_chains_several_entries_of_one_chain_sent_in_one_copy(area):
    school, county = area["school"], area["county"]
    existing = open_case(school)
    child = StudentFactory()
    open_case(area["other_school"], student=child)
    before = {name: getattr(child, name) for name in STUDENT_DATA_FIELDS}
    renamed = StudentData(**{name: "" if value is None else value for name, value in before.items()})
    renamed.name = "桑青卓玛"
    newcomer = StudentData(
        name="新生", gender="F", birth_date=D(2008, 3, 1), id_number=make_id_number("513230", D(2008, 3, 1), 900)
    )
    new = BulkCase(
        student=BulkStudent(newcomer),
        school_id=school.pk,
        county_id=county.pk,
        grade=7,
        dropout_date=D(2019, 3, 1),
        reason=Reason.POVERTY,
        steps=[
            CaseStep(Status.DROPPED_OUT, D(2019, 3, 1)),
            CaseStep(Status.PERSUADING, D(2019, 4, 1)),
            CaseStep(Status.RETURNED, D(2019, 5, 1), placement=Placement.REGULAR_CLASS),
        ],
    )
    update = BulkCase(
        student=BulkStudent(StudentData(name="", gender="F", birth_date=D(2008, 3, 1)), pk=existing.student_id),
        school_id=school.pk,
        county_id=county.pk,
        grade=existing.grade,
        dropout_date=existing.dropout_date,
        reason=existing.reason,
        pk=existing.pk,
        status=existing.status,
        version=existing.version,
        last_date=existing.dropout_date,
        steps=[
            CaseStep(Status.PERSUADING, D(2019, 6, 1)),
            CaseStep(Status.CLOSED, D(2019, 7, 1), closure_reason_id=ClosureReason.objects.get(code="other").pk),
        ],
    )

    ledger_bulk_write(
        students=[new.student, BulkStudent(renamed, pk=child.pk, changed=True, before=before, detail="row 3")],
        cases=[new, update],
    )

    created = chain(CaseEvent, case_id=new.pk)
    assert [event.to_status for event in created] == [Status.DROPPED_OUT, Status.PERSUADING, Status.RETURNED]
    assert_chained(created)
    updated = chain(CaseEvent, case=existing)
    assert [event.to_status for event in updated] == [Status.DROPPED_OUT, Status.PERSUADING, Status.CLOSED]
    assert_chained(updated)
    assert_chained(chain(IdentityChange, student=child))
    assert chains_walk().broken == []


# --- verified


def test_an_untouched_ledger_verifies_clean_and_the_result_is_kept_per_county(area):
    home = open_case(area["school"])
    open_case(area["far_school"])
    visit(home)
    student_update(student=home.student, changes={"name": "桑青卓玛"}, source=IdentitySource.FORM)

    verification, broken = ledger_verify()

    assert broken == [] and verification.ok
    # Home: two events, a visit, an identity change; far: one event.
    assert verification.entries_checked == 5
    counties = {
        result.county_id: (result.entries_checked, result.broken_count) for result in verification.counties.all()
    }
    assert counties == {area["county"].pk: (4, 0), area["far"].pk: (1, 0)}
    assert verification.finished_at >= verification.started_at


def test_a_county_is_verified_alone(area):
    visit(open_case(area["school"]))
    open_case(area["far_school"])

    verification, _ = ledger_verify(county=area["far"])

    assert verification.entries_checked == 1
    assert verification.county == area["far"]
    assert list(verification.counties.values_list("county_id", flat=True)) == [area["far"].pk]


def test_since_a_time_only_chains_with_a_new_entry_are_walked_each_whole(area):
    touched, untouched = open_case(area["school"]), open_case(area["far_school"])
    since = timezone.now()
    visit(touched)  # a visit, and the event moving the case to persuasion
    new = open_case(area["neighbour_school"])

    walk = chains_walk(since=since)

    # The touched case's two events (the older one checked with the new), its visit; the new case's event.
    assert walk.entries == 4
    assert dict(walk.entries_by_county) == {area["county"].pk: 3, new.county_id: 1}
    assert untouched.county_id not in walk.entries_by_county


def test_verify_ledger_says_every_chain_holds(area):
    visit(open_case(area["school"]))
    out = io.StringIO()

    call_command("verify_ledger", stdout=out)

    assert "3 entries checked: every chain holds." in out.getvalue()
    assert LedgerVerification.objects.get().ok


def plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def test_each_entry_is_hashed_again_in_a_scan_that_parallel_workers_can_share(area):
    visit(open_case(area["school"]))
    params = {"county": None, "since": None, "open": list(OPEN_STATUSES)}
    with transaction.atomic(), connection.cursor() as cursor:
        parallel_scan(cursor)
        # The test's tables are a few pages, which the planner would not share at all.
        cursor.execute("SET LOCAL min_parallel_table_scan_size = 0")
        for chain in CHAINS:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {walk_sql(chain)}", params)
            (plan,) = cursor.fetchone()[0]
            hashing = [node for node in plan_nodes(plan["Plan"]) if "sha256" in node.get("Filter", "")]

            assert [(node["Node Type"], node["Parallel Aware"]) for node in hashing] == [("Seq Scan", True)]


def test_verify_ledger_refuses_an_unknown_county():
    with pytest.raises(CommandError, match="No county has the code 999999"):
        call_command("verify_ledger", county="999999")


# --- the database refuses to rewrite visits


def test_visits_cannot_be_edited_or_deleted(area):
    """The application's role has no right to; and the trigger refuses even the owner."""
    case = open_case(area["school"])
    visit(case)
    visits = PersuasionVisit.objects.filter(case=case)
    with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
        visits.update(notes="rewritten")
    with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
        visits.delete()
    with as_owner():
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            visits.update(notes="rewritten")
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            visits.delete()


# --- behind the application's back: committed rows, changed through the owner's own connection


def behind_the_back(owner_connection, table: str, entry_id: int, *statements: str) -> None:
    """Run `statements` on one entry (%s: its id) as the owner, in one transaction that sets the triggers aside."""
    owner_connection.autocommit = False
    try:
        with owner_connection, owner_connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            for statement in statements:
                cursor.execute(statement, [entry_id])
            # A row updated twice leaves foreign-key checks pending, and a table with pending checks cannot be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    finally:
        owner_connection.autocommit = True


def verify_ledger(*args) -> str:
    out = io.StringIO()
    with pytest.raises(CommandError, match="broken link"):
        call_command("verify_ledger", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_note_edited_behind_the_applications_back_is_named(area, owner_connection):
    case = open_case(area["school"])
    visit(case)
    edited = case.events.get(to_status=Status.DROPPED_OUT)
    behind_the_back(
        owner_connection,
        "students_caseevent",
        edited.pk,
        "UPDATE students_caseevent SET note = 'nothing' WHERE id = %s",
    )

    output = verify_ledger()

    home = f"Home county {area['county'].code}"
    assert f"case event #{edited.pk} (case #{case.pk}, entry 1; {home}): content changed" in output
    assert output.count("\n") == 1
    verification = LedgerVerification.objects.get()
    assert (verification.ok, verification.broken_count) == (False, 1)
    assert verification.broken_links[0]["id"] == edited.pk
    assert CountyVerification.objects.get(county=area["county"]).broken_count == 1


@pytest.mark.django_db(transaction=True)
def test_a_visit_deleted_from_the_middle_of_its_chain_is_named_as_a_broken_link(area, owner_connection):
    case = open_case(area["school"])
    first, middle, last = (visit(case, D(2019, 6, day)) for day in (1, 8, 15))
    behind_the_back(
        owner_connection, "students_persuasionvisit", middle.pk, "DELETE FROM students_persuasionvisit WHERE id = %s"
    )

    output = verify_ledger("--county", area["county"].code)

    home = f"Home county {area['county'].code}"
    assert f"persuasion visit #{last.pk} (case #{case.pk}, entry 3; {home}): entries missing before it" in output
    assert f"visit #{first.pk} " not in output


@pytest.mark.django_db(transaction=True)
def test_an_entry_rewritten_with_a_recomputed_hash_breaks_the_next_link(area, owner_connection):
    student = StudentFactory()
    open_case(area["school"], student=student)
    for name in ("桑青卓玛", "桑青"):
        student_update(student=student, changes={"name": name}, source=IdentitySource.FORM)
    first, second = chain(IdentityChange, student=student)
    behind_the_back(
        owner_connection,
        "students_identitychange",
        first.pk,
        "UPDATE students_identitychange SET detail = 'forged' WHERE id = %s",
        "UPDATE students_identitychange e SET entry_hash = ledger_entry_hash(previous_hash, "
        "students_identitychange_content(e)) WHERE id = %s",
    )

    output = verify_ledger()

    home = f"Home county {area['county'].code}"
    assert f"identity change #{second.pk} (child #{student.pk}, entry 2; {home}): its link" in output
    assert f"change #{first.pk} " not in output


@pytest.mark.django_db(transaction=True)
def test_a_chains_first_entry_deleted_is_named_at_the_entry_after_it(area, owner_connection):
    case = open_case(area["school"])
    first, second, third = (visit(case, D(2019, 6, day)) for day in (1, 8, 15))
    behind_the_back(
        owner_connection, "students_persuasionvisit", first.pk, "DELETE FROM students_persuasionvisit WHERE id = %s"
    )

    broken = chains_walk().broken

    assert [(link.entry_id, link.position, link.problems) for link in broken] == [(second.pk, 2, ("missing",))]


@pytest.mark.django_db(transaction=True)
def test_an_entry_given_another_previous_hash_is_named_both_changed_and_unlinked(area, owner_connection):
    case = open_case(area["school"])
    first, second = (visit(case, D(2019, 6, day)) for day in (1, 8))
    behind_the_back(
        owner_connection,
        "students_persuasionvisit",
        second.pk,
        "UPDATE students_persuasionvisit SET previous_hash = sha256('forged') WHERE id = %s",
    )

    broken = chains_walk().broken

    assert [(link.entry_id, link.problems) for link in broken] == [(second.pk, ("content", "link"))]


@pytest.mark.django_db(transaction=True)
def test_a_first_entry_claiming_a_predecessor_breaks_its_link(area, owner_connection):
    case = open_case(area["school"])
    first = visit(case)
    behind_the_back(
        owner_connection,
        "students_persuasionvisit",
        first.pk,
        "UPDATE students_persuasionvisit SET previous_hash = sha256('forged') WHERE id = %s",
        "UPDATE students_persuasionvisit e SET entry_hash = ledger_entry_hash(previous_hash, "
        "students_persuasionvisit_content(e)) WHERE id = %s",
    )

    broken = chains_walk().broken

    assert [(link.entry_id, link.position, link.problems) for link in broken] == [(first.pk, 1, ("link",))]


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_one_chain_wait_for_each_other_instead_of_forking_it(area, owner_connection):
    case = open_case(area["school"])
    visit(case)  # the case is being persuaded: a further visit is a plain insert, with no lock of its own
    inserted = []

    def other_writer():
        with owner_connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO students_persuasionvisit (case_id, visit_date, visitors, method, outcome, notes, "
                "recorded_at, chain_position, entry_hash) VALUES (%s, '2019-06-20', '[]', 'phone', 'refused', "
                "'other writer', now(), 0, '') RETURNING chain_position",
                [case.pk],
            )
            inserted.append(cursor.fetchone()[0])

    with transaction.atomic():
        visit(case, D(2019, 6, 15), notes="this writer")
        writer = threading.Thread(target=other_writer)
        writer.start()
        writer.join(0.5)
        assert writer.is_alive(), "the second writer went ahead of the first one's commit"
    writer.join(10)

    assert inserted == [3]
    visits = chain(PersuasionVisit, case=case)
    assert [v.notes for v in visits] == ["Home visit", "this writer", "other writer"]
    assert_chained(visits)
