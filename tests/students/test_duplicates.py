"""Duplicates without a shared ID: the matching rules, the nightly search, merging and its undo, and the screens.

The area (tests/conftest.py): a home county and a neighbouring county in one prefecture, a far county in another
province. Neighbouring counties are the counties of the same prefecture.
"""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from counties.models import Role
from students import tasks
from students.choices import DuplicateKind, DuplicateStatus, IdentitySource, Placement, VisitMethod, VisitOutcome
from students.duplicates import duplicates_find, ids_one_typo_apart, name_key, one_typo_apart
from students.identifiers import id_check_char, validate_id_number
from students.merging import duplicate_decide_not_same, students_merge, students_merge_undo
from students.models import (
    DuplicateCandidate,
    IdentifierAccess,
    IdentityChange,
    LedgerCorrection,
    Student,
    StudentMerge,
)
from students.services import case_mark_returned, visit_record
from tests.factories import CountyFactory, SchoolFactory, StudentFactory, UserFactory, make_id_number, open_case

pytestmark = pytest.mark.django_db

BORN = datetime.date(2012, 5, 17)
DROPPED = datetime.date(2024, 3, 1)


def child(county, name: str, *, gender: str = "M", birth: datetime.date = BORN, sequence: str = "013", **fields):
    """A child registered in `county`, with an ID number that agrees with their birth date and gender."""
    id_number = make_id_number(county.code, birth, int(sequence))
    assert (int(sequence[-1]) % 2 == 1) == (gender == "M"), "the sequence code's parity is the gender"
    values = {"id_number": id_number, "registry_number": f"G{id_number}", **fields}
    return StudentFactory(name=name, gender=gender, birth_date=birth, **values)


def with_case(school, student, *, dropout_date=DROPPED, returned: bool = False, visits: int = 1):
    case = open_case(school, student=student, dropout_date=dropout_date)
    for n in range(visits):
        visit_record(
            case=case,
            visit_date=dropout_date + datetime.timedelta(days=1 + n),
            visitors=[{"role": "principal", "name": "王校长"}],
            method=VisitMethod.HOME_VISIT,
            outcome=VisitOutcome.AGREED if returned else VisitOutcome.REFUSED,
        )
    if returned:
        case_mark_returned(
            case=case, returned_on=dropout_date + datetime.timedelta(days=20), placement=Placement.REGULAR_CLASS
        )
    return case


def candidates() -> dict[frozenset, str]:
    return {frozenset((c.first_id, c.second_id)): c.kind for c in DuplicateCandidate.objects.all()}


def pair(a: Student, b: Student) -> frozenset:
    return frozenset((a.pk, b.pk))


# --- the matching rules


def test_names_are_compared_in_pinyin_without_tones_after_mapping_variant_characters():
    assert name_key("张伟") == name_key("张玮") == name_key("張偉") == "zhang wei"
    assert name_key("扎西") == name_key("扎喜") == "zha xi"
    assert name_key("阿卜杜拉·艾力") == name_key("阿卜杜拉 艾力") == name_key("阿卜杜拉艾力")
    assert name_key("张伟") != name_key("张维娜")


def test_one_typo_apart_is_one_substituted_character_or_one_adjacent_transposition():
    assert one_typo_apart("5132302012051701", "5132302012051702")
    assert one_typo_apart("5132302012051713", "5132302012051731")
    assert not one_typo_apart("5132302012051713", "5132302012051713")
    assert not one_typo_apart("5132302012051713", "5132302012051722")  # two digits changed
    assert not one_typo_apart("5132302012051713", "5132302012051371")  # not adjacent
    assert not one_typo_apart("51323020120517", "513230201205171")


def test_the_check_character_catches_every_single_typo_so_both_numbers_passing_means_the_body_was_mistyped():
    # ISO 7064 MOD 11-2 detects every substitution and every adjacent transposition of the 18 characters: two
    # valid ID numbers are never one such typo apart. A typo that "still passes the check" was made in the first
    # 17 digits before the check character was computed for them (by the entry system or from a wrong document).
    valid = make_id_number("513230", BORN, 13)
    swapped_ends = valid[:16] + valid[17] + valid[16]
    with pytest.raises(ValidationError):
        validate_id_number(swapped_ends)
    body = valid[:15] + valid[16] + valid[15]
    retyped = body + id_check_char(body)
    validate_id_number(retyped)
    assert ids_one_typo_apart(valid, retyped)
    assert not ids_one_typo_apart(valid, make_id_number("513230", BORN, 35))  # two digits apart


def test_zhang_wei_and_zhang_wei_with_another_character_born_the_same_day_are_proposed(area):
    zhang_wei = with_case(area["school"], child(area["county"], "张伟", sequence="013")).student
    zhang_wei_2 = with_case(area["other_school"], child(area["county"], "张玮", sequence="057")).student

    assert duplicates_find() == 1

    assert candidates() == {pair(zhang_wei, zhang_wei_2): DuplicateKind.SAME_PINYIN}
    candidate = DuplicateCandidate.objects.get()
    assert candidate.first_id < candidate.second_id and candidate.status == DuplicateStatus.OPEN


def test_tashi_with_the_last_two_digits_before_the_check_character_swapped_is_proposed(area):
    tashi = with_case(area["school"], child(area["county"], "扎西", sequence="013")).student
    typo = with_case(area["school"], child(area["county"], "扎西", sequence="031")).student
    assert tashi.id_number[:15] == typo.id_number[:15] and tashi.id_number[15:17] == typo.id_number[16:14:-1]

    duplicates_find()

    assert candidates() == {pair(tashi, typo): DuplicateKind.ID_TYPO}


def test_an_id_typo_is_proposed_whatever_the_names_and_birth_dates(area):
    # A typo in the birth-date digits: the records' birth dates differ as their ID numbers do.
    first = with_case(area["school"], child(area["county"], "扎西", birth=datetime.date(2012, 5, 17))).student
    second = with_case(area["school"], child(area["county"], "洛桑", birth=datetime.date(2012, 5, 18))).student
    assert ids_one_typo_apart(first.id_number, second.id_number)

    duplicates_find()

    assert candidates() == {pair(first, second): DuplicateKind.ID_TYPO}


def test_registry_numbers_one_typo_apart_are_proposed_when_the_id_numbers_are_not_recorded(area):
    first = child(area["county"], "次仁", sequence="013")
    second = child(area["county"], "才让", sequence="031", birth=datetime.date(2011, 2, 3))
    second.registry_number = "G" + first.id_number[:15] + "31" + id_check_char(first.id_number[:15] + "31")
    Student.objects.filter(pk__in=[first.pk, second.pk]).update(id_number=None)
    Student.objects.filter(pk=second.pk).update(registry_number=second.registry_number)
    with_case(area["school"], first)
    with_case(area["school"], second)

    duplicates_find()

    assert candidates() == {pair(first, second): DuplicateKind.REGISTRY_TYPO}


def test_the_same_name_with_different_birth_dates_is_not_proposed(area):
    with_case(area["school"], child(area["county"], "张伟", birth=datetime.date(2012, 5, 17), sequence="013"))
    with_case(area["school"], child(area["county"], "张伟", birth=datetime.date(2012, 8, 2), sequence="057"))

    assert duplicates_find() == 0
    assert not DuplicateCandidate.objects.exists()


def test_the_same_name_and_birth_date_with_another_gender_is_not_proposed(area):
    with_case(area["school"], child(area["county"], "张伟", gender="M", sequence="013"))
    with_case(area["school"], child(area["county"], "张薇", gender="F", sequence="058"))

    duplicates_find()

    assert not DuplicateCandidate.objects.exists()


def test_neighbouring_counties_are_searched_together_and_other_prefectures_are_not(area):
    home = with_case(area["school"], child(area["county"], "张伟", sequence="013")).student
    neighbour = with_case(area["neighbour_school"], child(area["neighbour"], "张玮", sequence="057")).student
    with_case(area["far_school"], child(area["far"], "张炜", sequence="079"))

    duplicates_find()

    assert candidates() == {pair(home, neighbour): DuplicateKind.SAME_PINYIN}


def test_a_child_with_cases_in_two_counties_is_paired_in_both(area):
    moved = child(area["county"], "张伟", sequence="013")
    with_case(area["school"], moved, returned=True, dropout_date=datetime.date(2023, 3, 1))
    with_case(area["far_school"], moved)
    far = with_case(area["far_school"], child(area["far"], "张炜", sequence="079")).student

    duplicates_find()

    assert candidates() == {pair(moved, far): DuplicateKind.SAME_PINYIN}


def test_a_second_search_proposes_nothing_new_and_a_pair_decided_not_the_same_child_is_not_proposed_again(area, users):
    first = with_case(area["school"], child(area["county"], "张伟", sequence="013")).student
    second = with_case(area["school"], child(area["county"], "张玮", sequence="057")).student
    duplicates_find()
    assert duplicates_find() == 0
    candidate = DuplicateCandidate.objects.get()

    duplicate_decide_not_same(candidate=candidate, user=users["county"])

    assert duplicates_find() == 0
    candidate = DuplicateCandidate.objects.get()
    assert (candidate.first_id, candidate.second_id) == (first.pk, second.pk)
    assert candidate.status == DuplicateStatus.NOT_SAME and candidate.decided_by == users["county"]


def test_a_merged_record_is_left_out_of_the_search(area):
    kept = with_case(area["school"], child(area["county"], "张伟", sequence="013"), returned=True).student
    gone = with_case(area["school"], child(area["county"], "张玮", sequence="057")).student
    Student.objects.filter(pk=gone.pk).update(merged_into=kept)
    other = with_case(area["other_school"], child(area["county"], "张炜", sequence="079")).student

    duplicates_find()

    assert candidates() == {pair(kept, other): DuplicateKind.SAME_PINYIN}


# --- merging


@pytest.fixture
def twins(area):
    """张伟, returned to school last year, and 张玮, dropped out this year: one child entered twice."""
    kept = child(area["county"], "张伟", sequence="013", guardian_phone="")
    merged = child(area["county"], "张玮", sequence="057", guardian_phone="13912345678", address="壤塘县上杜柯乡")
    old = with_case(area["school"], kept, dropout_date=datetime.date(2023, 3, 1), returned=True, visits=2)
    new = with_case(area["other_school"], merged, dropout_date=DROPPED, visits=3)
    duplicates_find()
    return {"kept": kept, "merged": merged, "old": old, "new": new, "candidate": DuplicateCandidate.objects.get()}


def snapshot(*students: Student) -> list[tuple]:
    fields = [f.attname for f in Student._meta.concrete_fields]
    return [Student.objects.filter(pk=s.pk).values_list(*fields).get() for s in students]


def test_a_merge_moves_every_case_with_its_history_and_fills_the_kept_records_blanks(twins, users):
    kept, merged, new = twins["kept"], twins["merged"], twins["new"]
    events, visits = new.events.count(), new.visits.count()
    LedgerCorrection.objects.all().delete()

    merge = students_merge(candidate=twins["candidate"], kept=kept, user=users["county"])

    new.refresh_from_db()
    kept.refresh_from_db()
    merged.refresh_from_db()
    assert new.student_id == kept.pk and (new.events.count(), new.visits.count()) == (events, visits)
    assert set(kept.cases.values_list("pk", flat=True)) == {twins["old"].pk, new.pk}
    assert not merged.cases.exists() and merged.merged_into_id == kept.pk
    assert kept.name == "张伟" and kept.guardian_phone == "13912345678"
    assert (merge.kept, merge.merged, merge.candidate) == (kept, merged, twins["candidate"])
    assert merge.merged_by == users["county"]
    assert merge.moved_cases == [new.pk] and merge.kept_before["guardian_phone"] == ""
    change = IdentityChange.objects.get(student=kept)
    assert change.source == IdentitySource.MERGE and change.changed_by == users["county"]
    assert str(merge.pk) in change.detail and change.changes["guardian_phone"] == ["", "13912345678"]
    assert IdentityChange.objects.get(student=merged).source == IdentitySource.MERGE
    twins["candidate"].refresh_from_db()
    assert twins["candidate"].status == DuplicateStatus.SAME and twins["candidate"].decided_by == users["county"]
    assert LedgerCorrection.objects.get().first_day == datetime.date(2023, 3, 1)


def test_undoing_a_merge_restores_both_records_and_every_case_exactly(twins, users):
    kept, merged = twins["kept"], twins["merged"]
    before = snapshot(kept, merged)
    cases_before = {case.pk: case.student_id for case in (twins["old"], twins["new"])}
    merge = students_merge(candidate=twins["candidate"], kept=kept, user=users["county"])

    students_merge_undo(merge=merge, user=users["county"])

    assert snapshot(kept, merged) == before
    assert cases_before == {case.pk: case.student_id for case in kept.cases.all() | merged.cases.all()}
    merge.refresh_from_db()
    assert merge.undone_by == users["county"] and merge.undone_at is not None
    twins["candidate"].refresh_from_db()
    assert twins["candidate"].status == DuplicateStatus.OPEN and twins["candidate"].decided_by is None
    assert IdentityChange.objects.filter(student=kept, source=IdentitySource.UNMERGE).count() == 1
    with pytest.raises(ValidationError):
        students_merge_undo(merge=merge, user=users["county"])


def test_a_kept_record_without_an_id_number_takes_the_merged_ones_and_gives_it_back_on_undo(area, users):
    kept = child(area["county"], "张伟", sequence="013")
    merged = child(area["county"], "张玮", sequence="057")
    identifiers = (merged.id_number, merged.registry_number)
    Student.objects.filter(pk=kept.pk).update(id_number=None, registry_number=None)
    kept.refresh_from_db()
    with_case(area["school"], kept, returned=True, dropout_date=datetime.date(2023, 3, 1))
    with_case(area["school"], merged)
    duplicates_find()
    before = snapshot(kept, merged)

    merge = students_merge(candidate=DuplicateCandidate.objects.get(), kept=kept, user=users["admin"])

    kept.refresh_from_db()
    merged.refresh_from_db()
    assert (kept.id_number, kept.registry_number) == identifiers
    assert merged.id_number is None and merged.registry_number is None
    students_merge_undo(merge=merge, user=users["admin"])
    assert snapshot(kept, merged) == before


def test_a_merge_is_refused_while_both_children_have_an_open_case(area, users):
    first = with_case(area["school"], child(area["county"], "张伟", sequence="013")).student
    second = with_case(area["school"], child(area["county"], "张玮", sequence="057")).student
    duplicates_find()
    candidate = DuplicateCandidate.objects.get()

    with pytest.raises(ValidationError, match="Close one"):
        students_merge(candidate=candidate, kept=first, user=users["county"])

    assert not StudentMerge.objects.exists() and not IdentityChange.objects.exists()
    assert Student.objects.get(pk=second.pk).merged_into_id is None
    assert DuplicateCandidate.objects.get().status == DuplicateStatus.OPEN


@pytest.mark.parametrize("role", ["far", "principal", "prefecture"])
def test_only_the_officials_of_the_childrens_counties_and_administrators_decide(twins, users, area, role):
    deciders = {
        "far": UserFactory(role=Role.COUNTY, division=area["far"]),
        "principal": users["principal"],
        "prefecture": users["prefecture"],
    }
    with pytest.raises(PermissionDenied):
        students_merge(candidate=twins["candidate"], kept=twins["kept"], user=deciders[role])
    with pytest.raises(PermissionDenied):
        duplicate_decide_not_same(candidate=twins["candidate"], user=deciders[role])
    assert DuplicateCandidate.objects.get().status == DuplicateStatus.OPEN


def test_either_county_of_a_pair_across_two_counties_decides(area, users):
    home = with_case(area["school"], child(area["county"], "张伟", sequence="013"), returned=True).student
    with_case(area["neighbour_school"], child(area["neighbour"], "张玮", sequence="057"))
    duplicates_find()

    merge = students_merge(candidate=DuplicateCandidate.objects.get(), kept=home, user=users["neighbour_county"])

    students_merge_undo(merge=merge, user=users["county"])
    assert DuplicateCandidate.objects.get().status == DuplicateStatus.OPEN


# --- the nightly task and the command


def test_the_nightly_task_and_the_command_run_the_search(area):
    with_case(area["school"], child(area["county"], "张伟", sequence="013"))
    with_case(area["school"], child(area["county"], "张玮", sequence="057"))

    assert tasks.find_duplicates.delay().get() == 1
    out = io.StringIO()
    call_command("find_duplicates", stdout=out)
    assert "0 new" in out.getvalue()
    assert DuplicateCandidate.objects.count() == 1


def test_the_search_is_scheduled_every_night():
    task = PeriodicTask.objects.get(task="students.tasks.find_duplicates")
    assert task.enabled and task.crontab is not None
    assert (task.crontab.day_of_week, task.crontab.day_of_month, task.crontab.month_of_year) == ("*", "*", "*")
    assert str(task.crontab.timezone) == "Asia/Shanghai"


# --- the screens


def page(client, user, name="students:duplicates", *args) -> tuple[int, str]:
    client.force_login(user)
    response = client.get(reverse(name, args=args))
    return response.status_code, response.content.decode()


def test_the_county_official_sees_both_records_in_full_with_the_reason_and_the_view_is_logged(client, twins, users):
    status, html = page(client, users["county"])

    assert status == 200
    for student in (twins["kept"], twins["merged"]):
        assert student.name in html and student.id_number in html
    assert str(DuplicateKind.SAME_PINYIN.label) in html
    assert IdentifierAccess.objects.get(user=users["county"]).children == 2
    status, html = page(client, users["county"], "students:duplicate-detail", twins["candidate"].pk)
    assert status == 200 and twins["merged"].id_number in html


def test_a_pair_across_two_counties_shows_each_county_its_own_child_in_full_and_the_other_masked(client, area, users):
    home = with_case(area["school"], child(area["county"], "张伟", sequence="013")).student
    neighbour = with_case(area["neighbour_school"], child(area["neighbour"], "张玮", sequence="057")).student
    duplicates_find()

    status, html = page(client, users["county"])

    assert status == 200
    assert home.name in html and home.id_number in html
    assert neighbour.name not in html and neighbour.id_number not in html and neighbour.id_number[-6:] not in html
    assert "张**" in html and area["neighbour"].name in html
    status, html = page(client, users["neighbour_county"])
    assert neighbour.id_number in html and home.id_number not in html


def test_a_record_of_another_county_merged_into_the_countys_own_stays_masked_in_the_recent_merges(client, area, users):
    home = with_case(area["school"], child(area["county"], "张伟", sequence="013"), returned=True).student
    neighbour = with_case(area["neighbour_school"], child(area["neighbour"], "张玮", sequence="057")).student
    duplicates_find()
    students_merge(candidate=DuplicateCandidate.objects.get(), kept=home, user=users["county"])

    status, html = page(client, users["county"])

    assert status == 200 and home.id_number in html
    assert neighbour.name not in html and neighbour.registry_number not in html and "张**" in html
    assert IdentifierAccess.objects.get(user=users["county"]).children == 1


def test_a_third_countys_official_gets_404_for_the_candidate_and_sees_neither_child(client, twins, users, area):
    outsider = UserFactory(role=Role.COUNTY, division=area["far"])
    candidate = twins["candidate"]

    status, html = page(client, outsider)
    assert status == 200
    for student in (twins["kept"], twins["merged"]):
        assert student.name not in html and student.id_number not in html and student.name[0] + "**" not in html
    assert page(client, outsider, "students:duplicate-detail", candidate.pk)[0] == 404
    for name in ("students:duplicate-merge", "students:duplicate-not-same"):
        response = client.post(reverse(name, args=[candidate.pk]), {"keep": twins["kept"].pk})
        assert response.status_code == 404
    assert DuplicateCandidate.objects.get().status == DuplicateStatus.OPEN


@pytest.mark.parametrize("role", ["principal", "prefecture", "ministry"])
def test_principals_and_read_only_roles_have_no_duplicates_screen(client, twins, users, role):
    status, html = page(client, users[role])
    assert status == 403
    assert twins["kept"].name not in html
    assert page(client, users[role], "students:duplicate-detail", twins["candidate"].pk)[0] == 404


def test_same_child_merges_keeping_the_chosen_record_and_undo_restores_it(client, twins, users):
    client.force_login(users["county"])
    candidate = twins["candidate"]

    response = client.post(reverse("students:duplicate-merge", args=[candidate.pk]), {"keep": twins["merged"].pk})

    assert response.status_code == 302
    merge = StudentMerge.objects.get()
    assert (merge.kept, merge.merged) == (twins["merged"], twins["kept"])
    html = client.get(reverse("students:duplicates")).content.decode()
    assert reverse("students:merge-undo", args=[merge.pk]) in html
    response = client.post(reverse("students:merge-undo", args=[merge.pk]))
    assert response.status_code == 302
    merge.refresh_from_db()
    assert merge.undone_at is not None


def test_a_record_outside_the_pair_cannot_be_kept(client, twins, users, area):
    stranger = with_case(area["school"], child(area["county"], "洛桑", sequence="099")).student
    client.force_login(users["county"])

    client.post(reverse("students:duplicate-merge", args=[twins["candidate"].pk]), {"keep": stranger.pk})

    assert not StudentMerge.objects.exists()


def test_a_refused_merge_says_why_and_changes_nothing(client, area, users):
    with_case(area["school"], child(area["county"], "张伟", sequence="013"))
    second = with_case(area["school"], child(area["county"], "张玮", sequence="057")).student
    duplicates_find()
    candidate = DuplicateCandidate.objects.get()
    client.force_login(users["county"])

    response = client.post(reverse("students:duplicate-merge", args=[candidate.pk]), {"keep": second.pk}, follow=True)

    assert "Close one" in response.content.decode()
    assert not StudentMerge.objects.exists()


def test_not_the_same_child_is_recorded_and_the_pair_leaves_the_list(client, twins, users):
    client.force_login(users["county"])

    response = client.post(reverse("students:duplicate-not-same", args=[twins["candidate"].pk]))

    assert response.status_code == 302
    assert DuplicateCandidate.objects.get().status == DuplicateStatus.NOT_SAME
    assert twins["merged"].id_number not in client.get(reverse("students:duplicates")).content.decode()


def test_decisions_are_post_only(client, twins, users):
    client.force_login(users["county"])
    for name in ("students:duplicate-merge", "students:duplicate-not-same"):
        assert client.get(reverse(name, args=[twins["candidate"].pk])).status_code == 405


def test_the_list_reads_a_page_of_candidates_in_a_fixed_number_of_queries(
    client, area, users, django_assert_max_num_queries
):
    schools = [area["school"], area["other_school"], SchoolFactory(county=area["county"])]
    for n in range(8):
        birth = datetime.date(2011, 1 + n, 10 + n)  # ID numbers two digits apart: no typo pairs between pairs
        kept = with_case(schools[n % 3], child(area["county"], "张伟", birth=birth, sequence="013"), returned=True)
        with_case(schools[(n + 1) % 3], child(area["county"], "张玮", birth=birth, sequence="057"))
        if n < 3:
            duplicates_find()
            candidate = DuplicateCandidate.objects.get(first=kept.student)
            students_merge(candidate=candidate, kept=kept.student, user=users["county"])
    duplicates_find()
    assert DuplicateCandidate.objects.filter(status=DuplicateStatus.OPEN).count() == 5
    client.force_login(users["county"])

    with django_assert_max_num_queries(12):
        response = client.get(reverse("students:duplicates"))

    assert response.status_code == 200
    assert response.content.decode().count('name="keep"') == 10


def test_the_far_county_is_not_a_neighbour(area):
    # The approximation the search states: neighbouring counties are those of the same prefecture.
    other_prefecture_same_province = CountyFactory(parent__parent=area["province"])
    school = SchoolFactory(county=other_prefecture_same_province)
    with_case(area["school"], child(area["county"], "张伟", sequence="013"))
    with_case(school, child(other_prefecture_same_province, "张玮", sequence="057"))

    duplicates_find()

    assert not DuplicateCandidate.objects.exists()
