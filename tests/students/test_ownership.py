"""One child for the whole country, each county acting on its own: who may change a child's identity, how every
change is recorded, and what a county learns of a child on another county's ledger (its name only)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from counties.models import Role
from students.access import may_change_identity
from students.choices import IdentitySource, Placement, Reason
from students.importing import import_ledger
from students.models import DropoutCase, IdentityChange, LedgerCorrection, Student
from students.services import case_mark_returned, student_update
from tests.factories import (
    CountyFactory,
    PrefectureFactory,
    ProvinceFactory,
    SchoolFactory,
    StudentFactory,
    UserFactory,
    make_id_number,
    open_case,
)
from tests.students.ledger_files import ledger_row, write_csv

pytestmark = pytest.mark.django_db
D = datetime.date
NEW = reverse("students:case-new")
HELD_BY = "This child is on the ledger of another county ({county}); ask that county to hand the child over."

# 松潘县's record of its child, which no other county may read or change.
SONGPAN_NAME = "杨卓玛"
SONGPAN_ADDRESS = "松潘县进安镇城关村3组12号"
SONGPAN_PHONE = "13908374455"
# What 壤塘县's official types for the same ID number.
TYPED_NAME = "桑青卓玛"
TYPED_ADDRESS = "壤塘县上杜柯乡斯跃武村2组7号"
TYPED_PHONE = "13900001111"


@pytest.fixture
def places():
    """壤塘县 and 松潘县 (阿坝州, Sichuan), 阿坝县 beside them, and 泽库县 (黄南州, Qinghai), with their people."""
    sichuan = ProvinceFactory(code="510000", name="四川省")
    aba = PrefectureFactory(parent=sichuan, code="32", name="阿坝藏族羌族自治州")
    rangtang = CountyFactory(parent=aba, code="30", name="壤塘县")
    songpan = CountyFactory(parent=aba, code="24", name="松潘县")
    aba_county = CountyFactory(parent=aba, code="31", name="阿坝县")
    qinghai = ProvinceFactory(code="630000", name="青海省")
    zeku = CountyFactory(
        parent=PrefectureFactory(parent=qinghai, code="23", name="黄南藏族自治州"), code="23", name="泽库县"
    )
    schools = {
        "rangtang": SchoolFactory(county=rangtang, name="上杜柯乡小学"),
        "rangtang_other": SchoolFactory(county=rangtang, name="中壤塘镇小学"),
        "songpan": SchoolFactory(county=songpan, name="进安镇小学"),
        "songpan_other": SchoolFactory(county=songpan, name="川主寺镇小学"),
        "zeku": SchoolFactory(county=zeku, name="泽曲镇小学"),
    }
    users = {
        "rangtang": UserFactory(role=Role.COUNTY, division=rangtang),
        "songpan": UserFactory(role=Role.COUNTY, division=songpan),
        "songpan_principal": UserFactory(role=Role.PRINCIPAL, school=schools["songpan"]),
        "songpan_other_principal": UserFactory(role=Role.PRINCIPAL, school=schools["songpan_other"]),
        "prefecture": UserFactory(role=Role.PREFECTURE, division=aba),
        "ministry": UserFactory(role=Role.MINISTRY),
        "admin": UserFactory(role=Role.ADMIN),
    }
    return {
        "rangtang": rangtang,
        "songpan": songpan,
        "aba_county": aba_county,
        "zeku": zeku,
        "schools": schools,
        "users": users,
    }


def child(county_code: str, n: int, **fields) -> Student:
    """A girl with her birth date and gender agreeing with her ID number, as the import reads them from it."""
    birth = D(2008, 5, n)
    values = {
        "name": f"学生{n}",
        "gender": "F",
        "birth_date": birth,
        "id_number": make_id_number(county_code, birth, 2 * n),
        **fields,
    }
    return StudentFactory(**values)


def returned_case(school, student, dropout_date=D(2019, 3, 1)) -> DropoutCase:
    """A case back in school: the child has no open case, and this county's is their latest."""
    case = open_case(school, student=student, dropout_date=dropout_date)
    case_mark_returned(
        case=case, returned_on=dropout_date + datetime.timedelta(days=90), placement=Placement.REGULAR_CLASS
    )
    return case


@pytest.fixture
def songpan_child(places):
    student = child("513224", 4, name=SONGPAN_NAME, address=SONGPAN_ADDRESS, guardian_phone=SONGPAN_PHONE)
    return returned_case(places["schools"]["songpan"], student)


def case_page(client, user, case) -> str:
    client.force_login(user)
    response = client.get(reverse("students:case-detail", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def new_case_form(school, student: Student, **overrides) -> dict:
    data = {
        "school": school.code,
        "grade": 7,
        "dropout_date": "2020-03-02",
        "reason": Reason.WORK,
        "name": student.name,
        "gender": student.gender,
        "ethnicity": student.ethnicity,
        "birth_date": student.birth_date.isoformat(),
        "id_number": student.id_number,
        "registry_number": "",
        "left_behind": "",
        "disability": "",
    }
    data.update(overrides)
    return data


def just_now(moment: datetime.datetime) -> bool:
    return abs(timezone.now() - moment) < datetime.timedelta(minutes=5)


def stored(student: Student) -> tuple:
    student.refresh_from_db()
    return (student.name, student.address, student.guardian_phone)


# 1. The new-case form --------------------------------------------------------------------------------------


def test_a_new_case_for_another_countys_child_is_refused_naming_only_that_county(client, places, songpan_child):
    student = songpan_child.student
    client.force_login(places["users"]["rangtang"])
    typed = {"name": TYPED_NAME, "address": TYPED_ADDRESS, "guardian_phone": TYPED_PHONE}
    response = client.post(NEW, new_case_form(places["schools"]["rangtang"], student, **typed))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [HELD_BY.format(county="松潘县")]
    html = response.content.decode()
    for value in (SONGPAN_NAME, SONGPAN_ADDRESS, SONGPAN_PHONE, "2019"):
        assert value not in html
    assert reverse("students:handover-claim") in html
    assert DropoutCase.objects.count() == 1
    assert stored(student) == (SONGPAN_NAME, SONGPAN_ADDRESS, SONGPAN_PHONE)
    assert not IdentityChange.objects.exists()
    songpan_page = case_page(client, places["users"]["songpan"], songpan_child)
    assert SONGPAN_ADDRESS in songpan_page and SONGPAN_PHONE in songpan_page and SONGPAN_NAME in songpan_page
    assert TYPED_ADDRESS not in songpan_page and TYPED_PHONE not in songpan_page


def test_a_principal_of_the_same_county_cannot_take_another_schools_child(client, places, songpan_child):
    client.force_login(places["users"]["songpan_other_principal"])
    data = new_case_form(places["schools"]["songpan_other"], songpan_child.student, name=TYPED_NAME)
    response = client.post(NEW, data)
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert len(errors) == 1 and "another school" in errors[0] and "松潘县" in errors[0]
    assert SONGPAN_ADDRESS not in response.content.decode()
    assert DropoutCase.objects.count() == 1
    assert stored(songpan_child.student)[0] == SONGPAN_NAME


def test_the_typed_details_of_the_countys_own_child_are_applied_and_recorded(client, places, songpan_child):
    student = songpan_child.student
    student.hukou_place = "松潘县进安镇"
    student.save()
    official = places["users"]["songpan"]
    client.force_login(official)
    typed = {"address": "松潘县川主寺镇林坡村1组", "guardian_phone": "13900002222", "registered_poor": "on"}
    response = client.post(NEW, new_case_form(places["schools"]["songpan_other"], student, **typed))

    case = DropoutCase.objects.get(dropout_date=D(2020, 3, 2))
    assert response["Location"] == case.get_absolute_url()
    assert case.student_id == student.pk
    student.refresh_from_db()
    assert (student.address, student.guardian_phone, student.registered_poor) == (
        "松潘县川主寺镇林坡村1组",
        "13900002222",
        True,
    )
    assert student.hukou_place == "松潘县进安镇"  # left blank on the form: kept
    change = IdentityChange.objects.get(student=student)
    assert (change.source, change.changed_by) == (IdentitySource.FORM, official)
    assert just_now(change.at)
    assert change.changes == {
        "address": [SONGPAN_ADDRESS, "松潘县川主寺镇林坡村1组"],
        "guardian_phone": [SONGPAN_PHONE, "13900002222"],
        "registered_poor": [False, True],
    }
    assert "川主寺镇小学" in change.detail
    # A registered-poor household recorded late changes the figures from the child's first day on the ledger.
    assert LedgerCorrection.objects.filter(first_day=songpan_child.dropout_date).exists()


# 2. The import ----------------------------------------------------------------------------------------------


def songpan_child_row(places, student, number=1, **values) -> dict:
    return ledger_row(
        places["schools"]["rangtang"],
        number,
        id_number=student.id_number,
        name=TYPED_NAME,
        address=TYPED_ADDRESS,
        guardian_phone=TYPED_PHONE,
        dropout_date="2020-03-02",
        **values,
    )


def test_an_import_row_for_another_countys_child_is_a_problem_and_changes_nothing(
    client, places, songpan_child, tmp_path
):
    student = songpan_child.student
    path = write_csv(tmp_path / "rangtang.csv", [songpan_child_row(places, student)])
    result = import_ledger(path, county=places["rangtang"], user=places["users"]["rangtang"], filename="rangtang.csv")

    assert [(p.row, p.message) for p in result.problems] == [(2, HELD_BY.format(county="松潘县"))]
    assert result.students_updated == 0
    assert not any(value in p.value + p.message for p in result.problems for value in (SONGPAN_NAME, SONGPAN_PHONE))
    assert stored(student) == (SONGPAN_NAME, SONGPAN_ADDRESS, SONGPAN_PHONE)
    assert DropoutCase.objects.count() == 1
    assert not IdentityChange.objects.exists()
    songpan_page = case_page(client, places["users"]["songpan"], songpan_child)
    assert SONGPAN_ADDRESS in songpan_page and SONGPAN_PHONE in songpan_page
    assert TYPED_ADDRESS not in songpan_page


def test_an_import_row_matching_an_old_case_cannot_change_a_child_another_county_now_holds(places, tmp_path):
    """The child left 壤塘县 and dropped out again in 松潘县: 壤塘县's old case is its own, the child is not."""
    student = child("513230", 6, address="壤塘县上杜柯乡1号")
    old = returned_case(places["schools"]["rangtang"], student, dropout_date=D(2018, 3, 1))
    open_case(places["schools"]["songpan"], student=student, dropout_date=D(2019, 9, 1))
    row = ledger_row(
        places["schools"]["rangtang"], 2, id_number=student.id_number, name=student.name, address="壤塘县新地址"
    )
    row["dropout_date"] = old.dropout_date.isoformat()
    result = import_ledger(write_csv(tmp_path / "old.csv", [row]), county=places["rangtang"], dry_run=True)
    assert [p.row for p in result.problems] == [2]
    assert "松潘县" in result.problems[0].message
    assert result.students_updated == 0


def test_a_dry_run_against_a_child_in_another_province_updates_no_one(places, tmp_path):
    zeku_child = child("632323", 8, name="才让卓玛", address="泽库县泽曲镇", guardian_phone="13997001234")
    returned_case(places["schools"]["zeku"], zeku_child)
    path = write_csv(tmp_path / "dry.csv", [songpan_child_row(places, zeku_child)])
    result = import_ledger(path, county=places["rangtang"], user=places["users"]["rangtang"], dry_run=True)

    assert result.students_updated == 0
    assert [(p.row, p.message) for p in result.problems] == [(2, HELD_BY.format(county="泽库县"))]
    assert stored(zeku_child) == ("才让卓玛", "泽库县泽曲镇", "13997001234")


@pytest.mark.parametrize("county", ["513231", "阿坝县"])
def test_a_row_whose_county_column_names_another_county_is_a_problem(places, tmp_path, county):
    row = ledger_row(places["schools"]["rangtang"], 10, county=county)
    headers = ["name", "id_number", "county=县区", "school_code", "grade", "dropout_date", "reason"]
    result = import_ledger(write_csv(tmp_path / "county.csv", [row], headers=headers), county=places["rangtang"])

    assert [(p.row, p.column, p.value) for p in result.problems] == [(2, "县区", county)]
    assert "壤塘县" in result.problems[0].message
    assert not any("not read" in warning for warning in result.warnings)
    assert not DropoutCase.objects.exists()


@pytest.mark.parametrize("county", ["513230", "壤塘县", "壤塘", "四川省阿坝藏族羌族自治州壤塘县", ""])
def test_a_county_column_naming_the_imports_own_county_is_read_and_accepted(places, tmp_path, county):
    row = ledger_row(places["schools"]["rangtang"], 11, county=county)
    headers = ["name", "id_number", "county=县(市、区)", "school_code", "grade", "dropout_date", "reason"]
    result = import_ledger(write_csv(tmp_path / "own.csv", [row], headers=headers), county=places["rangtang"])
    assert result.ok, result.problems
    assert result.warnings == []
    assert result.created == 1


def test_a_school_code_of_another_county_is_a_row_problem(places, tmp_path):
    row = ledger_row(places["schools"]["songpan"], 12)
    result = import_ledger(write_csv(tmp_path / "school.csv", [row]), county=places["rangtang"])
    assert [(p.row, p.value) for p in result.problems] == [(2, places["schools"]["songpan"].code)]
    assert not DropoutCase.objects.exists()


def test_an_import_records_each_change_of_its_own_childrens_identity(places, tmp_path):
    first = child("513230", 13, address="壤塘县上杜柯乡1号", guardian_phone="13900000013")
    second = child("513230", 14, address="壤塘县上杜柯乡2号", guardian_phone="13900000014")
    unchanged = child("513230", 15, address="壤塘县上杜柯乡3号")
    for student in (first, second, unchanged):
        open_case(places["schools"]["rangtang"], student=student, dropout_date=D(2019, 9, 1))
    rows = [
        ledger_row(
            places["schools"]["rangtang"],
            n,
            id_number=s.id_number,
            name=s.name,
            address=address,
            guardian_phone=phone,
            dropout_date="2019-09-01",
        )
        for n, s, address, phone in (
            (1, first, "壤塘县中壤塘镇9号", "13900000013"),
            (2, unchanged, "壤塘县上杜柯乡3号", ""),
            (3, second, "壤塘县上杜柯乡2号", "13900009999"),
        )
    ]
    official = places["users"]["rangtang"]
    path = write_csv(tmp_path / "ledger.csv", rows)
    result = import_ledger(path, county=places["rangtang"], user=official, filename="壤塘县台账.csv", job_id=7)

    assert result.ok, result.problems
    assert result.students_updated == 2
    changes = {c.student_id: c for c in IdentityChange.objects.all()}
    assert set(changes) == {first.pk, second.pk}
    assert changes[first.pk].changes == {"address": ["壤塘县上杜柯乡1号", "壤塘县中壤塘镇9号"]}
    assert changes[second.pk].changes == {"guardian_phone": ["13900000014", "13900009999"]}
    for change, row in ((changes[first.pk], 2), (changes[second.pk], 4)):
        assert (change.source, change.changed_by) == (IdentitySource.IMPORT, official)
        assert just_now(change.at)
        assert "7" in change.detail and "壤塘县台账.csv" in change.detail and f"row {row}" in change.detail
    assert stored(first)[1] == "壤塘县中壤塘镇9号"


# 3. student_update: the database's values before, and the record ---------------------------------------------


def test_a_correction_on_an_instance_already_changed_is_recorded(places):
    """The admin hands student_update an object its form has changed already: 'before' comes from the database."""
    case = open_case(places["schools"]["rangtang"], student=child("513230", 16), dropout_date=D(2019, 5, 6))
    student = Student.objects.get(pk=case.student_id)
    student.registered_poor = True
    LedgerCorrection.objects.all().delete()  # the case's opening
    student_update(student=student, changes={"registered_poor": True})

    assert list(LedgerCorrection.objects.values_list("county", "first_day")) == [(case.county_id, D(2019, 5, 6))]
    change = IdentityChange.objects.get()
    assert (change.source, change.changed_by, change.changes) == (
        IdentitySource.ADMIN,
        None,
        {"registered_poor": [False, True]},
    )
    assert Student.objects.get(pk=student.pk).registered_poor is True


def test_ticking_registered_poor_in_the_admin_records_a_correction(client, places):
    case = open_case(places["schools"]["rangtang"], student=child("513230", 17), dropout_date=D(2019, 5, 7))
    student = case.student
    LedgerCorrection.objects.all().delete()  # the case's opening
    client.force_login(UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True))
    data = {
        "name": student.name,
        "gender": student.gender,
        "ethnicity": student.ethnicity,
        "birth_date": student.birth_date.isoformat(),
        "id_number": student.id_number,
        "registry_number": "",
        "left_behind": "",
        "disability": "",
        "registered_poor": "on",
    }
    response = client.post(reverse("admin:students_student_change", args=[student.pk]), data)
    assert response.status_code == 302
    assert list(LedgerCorrection.objects.values_list("first_day", flat=True)) == [D(2019, 5, 7)]
    assert IdentityChange.objects.get().changes == {"registered_poor": [False, True]}


def test_a_change_that_changes_nothing_records_nothing(places):
    student = child("513230", 18)
    student_update(student=student, changes={"name": student.name})
    assert not IdentityChange.objects.exists()


# Who may change a child's identity ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona,allowed",
    [
        ("songpan", True),
        ("songpan_principal", True),
        ("songpan_other_principal", False),
        ("rangtang", False),
        ("prefecture", False),
        ("ministry", True),
        ("admin", True),
    ],
)
def test_only_the_holder_of_the_childs_latest_case_ministry_and_admins_may_change_identity(
    places, songpan_child, persona, allowed
):
    assert may_change_identity(places["users"][persona], songpan_child.student) is allowed


def test_the_open_case_holds_the_child_before_a_later_closed_one(places):
    student = child("513230", 19)
    returned_case(places["schools"]["songpan"], student, dropout_date=D(2019, 3, 1))
    open_case(places["schools"]["rangtang"], student=student, dropout_date=D(2018, 3, 1))
    assert may_change_identity(places["users"]["rangtang"], student)
    assert not may_change_identity(places["users"]["songpan"], student)


def test_another_countys_official_cannot_correct_the_child(places, songpan_child):
    with pytest.raises(PermissionDenied):
        student_update(
            student=songpan_child.student,
            changes={"address": TYPED_ADDRESS},
            user=places["users"]["rangtang"],
            source=IdentitySource.FORM,
        )
    assert stored(songpan_child.student)[1] == SONGPAN_ADDRESS


@pytest.mark.parametrize("persona", ["ministry", "admin"])
def test_the_ministry_and_administrators_may_correct_any_child(places, songpan_child, persona):
    user = places["users"][persona]
    student_update(
        student=songpan_child.student, changes={"guardian_phone": "13900003333"}, user=user, source=IdentitySource.ADMIN
    )
    assert stored(songpan_child.student)[2] == "13900003333"
    change = IdentityChange.objects.get()
    assert (change.changed_by, change.changes) == (user, {"guardian_phone": [SONGPAN_PHONE, "13900003333"]})


# The case page ----------------------------------------------------------------------------------------------


@pytest.fixture
def corrected(places, songpan_child):
    student_update(
        student=songpan_child.student,
        changes={"address": "松潘县进安镇西街5号", "guardian_phone": "13908370000"},
        user=places["users"]["songpan"],
        source=IdentitySource.FORM,
        detail="checked at the home visit",
    )
    return songpan_child


def test_the_holding_county_sees_who_changed_what_when_and_why(client, places, corrected):
    html = case_page(client, places["users"]["songpan"], corrected)
    section = html.split('id="identity-changes"')[1].split("</section>")[0]
    for text in (SONGPAN_ADDRESS, "松潘县进安镇西街5号", SONGPAN_PHONE, "13908370000", "Address", "Form"):
        assert text in section
    assert places["users"]["songpan"].username in section
    assert "checked at the home visit" in section


@pytest.mark.parametrize("persona", ["prefecture", "ministry"])
def test_masked_roles_see_which_fields_changed_and_when_but_not_the_values(client, places, corrected, persona):
    html = case_page(client, places["users"][persona], corrected)
    section = html.split('id="identity-changes"')[1].split("</section>")[0]
    assert "Address" in section and "Guardian phone" in section
    assert str(datetime.date.today().year) in section
    for value in (SONGPAN_ADDRESS, "松潘县进安镇西街5号", SONGPAN_PHONE, "13908370000", "城关村", "西街"):
        assert value not in html
