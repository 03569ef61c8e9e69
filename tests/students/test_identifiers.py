import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from students.identifiers import (
    id_birth_date,
    id_check_char,
    id_gender,
    mask,
    validate_id_number,
    validate_registry_number,
)


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014", "11010519491231002x"])
def test_standard_examples_are_valid(number):
    validate_id_number(number)


def test_check_character_follows_mod_11_2():
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("44052418800101001") == "4"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("11010519491231002", "id_length"),
        ("1101051949123100211", "id_length"),
        ("110105194912310A2X", "id_digits"),
        ("110105194912310021", "id_check"),
        ("110105194902300028", "id_date"),
        ("110105299901010011", "id_date"),
    ],
)
def test_bad_numbers_say_what_is_wrong(number, code):
    with pytest.raises(ValidationError) as error:
        validate_id_number(number)
    assert error.value.code == code


def test_wrong_check_character_names_the_expected_one():
    with pytest.raises(ValidationError) as error:
        validate_id_number("110105194912310021")
    assert "should be X" in error.value.messages[0]


def test_errors_are_in_the_users_language():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        validate_id_number("1234")
    assert "18" in error.value.messages[0]
    assert "身份证" in error.value.messages[0]


def test_birth_date_and_gender_are_read_from_the_number():
    assert id_birth_date("11010519491231002X").isoformat() == "1949-12-31"
    assert id_gender("11010519491231002X") == "F"
    assert id_gender("440524188001010014") == "M"


@pytest.mark.parametrize("number", ["G11010519491231002X", "J5132302008030100X1", "L123456789012345678"])
def test_registry_numbers_in_documented_format_are_valid(number):
    validate_registry_number(number)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("G11010519491231002", "registry_length"),
        ("X11010519491231002X", "registry_format"),
        ("G110105194912310021", "registry_id"),
    ],
)
def test_bad_registry_numbers_are_refused(number, code):
    with pytest.raises(ValidationError) as error:
        validate_registry_number(number)
    assert error.value.code == code


def test_masking_keeps_only_the_ends():
    assert mask("513230200803010021") == "5132**********0021"
