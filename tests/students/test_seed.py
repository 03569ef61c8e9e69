"""The demo ledger: calibration to the published figures, the invariants the services would enforce, the
real case and the demo users. One ledger of 6,000 cases is built for the module (it is bulk-loaded and
committed, then wiped when the module ends)."""

import datetime
import re
from collections import Counter, defaultdict

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Count, Q

from counties.models import CountyGroup, Division, Role, School, SchoolKind, User
from students.access import cases_editable_by, cases_visible_to, schools_visible_to, scope_for
from students.choices import OPEN_STATUSES, Line, Placement, Status, VisitMethod, VisitorRole, VisitOutcome
from students.demo.calibration import END_OF_2020, LEDGER_END, SEPTEMBER_2020, baseline_date, published_figures
from students.demo.seed import SeedError, seed_demo
from students.demo.users import DEMO_USERS
from students.identifiers import id_birth_date, id_gender, validate_id_number, validate_registry_number
from students.lifecycle import check_transition
from students.models import CaseEvent, DropoutCase, PersuasionVisit, ResponsiblePerson, Student
from students.worklist import check_events

from .seed_helpers import build, open_on, wipe

CASES = 6_000
SEED = 7


@pytest.fixture(scope="module")
def ledger(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        result = build(CASES, SEED)
    yield result
    with django_db_blocker.unblock():
        wipe()


pytestmark = pytest.mark.usefixtures("ledger", "db")


def scaled(figure: int) -> int:
    """round(k × figure) with k = cases / 600,000 (no published figure lands on a half at this size)."""
    return round(figure * CASES / 600_000)


def published_dates(series: str):
    return sorted(published_figures()[series].items())


# --- calibration


@pytest.mark.parametrize(("day", "figure"), published_dates("national"))
def test_national_open_count_is_the_scaled_published_figure(day, figure):
    assert open_on(day).count() == scaled(figure)


@pytest.mark.parametrize(("day", "figure"), published_dates("group"))
def test_open_count_in_the_52_counties_as_of_the_date_is_the_scaled_published_figure(day, figure):
    group = CountyGroup.objects.get(slug="poverty-52")
    assert group.counties_on(day).count() == 52
    assert open_on(day).filter(county__in=group.counties_on(day)).count() == scaled(figure)


@pytest.mark.parametrize(("day", "figure"), published_dates("poor"))
def test_registered_poor_open_count_is_the_scaled_published_figure(day, figure):
    assert open_on(day).filter(student__registered_poor=True).count() == scaled(figure)


def test_no_registered_poor_case_is_open_on_any_day_from_september_15_2020():
    poor = DropoutCase.objects.filter(student__registered_poor=True)
    assert not poor.filter(struck_off_on__isnull=True).exists()
    assert not poor.filter(struck_off_on__gt=SEPTEMBER_2020).exists()


def test_the_baseline_figures_are_the_published_ones_scaled():
    baseline = baseline_date()
    assert baseline == datetime.date(2019, 5, 31)
    assert open_on(baseline).count() == CASES
    assert open_on(baseline).filter(dropout_date__lt=datetime.date(2018, 9, 1)).count() == 0


def test_open_count_falls_day_by_day_without_steps_between_the_published_dates():
    counts = [open_on(day).count() for day in _days(baseline_date(), END_OF_2020, step=3)]
    assert all(later <= earlier for earlier, later in zip(counts, counts[1:], strict=False))
    # No step: over three days the count never falls by more than a steady exponential decline would.
    for earlier, later in zip(counts, counts[1:], strict=False):
        assert earlier - later <= max(3, 0.06 * earlier)


def test_there_are_new_dropouts_and_relapses_after_the_baseline():
    after = DropoutCase.objects.filter(dropout_date__gt=baseline_date())
    assert after.filter(previous_case__isnull=True).count() > 0.01 * CASES
    assert after.filter(previous_case__isnull=False).count() > 0.005 * CASES
    assert not DropoutCase.objects.filter(dropout_date__lte=baseline_date(), previous_case__isnull=False).exists()


# --- identities


def test_every_id_number_is_valid_and_agrees_with_birth_date_gender_and_county():
    first_county = dict(
        DropoutCase.objects.filter(previous_case__isnull=True).values_list("student_id", "county__code")
    )
    for student in Student.objects.all():
        validate_id_number(student.id_number)
        validate_registry_number(student.registry_number)
        assert student.registry_number == "G" + student.id_number
        assert id_birth_date(student.id_number) == student.birth_date
        assert id_gender(student.id_number) == student.gender
        assert student.id_number[:6] == first_county[student.pk]
        assert student.name and student.guardian_name and re.fullmatch(r"1\d{10}", student.guardian_phone)


def test_birth_date_fits_the_grade_at_dropout():
    """A child in grade g was g + 5 on 31 August before the school year, or a year older if they started late."""
    for case in DropoutCase.objects.select_related("student"):
        year = case.dropout_date.year if case.dropout_date.month >= 9 else case.dropout_date.year - 1
        born = case.student.birth_date
        age = year - born.year - ((born.month, born.day) > (8, 31))
        assert age in (case.grade + 5, case.grade + 6), (case.pk, case.grade, born, case.dropout_date)


def test_ethnicity_follows_the_region():
    tibet = Student.objects.filter(cases__county__code__startswith="54").distinct()
    liangshan = Student.objects.filter(cases__county__code__startswith="5134").distinct()
    assert tibet.count() > 20 and liangshan.count() > 20
    assert tibet.filter(ethnicity="04").count() > 0.85 * tibet.count()
    assert liangshan.filter(ethnicity="07").count() > 0.4 * liangshan.count()
    assert Student.objects.filter(ethnicity="01").count() > 0.5 * Student.objects.count()


def test_cases_weigh_more_in_the_west_and_in_the_poverty_group():
    west = ("54", "63", "65", "62", "64", "51", "52", "53", "45")
    east = ("11", "12", "31", "32", "33", "35", "37", "44")
    by_province = Counter(DropoutCase.objects.values_list("county__code", flat=True).iterator())
    in_west = sum(n for code, n in by_province.items() if code[:2] in west)
    in_east = sum(n for code, n in by_province.items() if code[:2] in east)
    assert in_west > 5 * in_east
    group = CountyGroup.objects.get(slug="poverty-52").counties_on(baseline_date())
    assert (
        open_on(baseline_date()).filter(county__in=group).count() / 52 > 3 * CASES / Division.objects.counties().count()
    )


# --- schools


def test_schools_have_ten_digit_codes_of_their_county_and_fit_the_grades_of_their_cases():
    schools = School.objects.select_related("county")
    assert CASES / 4 < schools.count() < CASES / 2
    for school in schools:
        assert re.fullmatch(r"\d{10}", school.code)
        assert school.code[1:7] == school.county.code
        assert school.name.endswith(("小学", "中学", "学校", "教学点")) and school.township
    grades = {
        SchoolKind.PRIMARY: range(1, 7),
        SchoolKind.TEACHING_POINT: range(1, 4),
        SchoolKind.JUNIOR: range(7, 10),
        SchoolKind.NINE_YEAR: range(1, 10),
        SchoolKind.SPECIAL: range(1, 10),
    }
    for kind, grade, county_id, school_county_id in DropoutCase.objects.values_list(
        "school__kind", "grade", "county_id", "school__county_id"
    ):
        assert grade in grades[kind]
        assert county_id == school_county_id
    per_county = Counter(School.objects.values_list("county_id", flat=True))
    used = set(DropoutCase.objects.values_list("county_id", flat=True))
    assert all(per_county[county] >= 3 for county in used)
    assert School.objects.filter(name__endswith="中心小学").exists()
    assert School.objects.filter(name__regex=r"县第二中学$").exists()


# --- the lifecycle, as the services would have written it


def test_every_case_history_follows_the_lifecycle_and_the_case_summarises_its_events():
    events = defaultdict(list)
    for event in CaseEvent.objects.order_by("effective_date", "pk").iterator():
        events[event.case_id].append(event)
    for case in DropoutCase.objects.all():
        history = events[case.pk]
        first = history[0]
        assert (first.from_status, first.to_status, first.effective_date) == ("", Status.DROPPED_OUT, case.dropout_date)
        for before, after in zip(history, history[1:], strict=False):
            assert after.from_status == before.to_status
            if (after.from_status, after.to_status) != (Status.RETURNED, Status.RETURNED):  # an early retention check
                check_transition(after.from_status, after.to_status)
            assert after.effective_date >= before.effective_date
        assert case.status == history[-1].to_status
        assert case.version == len(history)
        struck = [e for e in history if e.to_status in (Status.RETURNED, Status.CLOSED)]
        assert case.struck_off_on == (struck[0].effective_date if struck else None)
        returned = [e for e in history if e.to_status == Status.RETURNED]
        assert case.returned_on == (returned[0].effective_date if returned else None)
        assert case.placement == (returned[0].placement if returned else "")
        if returned:
            assert case.placement in Placement.values
        closed = [e for e in history if e.to_status == Status.CLOSED]
        assert case.closure_reason_id == (closed[0].closure_reason_id if closed else None)
        assert all(e.effective_date <= LEDGER_END for e in history)


def test_retention_checks_follow_a_return_at_about_30_and_90_days():
    gaps = Counter()
    returned_on = dict(DropoutCase.objects.filter(returned_on__isnull=False).values_list("pk", "returned_on"))
    for case_id, day in check_events().values_list("case_id", "effective_date"):
        gaps[(day - returned_on[case_id]).days] += 1
    assert set(gaps) == {30, 90}
    assert DropoutCase.objects.filter(status=Status.CLOSED, closure_reason__isnull=False).exists()


def test_at_most_one_open_case_per_student():
    doubled = (
        DropoutCase.objects.filter(status__in=OPEN_STATUSES).values("student").annotate(n=Count("pk")).filter(n__gt=1)
    )
    assert not doubled.exists()
    # And no two episodes of one child overlap in time.
    episodes = defaultdict(list)
    for student_id, start, end in DropoutCase.objects.values_list("student_id", "dropout_date", "struck_off_on"):
        episodes[student_id].append((start, end))
    for spans in episodes.values():
        spans.sort()
        for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False):
            assert end is not None and end < next_start


def test_a_relapse_ends_the_old_episode_and_opens_a_linked_one_on_the_relapse_date():
    relapses = DropoutCase.objects.filter(previous_case__isnull=False).select_related("previous_case")
    assert relapses.exists()
    for case in relapses:
        old = case.previous_case
        assert old.student_id == case.student_id and old.county_id == case.county_id
        assert old.status == Status.RELAPSED and old.returned_on is not None
        assert old.struck_off_on == old.returned_on < case.dropout_date
        relapse = old.events.get(to_status=Status.RELAPSED)
        assert relapse.effective_date == case.dropout_date
        assert case.grade >= old.grade
    assert DropoutCase.objects.filter(status=Status.RELAPSED).count() == relapses.count()


def test_visits_lie_within_their_episode_and_the_first_one_starts_the_persuasion():
    cases = {c.pk: c for c in DropoutCase.objects.all()}
    persuading = dict(CaseEvent.objects.filter(to_status=Status.PERSUADING).values_list("case_id", "effective_date"))
    first_visit = {}
    roles, methods, outcomes = set(), Counter(), Counter()
    for visit in PersuasionVisit.objects.order_by("visit_date", "pk").iterator():
        case = cases[visit.case_id]
        assert case.dropout_date <= visit.visit_date <= (case.struck_off_on or LEDGER_END)
        assert visit.next_follow_up is None or visit.next_follow_up >= visit.visit_date
        assert visit.visitors and all(v["role"] in VisitorRole.values and v["name"] for v in visit.visitors)
        assert visit.notes
        roles.update(v["role"] for v in visit.visitors)
        methods[visit.method] += 1
        outcomes[visit.outcome] += 1
        first_visit.setdefault(visit.case_id, visit.visit_date)
    assert first_visit == persuading
    assert 3.5 <= PersuasionVisit.objects.count() / len(cases) <= 4.5
    assert set(methods) == set(VisitMethod.values) and set(outcomes) == set(VisitOutcome.values)
    assert roles >= {VisitorRole.PRINCIPAL, VisitorRole.CLASS_TEACHER, VisitorRole.VILLAGE_CADRE}


def test_every_returned_case_ends_its_visits_with_agreement():
    last = {}
    for case_id, outcome in PersuasionVisit.objects.order_by("visit_date", "pk").values_list("case_id", "outcome"):
        last[case_id] = outcome
    returned = DropoutCase.objects.filter(returned_on__isnull=False).values_list("pk", flat=True)
    assert all(last[pk] == VisitOutcome.AGREED for pk in returned if pk in last)


def test_every_case_has_responsible_persons_on_both_lines():
    lines = defaultdict(set)
    for case_id, line in ResponsiblePerson.objects.values_list("case_id", "line"):
        lines[case_id].add(line)
    assert len(lines) == DropoutCase.objects.count()
    assert all(found == {Line.GOVERNMENT, Line.EDUCATION} for found in lines.values())


@pytest.mark.parametrize("model", [Student, DropoutCase, CaseEvent, PersuasionVisit, ResponsiblePerson, School])
def test_bulk_loaded_rows_pass_the_model_validation_the_services_run(model):
    keys = list(model.objects.order_by("pk").values_list("pk", flat=True))
    sample = model.objects.filter(pk__in=keys[:: max(1, len(keys) // 100)])
    assert sample
    for row in sample:
        row.full_clean(validate_unique=False)


def test_nothing_is_dated_in_the_future():
    today = datetime.date.today()
    assert not DropoutCase.objects.filter(Q(dropout_date__gt=today) | Q(struck_off_on__gt=today)).exists()
    assert not CaseEvent.objects.filter(effective_date__gt=today).exists()
    assert not PersuasionVisit.objects.filter(Q(visit_date__gt=today) | Q(next_follow_up__gt=today)).exists()
    assert not Student.objects.filter(birth_date__gt=today).exists()


# --- the real case


def test_sang_qingzhuoma_returned_to_shangduke_primary_school_after_repeated_home_visits():
    case = DropoutCase.objects.select_related("student", "school", "county").get(student__name="桑青卓玛")
    assert case.school.name == "上杜柯乡小学" and case.school.county.code == "513230"
    assert case.county.name == "壤塘县" and case.county.prefecture.name == "阿坝藏族羌族自治州"
    assert case.county.province.name == "四川省"
    assert case.student.gender == "F" and case.student.ethnicity == "04"
    assert case.returned_on is not None and case.placement == Placement.REGULAR_CLASS
    assert case.status == Status.RETAINED
    home_visits = case.visits.filter(method=VisitMethod.HOME_VISIT, visit_date__lt=case.returned_on)
    assert home_visits.count() >= 3
    visitors = {v["role"] for visit in home_visits for v in visit.visitors}
    assert {VisitorRole.PRINCIPAL, VisitorRole.VILLAGE_CADRE} <= visitors
    assert case.events.filter(note__contains="学习委员").exists()
    assert case.responsible_persons.get(role="principal").name == User.objects.get(username="shangduke").first_name


# --- the demo users


def test_demo_users_exist_one_per_role_and_sign_in_with_their_listed_password():
    assert {user.role for user in DEMO_USERS} == set(Role.values)
    for spec in DEMO_USERS:
        user = authenticate(username=spec.username, password=spec.password)
        assert user is not None and user.role == spec.role
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", user.get_full_name())


def test_demo_users_see_exactly_their_area():
    users = {user.role: user for user in User.objects.filter(username__in=[u.username for u in DEMO_USERS])}
    everything = DropoutCase.objects.count()
    assert cases_visible_to(users[Role.MINISTRY]).count() == everything
    assert not cases_editable_by(users[Role.MINISTRY]).exists()
    assert not scope_for(users[Role.MINISTRY]).sees_identifiers
    sichuan = DropoutCase.objects.filter(county__code__startswith="51")
    assert cases_visible_to(users[Role.PROVINCE]).count() == sichuan.count() < everything
    aba = DropoutCase.objects.filter(county__code__startswith="5132")
    assert cases_visible_to(users[Role.PREFECTURE]).count() == aba.count() < sichuan.count()
    rangtang = cases_visible_to(users[Role.COUNTY])
    assert set(rangtang) == set(DropoutCase.objects.filter(county__code="513230"))
    assert set(cases_editable_by(users[Role.COUNTY])) == set(rangtang)
    principal = users[Role.PRINCIPAL]
    own = cases_visible_to(principal)
    assert set(own) == set(DropoutCase.objects.filter(school__name="上杜柯乡小学"))
    assert own.filter(student__name="桑青卓玛").exists()
    assert list(schools_visible_to(principal)) == [principal.school]
    admin = users[Role.ADMIN]
    assert admin.is_staff and admin.is_superuser and cases_editable_by(admin).count() == everything


def test_demo_logins_prints_one_line_per_role_with_username_and_password(capsys):
    call_command("demo_logins")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(DEMO_USERS)
    for line, spec in zip(lines, DEMO_USERS, strict=True):
        assert spec.username in line and spec.password in line and spec.full_name in line


# --- re-running


def test_seed_with_if_empty_leaves_an_existing_ledger_alone():
    before = DropoutCase.objects.count()
    assert seed_demo(cases=200, seed=1, if_empty=True).skipped
    assert DropoutCase.objects.count() == before


def test_seed_refuses_to_add_to_an_existing_ledger_without_reset():
    with pytest.raises(SeedError, match="--reset"):
        seed_demo(cases=200, seed=1)


def _days(first: datetime.date, last: datetime.date, step: int = 1):
    day = first
    while day <= last:
        yield day
        day += datetime.timedelta(days=step)
