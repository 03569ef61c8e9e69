"""The demo ledger's current working set: open cases to work on in the months before the anchor date.

One calibrated ledger is built for the module; its history is fingerprinted and counted day by day, then
the working set is added for a fixed anchor date in the past (through seed_demo --if-empty, which adds
it to a ledger that has none). The ledger is committed, then wiped when the module ends.
"""

import datetime
import hashlib
import re
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from counties.models import CountyGroup, Role, School, SchoolKind, User
from reports import selectors
from students.access import cases_editable_by, cases_visible_to
from students.choices import (
    OPEN_STATUSES,
    DuplicateKind,
    DuplicateStatus,
    Line,
    Placement,
    Status,
    VisitorRole,
    VisitOutcome,
)
from students.demo.calibration import LEDGER_END, baseline_date, expected_open_counts
from students.demo.current import EARLIEST_ANCHOR, WINDOW_DAYS, current_cases_add
from students.demo.seed import SeedError, seed_demo
from students.demo.users import DEMO_USERS
from students.duplicates import candidates_visible_to
from students.handover import STUCK_AFTER_DAYS, pending_of_county, stuck_handovers
from students.identifiers import id_birth_date, id_gender, validate_id_number, validate_registry_number
from students.lifecycle import check_transition
from students.models import (
    CaseEvent,
    DropoutCase,
    DuplicateCandidate,
    Handover,
    PersuasionVisit,
    ResponsiblePerson,
    ResponsiblePersonChange,
    Student,
)
from students.worklist import check_events
from tests.database import as_owner

from .seed_helpers import build, open_on, wipe

CASES = 600
SEED = 11
ANCHOR = datetime.date(2024, 3, 5)  # early in a month: "returned this month" spans only five days
OTHER_ANCHOR = datetime.date(2024, 6, 12)
RANGTANG, SHANGDUKE = "513230", "上杜柯乡小学"
FOLLOW_UP_DAYS = 30


class Rollback(Exception):
    pass


def daily_open_counts() -> list[tuple]:
    """(day, open, open registered-poor) for every day from the baseline to the end of the history."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d::date, count(c.id), count(c.id) FILTER (WHERE s.registered_poor) "
            "FROM generate_series(%s::date, %s::date, '1 day') d "
            "LEFT JOIN students_dropoutcase c "
            "ON c.dropout_date <= d AND (c.struck_off_on IS NULL OR c.struck_off_on > d) "
            "LEFT JOIN students_student s ON s.id = c.student_id GROUP BY d ORDER BY d",
            [baseline_date(), LEDGER_END],
        )
        return cursor.fetchall()


def history_fingerprint() -> str:
    """A hash of every row of the calibrated history (cases that began by its end) and of the schools."""
    old = Q(case__dropout_date__lte=LEDGER_END)
    parts = [
        School.objects.values_list(),
        Student.objects.filter(cases__dropout_date__lte=LEDGER_END).distinct().values_list(),
        DropoutCase.objects.filter(dropout_date__lte=LEDGER_END).values_list(),
        CaseEvent.objects.filter(old).values_list(),
        PersuasionVisit.objects.filter(old).values_list(),
        ResponsiblePerson.objects.filter(old).values_list(),
    ]
    return _digest(parts)


def working_set_fingerprint() -> str:
    """A hash of the working set by natural keys (ID numbers, school codes, dates), not primary keys.

    The clock columns (created_at, recorded_at) are left out: they say when the rows were written.
    """
    new = Q(case__dropout_date__gt=LEDGER_END)
    case_key = ("case__student__id_number", "case__dropout_date")
    parts = [
        Student.objects.filter(cases__dropout_date__gt=LEDGER_END).values_list(
            "id_number", "registry_number", "name", "gender", "ethnicity", "birth_date", "hukou_place", "address",
            "guardian_name", "guardian_phone", "registered_poor", "left_behind", "disability",
        ),
        DropoutCase.objects.filter(dropout_date__gt=LEDGER_END).values_list(
            "student__id_number", "dropout_date", "county__code", "school__code", "grade", "reason", "reason_detail",
            "status", "struck_off_on", "returned_on", "placement", "closure_reason__code",
            "previous_case__dropout_date", "version",
        ),
        CaseEvent.objects.filter(new).values_list(
            *case_key, "from_status", "to_status", "effective_date", "placement", "closure_reason__code", "note",
            "recorded_by__username",
        ),
        PersuasionVisit.objects.filter(new).values_list(
            *case_key, "visit_date", "visitors", "method", "outcome", "notes", "next_follow_up", "recorded_by__username"
        ),
        ResponsiblePerson.objects.filter(new).values_list(*case_key, "line", "role", "name", "phone"),
    ]  # fmt: skip
    return _digest(parts)


def _digest(parts) -> str:
    digest = hashlib.sha256()
    for rows in parts:
        for row in sorted(repr(row) for row in rows):
            digest.update(row.encode())
    return digest.hexdigest()


def _trial_fingerprint(today: datetime.date) -> str:
    """The working set for `today` added, fingerprinted and rolled back."""
    found = {}
    try:
        with transaction.atomic():
            current_cases_add(seed=SEED, today=today)
            found["fingerprint"] = working_set_fingerprint()
            raise Rollback
    except Rollback:
        pass
    assert not DropoutCase.objects.filter(dropout_date__gt=LEDGER_END).exists()
    return found["fingerprint"]


@pytest.fixture(scope="module")
def ledger(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        try:
            build(CASES, SEED)
            before = {"fingerprint": history_fingerprint(), "daily": daily_open_counts()}
            trials = {"first": _trial_fingerprint(ANCHOR), "other": _trial_fingerprint(OTHER_ANCHOR)}
            with as_owner():
                result = seed_demo(cases=CASES, seed=SEED, if_empty=True, today=ANCHOR)
        except BaseException:
            wipe()
            raise
    yield {"before": before, "trials": trials, "result": result}
    with django_db_blocker.unblock():
        wipe()


pytestmark = pytest.mark.usefixtures("ledger", "db")


def working_set():
    return DropoutCase.objects.filter(dropout_date__gt=LEDGER_END)


def demo_user(role: str) -> User:
    return User.objects.get(username=next(spec.username for spec in DEMO_USERS if spec.role == role))


def last_visit(case: DropoutCase) -> PersuasionVisit | None:
    return case.visits.order_by("-visit_date", "-pk").first()


def retention_due(case: DropoutCase, today: datetime.date) -> bool:
    """Returned 30+ days ago with no check, or 90+ days ago with fewer than two (the domain's rule)."""
    if case.status not in (Status.RETURNED, Status.RETAINED):
        return False
    days = (today - case.returned_on).days
    checks = check_events().filter(case=case).count()
    return (days >= 30 and checks == 0) or (days >= 90 and checks < 2)


# --- where and what


def test_seed_with_if_empty_adds_the_working_set_to_a_ledger_that_has_none(ledger):
    assert ledger["result"].skipped
    assert ledger["result"].current == working_set().count()


def test_about_forty_cases_lie_in_rangtang_about_eight_at_shangduke_and_a_few_in_other_sichuan_counties():
    cases = working_set()
    rangtang = cases.filter(county__code=RANGTANG)
    assert 36 <= rangtang.count() <= 46
    assert 7 <= rangtang.filter(school__name=SHANGDUKE).count() <= 10
    others = Counter(cases.exclude(county__code=RANGTANG).values_list("county__code", flat=True))
    assert len(others) == 2 and all(3 <= n <= 6 for n in others.values())
    assert all(code.startswith("51") for code in others)


def test_rangtang_has_children_entered_twice_and_the_search_proposed_them_to_the_county_official():
    rangtang = Student.objects.filter(cases__in=working_set().filter(county__code=RANGTANG)).distinct().order_by("pk")
    zhang, tashi = list(rangtang.filter(name__in=["张伟", "张玮"])), list(rangtang.filter(name="扎西"))
    assert [s.name for s in zhang] == ["张伟", "张玮"] and zhang[0].birth_date == zhang[1].birth_date
    first, second = (s.id_number for s in tashi)
    assert first[:15] == second[:15] and first[15:17] == second[16:14:-1]
    kinds = {frozenset((c.first_id, c.second_id)): c.kind for c in DuplicateCandidate.objects.all()}
    assert kinds[frozenset(s.pk for s in zhang)] == DuplicateKind.SAME_PINYIN
    assert kinds[frozenset(s.pk for s in tashi)] == DuplicateKind.ID_TYPO
    # One pair can be merged as it stands (one open case); the other needs one of its open cases closed first.
    assert sum(case.is_open for s in zhang for case in s.cases.all()) == 1
    assert sum(case.is_open for s in tashi for case in s.cases.all()) == 2
    assert candidates_visible_to(demo_user(Role.COUNTY)).filter(status=DuplicateStatus.OPEN).count() >= 2


def test_every_case_begins_within_the_window_before_the_anchor_and_nothing_is_dated_after_it():
    earliest = ANCHOR - datetime.timedelta(days=WINDOW_DAYS)
    assert working_set().filter(dropout_date__gte=earliest, dropout_date__lte=ANCHOR).count() == working_set().count()
    assert not DropoutCase.objects.filter(Q(dropout_date__gt=ANCHOR) | Q(struck_off_on__gt=ANCHOR)).exists()
    assert not CaseEvent.objects.filter(effective_date__gt=ANCHOR).exists()
    assert not PersuasionVisit.objects.filter(Q(visit_date__gt=ANCHOR) | Q(next_follow_up__gt=ANCHOR)).exists()
    assert not Student.objects.filter(birth_date__gt=ANCHOR).exists()


@pytest.mark.parametrize(("where", "minimum"), [({"county__code": RANGTANG}, 3), ({"school__name": SHANGDUKE}, 1)])
def test_the_mix_has_new_overdue_past_follow_up_returned_this_month_and_retention_due_cases(where, minimum):
    cases = list(working_set().filter(**where))
    open_cases = [case for case in cases if case.status in OPEN_STATUSES]
    since = ANCHOR - datetime.timedelta(days=FOLLOW_UP_DAYS)
    no_visit = [case for case in open_cases if last_visit(case) is None]
    overdue = [
        case
        for case in open_cases
        if case.dropout_date <= since and (last_visit(case) is None or last_visit(case).visit_date <= since)
    ]
    follow_up_passed = [
        case
        for case in open_cases
        if last_visit(case) and last_visit(case).visit_date > since and last_visit(case).next_follow_up < ANCHOR
    ]
    returned_this_month = [case for case in cases if case.returned_on and case.returned_on >= ANCHOR.replace(day=1)]
    retention = [case for case in cases if retention_due(case, ANCHOR)]
    assert len([case for case in no_visit if case.dropout_date > since]) >= minimum
    assert len([case for case in overdue if last_visit(case) is not None]) >= minimum
    assert len(follow_up_passed) >= minimum
    assert len(returned_this_month) >= minimum
    assert len(retention) >= minimum
    assert all(case.status == Status.DROPPED_OUT for case in no_visit)
    assert all(case.status == Status.PERSUADING for case in open_cases if last_visit(case) is not None)


def test_rangtang_has_a_relapse_a_closure_and_cases_due_each_retention_check():
    cases = working_set().filter(county__code=RANGTANG)
    relapse = cases.get(previous_case__isnull=False)
    assert relapse.status in OPEN_STATUSES and relapse.previous_case.status == Status.RELAPSED
    assert relapse.previous_case.dropout_date > LEDGER_END
    assert cases.filter(status=Status.CLOSED, closure_reason__code="moved_away").count() == 1
    due = [case for case in cases if retention_due(case, ANCHOR)]
    checks = Counter(check_events().filter(case=case).count() for case in due)
    assert checks[0] >= 3 and checks[1] >= 2


def test_the_county_dashboard_work_lists_are_not_empty_on_the_anchor_date():
    user = demo_user(Role.COUNTY)
    county = user.division
    assert selectors.overdue_follow_up(user, county, ANCHOR).filter(dropout_date__gt=LEDGER_END).count() >= 5
    assert selectors.returned_between(user, county, ANCHOR.replace(day=1), ANCHOR).count() >= 3
    due = selectors.retention_checks_due(cases_visible_to(user).filter(county=county), ANCHOR)
    assert due.filter(dropout_date__gt=LEDGER_END).count() >= 5


def test_a_case_of_another_sichuan_county_waits_to_move_into_rangtang_long_enough_to_show_as_stuck():
    handover = Handover.objects.select_related("case", "from_county", "to_county").get()
    assert (handover.status, handover.to_county.code, handover.requested_by_receiver) == ("pending", RANGTANG, False)
    assert handover.from_county.code.startswith("51") and handover.case.county == handover.from_county
    assert handover.case.is_open and handover.case.dropout_date < timezone.localdate(handover.requested_at)
    assert (ANCHOR - timezone.localdate(handover.requested_at)).days > STUCK_AFTER_DAYS
    official = demo_user(Role.COUNTY)
    assert list(pending_of_county(official, official.division)) == [handover]
    for role in (Role.PROVINCE, Role.MINISTRY):
        assert list(stuck_handovers(demo_user(role))) == [handover]
    assert not cases_visible_to(official).filter(pk=handover.case_id).exists()
    assert selectors.school_cases(demo_user(Role.PRINCIPAL), demo_user(Role.PRINCIPAL).school).count() >= 4


# --- who sees and who wrote


def test_the_principal_sees_exactly_their_schools_share_and_the_county_official_all_of_rangtangs():
    principal, official = demo_user(Role.PRINCIPAL), demo_user(Role.COUNTY)
    mine = set(cases_visible_to(principal).filter(dropout_date__gt=LEDGER_END))
    assert mine == set(working_set().filter(school=principal.school)) and mine
    editable = cases_editable_by(principal).filter(dropout_date__gt=LEDGER_END, status__in=OPEN_STATUSES)
    assert set(editable) == {case for case in mine if case.status in OPEN_STATUSES}
    rangtang = set(cases_visible_to(official).filter(dropout_date__gt=LEDGER_END))
    assert rangtang == set(working_set().filter(county__code=RANGTANG)) and mine < rangtang
    assert set(cases_editable_by(official)) >= rangtang


def test_the_principal_records_their_schools_cases_and_the_county_official_the_rest_of_rangtang():
    principal, official = demo_user(Role.PRINCIPAL), demo_user(Role.COUNTY)
    rangtang = CaseEvent.objects.filter(case__dropout_date__gt=LEDGER_END, case__county__code=RANGTANG)
    assert set(rangtang.filter(case__school=principal.school).values_list("recorded_by", flat=True)) == {principal.pk}
    assert set(rangtang.exclude(case__school=principal.school).values_list("recorded_by", flat=True)) == {official.pk}
    visits = PersuasionVisit.objects.filter(case__school=principal.school, case__dropout_date__gt=LEDGER_END)
    assert set(visits.values_list("recorded_by", flat=True)) == {principal.pk}
    named = {v["name"] for visit in visits for v in visit.visitors if v["role"] == VisitorRole.PRINCIPAL}
    assert named <= {principal.first_name}


def test_demo_logins_tells_the_county_official_and_the_principal_how_many_open_cases_wait(capsys):
    call_command("demo_logins")
    out = capsys.readouterr().out.strip().splitlines()
    lines = {spec.username: next(line for line in out if spec.username in line.split()) for spec in DEMO_USERS}
    for role in (Role.COUNTY, Role.PRINCIPAL):
        user = demo_user(role)
        count = cases_editable_by(user).filter(status__in=OPEN_STATUSES).count()
        assert count >= 5
        assert f"{count} open cases to work on" in lines[user.username]
    assert "open case" not in lines[demo_user(Role.MINISTRY).username]


# --- the invariants of the whole ledger, with the working set in it


def test_every_history_follows_the_lifecycle_and_each_case_summarises_its_events():
    events = defaultdict(list)
    for event in CaseEvent.objects.order_by("effective_date", "pk").iterator():
        events[event.case_id].append(event)
    # Each change of a case's responsible persons is a version of the case too.
    person_changes = Counter(ResponsiblePersonChange.objects.values_list("case_id", flat=True))
    for case in DropoutCase.objects.all():
        history = events[case.pk]
        assert (history[0].from_status, history[0].to_status) == ("", Status.DROPPED_OUT)
        assert history[0].effective_date == case.dropout_date
        for before, after in zip(history, history[1:], strict=False):
            assert after.from_status == before.to_status and after.effective_date >= before.effective_date
            if (after.from_status, after.to_status) != (Status.RETURNED, Status.RETURNED):  # an early retention check
                check_transition(after.from_status, after.to_status)
        assert case.status == history[-1].to_status and case.version == len(history) + person_changes[case.pk]
        struck = [e for e in history if e.to_status in (Status.RETURNED, Status.CLOSED)]
        assert case.struck_off_on == (struck[0].effective_date if struck else None)
        returned = [e for e in history if e.to_status == Status.RETURNED]
        assert case.returned_on == (returned[0].effective_date if returned else None)
        assert case.placement == (returned[0].placement if returned else "")
        assert not returned or case.placement in Placement.values
        closed = [e for e in history if e.to_status == Status.CLOSED]
        assert case.closure_reason_id == (closed[0].closure_reason_id if closed else None)


def test_retention_checks_come_30_and_90_days_after_a_return():
    returned_on = dict(working_set().filter(returned_on__isnull=False).values_list("pk", "returned_on"))
    gaps = Counter(
        (day - returned_on[case_id]).days
        for case_id, day in check_events().filter(case__in=returned_on).values_list("case_id", "effective_date")
    )
    assert set(gaps) == {30, 90}


def test_one_open_case_per_child_and_no_two_episodes_of_a_child_overlap():
    doubled = DropoutCase.objects.filter(status__in=OPEN_STATUSES).values("student").annotate(n=Count("pk"))
    assert not doubled.filter(n__gt=1).exists()
    episodes = defaultdict(list)
    for student_id, start, end in DropoutCase.objects.values_list("student_id", "dropout_date", "struck_off_on"):
        episodes[student_id].append((start, end))
    for spans in episodes.values():
        spans.sort()
        for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False):
            assert end is not None and end < next_start


def test_a_relapse_ends_the_returned_episode_and_opens_a_linked_case_on_the_relapse_date():
    for case in working_set().filter(previous_case__isnull=False).select_related("previous_case"):
        old = case.previous_case
        assert old.student_id == case.student_id and old.school_id == case.school_id
        assert old.status == Status.RELAPSED and old.struck_off_on == old.returned_on < case.dropout_date
        assert old.events.get(to_status=Status.RELAPSED).effective_date == case.dropout_date
        assert case.grade >= old.grade


def test_visits_lie_within_their_episode_the_first_starts_persuasion_and_a_return_follows_agreement():
    cases = {case.pk: case for case in working_set()}
    persuading = dict(
        CaseEvent.objects.filter(case__in=cases, to_status=Status.PERSUADING).values_list("case_id", "effective_date")
    )
    first, last = {}, {}
    for visit in PersuasionVisit.objects.filter(case__in=cases).order_by("visit_date", "pk"):
        case = cases[visit.case_id]
        assert case.dropout_date <= visit.visit_date <= (case.struck_off_on or ANCHOR)
        assert visit.next_follow_up is None or visit.next_follow_up >= visit.visit_date
        assert (
            visit.notes
            and visit.visitors
            and all(v["role"] in VisitorRole.values and v["name"] for v in visit.visitors)
        )
        first.setdefault(visit.case_id, visit.visit_date)
        last[visit.case_id] = visit
    assert first == persuading
    for pk, case in cases.items():
        if case.returned_on:
            assert last[pk].outcome == VisitOutcome.AGREED
        if case.status == Status.CLOSED:
            assert last[pk].outcome == VisitOutcome.NOT_FOUND


def test_children_have_valid_identifiers_that_agree_with_birth_gender_county_and_grade():
    grades = {
        SchoolKind.PRIMARY: range(1, 7),
        SchoolKind.TEACHING_POINT: range(1, 4),
        SchoolKind.JUNIOR: range(7, 10),
        SchoolKind.NINE_YEAR: range(1, 10),
    }
    for case in working_set().select_related("student", "school", "county"):
        student = case.student
        validate_id_number(student.id_number)
        validate_registry_number(student.registry_number)
        assert student.registry_number == "G" + student.id_number
        assert id_birth_date(student.id_number) == student.birth_date
        assert id_gender(student.id_number) == student.gender
        assert student.id_number[:6] == case.county.code == case.school.county.code
        assert student.name and student.guardian_name and re.fullmatch(r"1\d{10}", student.guardian_phone)
        assert student.address.startswith(case.county.name + case.school.township)
        assert not student.registered_poor
        year = case.dropout_date.year if case.dropout_date.month >= 9 else case.dropout_date.year - 1
        born = student.birth_date
        age = year - born.year - ((born.month, born.day) > (8, 31))
        assert age in (case.grade + 5, case.grade + 6)
        assert case.grade in grades[case.school.kind]


def test_every_case_has_responsible_persons_on_both_lines_with_the_schools_principal():
    for case in working_set().select_related("school"):
        persons = {person.role: person for person in case.responsible_persons.all()}
        assert {person.line for person in persons.values()} == {Line.GOVERNMENT, Line.EDUCATION}
        assert persons["parent"].name == case.student.guardian_name
    shangduke = ResponsiblePerson.objects.filter(case__school__name=SHANGDUKE, role="principal")
    assert set(shangduke.values_list("name", flat=True)) == {demo_user(Role.PRINCIPAL).first_name}


# --- the calibrated history is untouched


def test_the_calibrated_history_is_row_for_row_what_it_was_before_the_working_set(ledger):
    assert history_fingerprint() == ledger["before"]["fingerprint"]
    assert working_set().filter(dropout_date__lte=LEDGER_END).count() == 0


def test_every_days_open_count_up_to_the_end_of_the_history_is_unchanged(ledger):
    assert daily_open_counts() == ledger["before"]["daily"]


@pytest.mark.parametrize("series", ["national", "group", "poor"])
def test_the_published_figures_still_hold_exactly(series):
    group = CountyGroup.objects.get(slug="poverty-52")
    for day, figure in expected_open_counts(CASES)[series].items():
        cases = open_on(day)
        if series == "group":
            cases = cases.filter(county__in=group.counties_on(day))
        elif series == "poor":
            cases = cases.filter(student__registered_poor=True)
        assert cases.count() == figure, (series, day)


# --- determinism and the anchor date


def test_the_same_seed_and_anchor_give_the_same_working_set_and_another_anchor_another(ledger):
    trials = ledger["trials"]
    assert working_set_fingerprint() == trials["first"]
    assert trials["other"] != trials["first"]


def test_seed_demo_if_empty_adds_no_second_working_set(capsys):
    before = DropoutCase.objects.count()
    call_command("seed_demo", "--cases", str(CASES), "--if-empty", "--today", ANCHOR.isoformat())
    assert "left as it is" in capsys.readouterr().out
    assert DropoutCase.objects.count() == before


@pytest.mark.parametrize(
    ("anchor", "message"),
    [
        (lambda: timezone.localdate() + datetime.timedelta(days=1), "in the future"),
        (lambda: EARLIEST_ANCHOR - datetime.timedelta(days=1), "after the calibrated history"),
    ],
    ids=["tomorrow", "within the history"],
)
def test_an_anchor_in_the_future_or_within_the_history_is_refused_before_anything_is_written(anchor, message):
    # The day is taken when the test runs, not when it is collected: a run may cross midnight.
    today = anchor()
    before = DropoutCase.objects.count()
    with pytest.raises(SeedError, match=message):
        seed_demo(cases=CASES, seed=SEED, reset=True, today=today)
    assert DropoutCase.objects.count() == before
