"""The disclosure rule: what of a child's personal data each user may see. Every output of a child's data
(pages, the case list, the timeline, responsible persons, free text, exports, problem reports, form errors,
the admin) takes it from `disclosure_for(user)`, so a reviewer checks a new output by looking for that call.

Who sees what:
- Users who see identifiers (county officials and principals, in their scope; administrators): everything,
  and every view of full identifiers is written to the IdentifierAccess log (`log_disclosure`) with who,
  when, what and how many children.
- Verifiers (verification) read only the returned cases assigned to them for a spot check (students.access): a
  case of their area not assigned to them does not exist for them. On the ledger's pages (the case page, the
  list, exports) they are a masked role, since a colleague's note on a case may name other children; on a spot
  check's own pages they see the child of a check assigned to them in full (`spot_check_child`), and each such
  view is logged.
- Masked roles (ministry, province and prefecture staff) see nothing that names or reaches a child:
  - name: the family name and a fixed "**", whatever the given name's length (桑**);
  - ID and registry numbers: no digit, only that one is recorded and whether it passes its check;
  - birth date: the year;
  - address and household registration: the township at most;
  - guardian: the family name, and no digit of the phone; responsible persons likewise: each one's role
    and family name, no phone;
  - notes about a child typed by colleagues (reason in detail, event and visit notes, visitors' names):
    withheld; only that a note is recorded is shown (`note`). A note may name anyone, a brother or a
    neighbour's child as well as this one, and no rule can find every name in free text;
  - other text that reaches them (a request's note, an error, a job's report; `text`): the case's people's
    names and addresses replaced as above and, by rule, any run of characters shaped like an ID number, a
    registry number or a phone number masked wherever it appears, whoever it belongs to.
  Nor can they search by identifier or by name, or sort by name: a search or a sort on a hidden value
  would be an oracle that confirms guesses (see students.filters).
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext as _

from .access import Scope, scope_for
from .choices import ResponsibleRole
from .identifiers import mask, validate_id_number, validate_registry_number

HIDDEN = "***"
NAME_STARS = "**"
# Registry numbers first (a letter and 18 characters, six of them digits at least), then any run of 7 or more
# digits, separated or not by single spaces or dashes, ending perhaps in X: phones, landlines, ID numbers.
NUMBER_LIKE = re.compile(r"[GJLgjl](?=(?:[A-Za-z]*\d){6})[0-9A-Za-z]{18}|\d(?:[ \-]?\d){6,}(?:[ \-]?[Xx])?")
DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$")
TOWNSHIP = re.compile(r"^.*?(?:乡|镇|街道|苏木)")


def masked_name(name: str) -> str:
    """The family name and a fixed "**": the length of the given name is not told."""
    return f"{name[:1]}{NAME_STARS}" if name else ""


def township_of(address: str) -> str:
    """An address up to its township (…乡, …镇, …街道), or only that one is recorded."""
    if not address:
        return ""
    match = TOWNSHIP.match(address)
    return match.group(0) if match else HIDDEN


def _mask_number_like(match: re.Match) -> str:
    text = match.group(0)
    return text if DATE_LIKE.match(text) else HIDDEN


def mask_numbers(text: str) -> str:
    """Free text with every ID-, registry- or phone-shaped run of characters masked."""
    return NUMBER_LIKE.sub(_mask_number_like, text) if text else text


def _recorded(value: str | None, validate) -> str:
    """That a number is recorded and whether it passes its check: what a masked role may know of it. It starts
    with the stars of every masked value, so the import knows a masked export when one comes back."""
    if not value:
        return ""
    try:
        validate(value)
    except ValidationError:
        state = _("recorded, fails its check")
    else:
        state = _("recorded, valid")
    return f"{HIDDEN} ({state})"


@dataclass(frozen=True)
class Child:
    """A child's personal data as one user may see it."""

    name: str
    id_number: str
    registry_number: str
    birth_date: object  # a date, or the year alone when masked
    address: str
    hukou_place: str
    guardian_name: str
    guardian_phone: str
    masked: bool


@dataclass(frozen=True)
class Person:
    """A responsible person as one user may see them."""

    role: str
    role_label: str
    name: str
    phone: str


def _child_in_full(student) -> Child:
    return Child(
        name=student.name,
        id_number=student.id_number or "",
        registry_number=student.registry_number or "",
        birth_date=student.birth_date,
        address=student.address,
        hukou_place=student.hukou_place,
        guardian_name=student.guardian_name,
        guardian_phone=student.guardian_phone,
        masked=False,
    )


class Disclosure:
    """What one user may see of children's data; build it once per request with `disclosure_for`."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.masked = not scope.sees_identifiers

    @property
    def may_search_people(self) -> bool:
        """Whether the user may search or sort by names and identifiers."""
        return not self.masked

    def name(self, name: str) -> str:
        return masked_name(name) if self.masked else name

    def list_id_number(self, value: str | None) -> str:
        """An ID number in a list: four characters at each end for those who may see it, else no digit."""
        if self.masked:
            return _recorded(value, validate_id_number) or "—"
        return mask(value or "") or "—"

    def sees_spot_check(self, check) -> bool:
        """Whether the user sees a spot check's child in full (verification.models.SpotCheck): those who see the
        case's identifiers anyway, and the verifier the check is assigned to."""
        return not self.masked or (self.scope.verifier_id is not None and check.verifier_id == self.scope.verifier_id)

    def spot_check_child(self, check) -> Child:
        """A spot check's child: in full for the verifier it is assigned to (the caller logs the view with
        `log_disclosure`), and otherwise as `child` gives it."""
        if self.sees_spot_check(check):
            return _child_in_full(check.case.student)
        return self.child(check.case.student)

    def spot_check_name(self, check) -> str:
        """A spot check's child's name, in full where `spot_check_child` gives the child in full."""
        name = check.case.student.name
        return name if self.sees_spot_check(check) else masked_name(name)

    def child(self, student) -> Child:
        if not self.masked:
            return _child_in_full(student)
        return Child(
            name=masked_name(student.name),
            id_number=_recorded(student.id_number, validate_id_number),
            registry_number=_recorded(student.registry_number, validate_registry_number),
            birth_date=student.birth_date.year if student.birth_date else None,
            address=township_of(student.address),
            hukou_place=township_of(student.hukou_place),
            guardian_name=masked_name(student.guardian_name),
            guardian_phone=HIDDEN if student.guardian_phone else "",
            masked=True,
        )

    def person(self, person) -> Person:
        # A name field is typed freely like a note: masked roles see each person's family name, as the parent's.
        name = masked_name(person.name) if self.masked else person.name
        return Person(
            role=person.role,
            role_label=person.get_role_display(),
            name=name,
            phone=HIDDEN if self.masked and person.phone else person.phone,
        )

    def note(self, text: str) -> str:
        """A note about a child typed by colleagues: whole for those who see identifiers, else withheld."""
        if not self.masked or not text:
            return text
        return _("(a note is recorded; the county and the school on the case can read it)")

    def text(self, text: str, student=None, persons=()) -> str:
        """Text meant to reach the user (a request's note, an error). Masked roles get the case's people's names
        and addresses replaced by what they may see of them, and every number shaped like an identifier or a
        phone masked."""
        if not self.masked or not text:
            return text
        known = []
        if student is not None:
            known += [
                (student.address, township_of(student.address)),
                (student.hukou_place, township_of(student.hukou_place)),
                (student.name, masked_name(student.name)),
                (student.guardian_name, masked_name(student.guardian_name)),
            ]
        known += [(p.name, masked_name(p.name)) for p in persons if p.role == ResponsibleRole.PARENT]
        # Longest first, so that a name inside an address does not break the address's replacement.
        for value, shown in sorted((pair for pair in known if len(pair[0] or "") >= 2), key=lambda p: -len(p[0])):
            text = text.replace(value, shown)
        return mask_numbers(text)


def disclosure_for(user) -> Disclosure:
    return Disclosure(scope_for(user))


def log_disclosure(user, *, purpose: str, case=None, children: int = 1, detail: str = "") -> None:
    """Writes that `user` saw the full identifiers of `children` children (one `case`, or what `detail` says).

    Called by every output that shows full identifiers, and only for users who see them: a masked output
    discloses none. The log holds no identifier itself, so supervisors may read it (students.views.log).
    """
    from .models import IdentifierAccess

    if children <= 0 or not getattr(user, "is_authenticated", False):
        return
    IdentifierAccess.objects.create(
        user=user, case=case, purpose=purpose, children=children, detail=mask_numbers(detail)[:300]
    )


def describe_query(querystring: str) -> str:
    """A list's filter as the access log keeps it: a search term may be a child's name, so it is not kept."""
    query = QueryDict(querystring, mutable=True)
    if query.get("q"):
        query["q"] = HIDDEN
    return query.urlencode(safe="*")
