"""The disclosure rule itself: what a masked role is shown of a child, and how free text is masked by rule."""

import datetime

import pytest

from students.access import Scope
from students.disclosure import Disclosure, mask_numbers, masked_name, township_of
from tests.factories import StudentFactory

MASKED = Disclosure(Scope(everything=True))
SHOWN = Disclosure(Scope(everything=True, can_write=True, sees_identifiers=True))


@pytest.mark.parametrize("name", ["桑青卓玛", "王五", "阿卜杜拉·买买提"])
def test_a_masked_name_keeps_the_family_name_and_hides_the_length_of_the_rest(name):
    assert masked_name(name) == name[0] + "**"


@pytest.mark.parametrize(
    "typed",
    [
        "13908371526",
        "139 0837 1526",
        "139-0837-1526",
        "0837-2345678",
        "11010519491231002X",
        "110105 19491231 002X",
        "G11010519491231002X",
        "J1101051949123100AB",
    ],
)
def test_numbers_shaped_like_a_phone_an_id_or_a_registry_number_are_masked_however_typed(typed):
    masked = mask_numbers(f"电话{typed}，已联系")
    assert masked == "电话***，已联系"
    assert not any(character.isdigit() for character in masked)


@pytest.mark.parametrize("text", ["2020-06-14 家访", "三年级2班", "第3次家访, 共12人", "邮编 624300"])
def test_dates_and_short_numbers_in_notes_stay_readable(text):
    assert mask_numbers(text) == text


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("四川省阿坝州壤塘县上杜柯乡德格村3组12号", "四川省阿坝州壤塘县上杜柯乡"),
        ("壤塘县壤柯镇幸福路8号", "壤塘县壤柯镇"),
        ("朝阳区三里屯街道工体北路4号", "朝阳区三里屯街道"),
        ("德格村3组12号", "***"),
        ("", ""),
    ],
)
def test_an_address_is_shown_to_a_masked_role_up_to_the_township_at_most(address, shown):
    assert township_of(address) == shown


@pytest.mark.django_db
def test_a_masked_role_sees_no_digit_of_any_identifier_or_phone():
    student = StudentFactory(guardian_phone="13908371526", birth_date=datetime.date(2008, 3, 9))
    child = MASKED.child(student)
    for value in (child.id_number, child.registry_number, child.guardian_phone, child.address, child.name):
        assert not any(character.isdigit() for character in str(value))
    assert child.birth_date == 2008
    assert SHOWN.child(student).id_number == student.id_number


@pytest.mark.django_db
def test_free_text_hides_the_childs_people_and_any_number_but_only_for_masked_roles():
    student = StudentFactory(name="桑青卓玛", guardian_name="泽仁多吉", address="壤塘县上杜柯乡德格村3组")
    text = f"泽仁多吉说桑青卓玛住在壤塘县上杜柯乡德格村3组, 电话 13908371526, 身份证 {student.id_number}"
    assert MASKED.text(text, student) == "泽**说桑**住在壤塘县上杜柯乡, 电话 ***, 身份证 ***"
    assert SHOWN.text(text, student) == text


def test_a_long_english_word_is_not_taken_for_a_registry_number():
    assert mask_numbers("Jurisdictionalities") == "Jurisdictionalities"


def test_notes_are_withheld_from_masked_roles_whoever_they_name():
    note = "和隔壁的王小明一起辍学, 父亲王大山在外打工"
    assert "王" not in MASKED.note(note)
    assert MASKED.note("") == ""
    assert SHOWN.note(note) == note
