"""A county's own spreadsheet mapped onto known fields and codes: suggested by similarity, confirmed by a person,
remembered for the county.

Counties keep their ledgers (and rosters) in their own spreadsheets, with their own headings (返校时间 for 复学日期)
and their own values (家庭经济困难 for 因贫). A `Mapping` says, for one county and one kind of file (`purpose`):
- which field each of its headings is, or that it is not read (IGNORE);
- which code each of its values of a field is.

Nothing here knows the ledger: the functions take the known spellings (a dict from a normalised spelling to a
field key or a code), the file's headings or values, and a Mapping; the ledger import (students.importing) and
any other reader of a county's file call them with their own spellings. The mapping is saved per county and
purpose (ImportMapping), offered to the next check, and every user who may import into the county sees and
edits it; the import command takes the same mapping as a JSON file (`Mapping.from_json`).
"""

import difflib
from collections.abc import Iterable
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from .ledger_columns import normalise, normalise_header
from .models import ImportMapping

IGNORE = ""  # a heading mapped to no field: its column is not read
SIMILAR_ENOUGH = 0.5  # difflib's ratio from which a known spelling is offered as the suggestion


@dataclass
class Mapping:
    """Headings as the file writes them -> field key (or IGNORE); field key -> {value as written -> code}."""

    headings: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: object, *, fields: Iterable[str], codes: MappingType[str, Iterable[str]]) -> "Mapping":
        """A mapping from its JSON form, every field and code checked: ValueError names the first that is not one.

        {"headings": {"返校时间": "return_date", "备注": ""}, "values": {"reason": {"家庭经济困难": "poverty"}}}
        """
        if not isinstance(data, dict):
            raise ValueError(_("A mapping is a JSON object with “headings” and “values”."))
        fields = set(fields)
        headings = data.get("headings") or {}
        values = data.get("values") or {}
        if not isinstance(headings, dict) or not isinstance(values, dict):
            raise ValueError(_("A mapping is a JSON object with “headings” and “values”."))
        for heading, key in headings.items():
            if key != IGNORE and key not in fields:
                raise ValueError(_("%(heading)s: no field %(field)s.") % {"heading": heading, "field": key})
        for key, spelled in values.items():
            known = set(codes.get(key, ()))
            if not known or not isinstance(spelled, dict):
                raise ValueError(
                    _("Values are mapped for a field with a fixed list only, not %(field)s.") % {"field": key}
                )
            for text, code in spelled.items():
                if code not in known:
                    raise ValueError(
                        _("%(value)s: %(code)s is not a code of %(field)s.")
                        % {"value": text, "code": code, "field": key}
                    )
        return cls({str(k): str(v) for k, v in headings.items()}, {k: dict(v) for k, v in values.items()})

    def as_json(self) -> dict:
        return {"headings": dict(self.headings), "values": {key: dict(v) for key, v in self.values.items() if v}}

    def heading_index(self) -> dict[str, str]:
        return {normalise_header(text): key for text, key in self.headings.items()}

    def value_index(self, key: str) -> dict[str, str]:
        return {normalise(text): code for text, code in self.values.get(key, {}).items()}

    def merged(self, other: "Mapping") -> "Mapping":
        """This mapping with `other`'s entries added, `other` winning where both map the same heading or value."""
        values = {key: dict(spelled) for key, spelled in self.values.items()}
        for key, spelled in other.values.items():
            values.setdefault(key, {}).update(spelled)
        return Mapping({**self.headings, **other.headings}, values)


@dataclass
class HeadingMatch:
    positions: dict[str, int]  # field key -> column position
    names: dict[str, str]  # field key -> the heading as the file writes it
    unknown: list[str]  # headings neither known nor mapped
    ignored: list[str]  # headings the mapping says not to read
    twice: list[str]  # headings of a field already found in another column


def match_headings(cells: list, known: MappingType[str, str], mapping: Mapping | None = None) -> HeadingMatch:
    """The file's heading row matched to fields: the mapping first, then the known spellings (normalised)."""
    mapped = mapping.heading_index() if mapping else {}
    match = HeadingMatch({}, {}, [], [], [])
    for position, cell in enumerate(cells):
        text = str(cell).strip() if cell is not None else ""
        if not text:
            continue
        normalised = normalise_header(text)
        key = mapped.get(normalised, known.get(normalised))
        if key is None:
            match.unknown.append(text)
        elif key == IGNORE:
            match.ignored.append(text)
        elif key in match.positions:
            match.twice.append(text)
        else:
            match.positions[key] = position
            match.names[key] = text
    return match


def suggest(text: str, known: MappingType[str, str], *, header: bool = False) -> str:
    """The field or code whose known spellings are most like `text` (difflib), or IGNORE when none is like it.

    Fields are compared by their closest spelling, then by their next closest: 返校时间 is as like 辍学时间 (the
    dropout date) as 返校日期 (the return date), but the return date's 复学时间 is like it too.
    """
    clean = normalise_header if header else normalise
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(clean(text))
    ratios: dict[str, list[float]] = {}
    for spelling, value in known.items():
        matcher.set_seq1(spelling)
        if matcher.real_quick_ratio() >= SIMILAR_ENOUGH and matcher.quick_ratio() >= SIMILAR_ENOUGH:
            ratio = matcher.ratio()
            if ratio >= SIMILAR_ENOUGH:
                ratios.setdefault(value, []).append(ratio)
    if not ratios:
        return IGNORE
    return max(ratios, key=lambda value: sorted(ratios[value], reverse=True)[:2])


# The county's saved mapping ----------------------------------------------------------------------------


def import_mapping_for(county, purpose: str = ImportMapping.LEDGER) -> Mapping:
    """The mapping saved for the county's files of this kind (empty when none is)."""
    saved = ImportMapping.objects.filter(county=county, purpose=purpose).values_list("headings", "values").first()
    return Mapping(*saved) if saved else Mapping()


@transaction.atomic
def import_mapping_save(
    *, county, user, mapping: Mapping, purpose: str = ImportMapping.LEDGER, replace: bool = False
) -> ImportMapping:
    """Save the county's mapping: `mapping`'s entries added to what is saved (or, with replace, instead of it).

    The row is locked while it is changed, so two officials confirming mappings at once both keep their entries.
    """
    saved, _created = ImportMapping.objects.select_for_update().get_or_create(county=county, purpose=purpose)
    current = Mapping() if replace else Mapping(saved.headings, saved.values)
    result = current.merged(mapping).as_json()
    saved.headings, saved.values, saved.updated_by = result["headings"], result["values"], user
    saved.full_clean()
    saved.save()
    return saved
