"""Resident ID numbers (GB 11643) and student registry numbers (学籍号): checks and masking."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
REGISTRY_PATTERN = re.compile(r"^[GJL][0-9A-Z]{18}$")


def id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of an ID number."""
    return ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def normalize_id_number(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def id_birth_date(id_number: str) -> datetime.date:
    """The birth date an 18-digit ID number encodes (positions 7-14). Assumes a valid number."""
    return datetime.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def id_gender(id_number: str) -> str:
    """'M' or 'F' from the sequence code: odd is male."""
    return "M" if int(id_number[16]) % 2 else "F"


def validate_id_number(value: str) -> None:
    """Raise ValidationError saying exactly what is wrong with a resident ID number."""
    number = normalize_id_number(value)
    if len(number) != 18:
        raise ValidationError(
            _("A resident ID number has 18 characters; this one has %(count)d.") % {"count": len(number)},
            code="id_length",
        )
    if not number[:17].isdigit():
        raise ValidationError(_("The first 17 characters of a resident ID number must be digits."), code="id_digits")
    if not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(_("The last character of a resident ID number must be a digit or X."), code="id_last")
    try:
        born = id_birth_date(number)
    except ValueError:
        raise ValidationError(
            _("The birth date in this ID number (%(date)s) does not exist.") % {"date": number[6:14]},
            code="id_date",
        ) from None
    if born > datetime.date.today():
        raise ValidationError(
            _("The birth date in this ID number (%(date)s) is in the future.") % {"date": born.isoformat()},
            code="id_date",
        )
    expected = id_check_char(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _("The check character is %(given)s but should be %(expected)s: a digit was probably mistyped.")
            % {"given": number[17], "expected": expected},
            code="id_check",
        )


def validate_registry_number(value: str) -> None:
    """A student registry number is G, J or L followed by 18 characters (G + the ID number)."""
    number = (value or "").strip().upper()
    if len(number) != 19:
        raise ValidationError(
            _("A student registry number has 19 characters; this one has %(count)d.") % {"count": len(number)},
            code="registry_length",
        )
    if not REGISTRY_PATTERN.match(number):
        raise ValidationError(
            _("A student registry number starts with G, J or L followed by 18 digits or capital letters."),
            code="registry_format",
        )
    if number[0] == "G":
        try:
            validate_id_number(number[1:])
        except ValidationError as error:
            raise ValidationError(
                _("A registry number starting with G carries the ID number: %(error)s")
                % {"error": " ".join(error.messages)},
                code="registry_id",
            ) from None


def mask(value: str, keep_start: int = 4, keep_end: int = 4) -> str:
    """5132**********1234: enough to tell numbers apart, not enough to identify a child."""
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def mask_name(name: str) -> str:
    """桑** : the family name stays, the rest is hidden."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_phone(phone: str) -> str:
    return mask(phone, 3, 4)
