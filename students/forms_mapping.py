"""The forms of a county's mapping (students.import_mapping): one select per heading and per value.

`MappingForm` is what a check offers: each heading and value it did not know, with the suggestion chosen.
`SavedMappingForm` is the county's saved mapping, every entry changeable or forgotten.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from .import_mapping import IGNORE, Mapping
from .import_rows import mappable_codes, mappable_fields
from .models import JobKind, LedgerJob

FORGET = "__forget__"


def _field_choices() -> list[tuple[str, str]]:
    return [(IGNORE, _("Do not read this column")), *mappable_fields()]


def _code_choices(key: str) -> list[tuple[str, str]]:
    return [(IGNORE, _("No code: the rows with it stay problems")), *mappable_codes(key)]


class _EntriesForm(forms.Form):
    """One select per heading (h0, h1, ...) and per value (v-<field>-0, ...), labelled as the file writes them."""

    def __init__(self, *args, headings: list[tuple[str, str]], values: dict[str, list[tuple[str, str]]], **kwargs):
        super().__init__(*args, **kwargs)
        self.heading_texts: dict[str, str] = {}
        self.value_texts: dict[str, tuple[str, str]] = {}
        fields = dict(mappable_fields())
        for index, (text, chosen) in enumerate(headings):
            name = f"h{index}"
            self.fields[name] = forms.ChoiceField(
                label=text, choices=self.heading_choices(), initial=chosen, required=False
            )
            self.heading_texts[name] = text
        for key, entries in values.items():
            for index, (text, chosen) in enumerate(entries):
                name = f"v-{key}-{index}"
                self.fields[name] = forms.ChoiceField(
                    label=text, choices=self.value_choices(key), initial=chosen, required=False
                )
                self.fields[name].column = fields.get(key, key)
                self.value_texts[name] = (key, text)

    def heading_choices(self) -> list[tuple[str, str]]:
        return _field_choices()

    def value_choices(self, key: str) -> list[tuple[str, str]]:
        return _code_choices(key)

    def heading_fields(self):
        return [self[name] for name in self.heading_texts]

    def value_fields(self):
        return [self[name] for name in self.value_texts]


class MappingForm(_EntriesForm):
    """A check's unknown headings and values, each with the field or code most like it chosen."""

    def __init__(self, *args, offer: dict, **kwargs):
        headings = [(entry["text"], entry["suggested"]) for entry in offer.get("headings", [])]
        values = {
            key: [(entry["text"], entry["suggested"]) for entry in entries]
            for key, entries in offer.get("values", {}).items()
            if key in dict(mappable_fields())
        }
        super().__init__(*args, headings=headings, values=values, **kwargs)

    def mapping(self) -> Mapping:
        """What the user confirmed: every heading (a blank one is not read), and each value given a code."""
        mapping = Mapping()
        for name, text in self.heading_texts.items():
            mapping.headings[text] = self.cleaned_data.get(name) or IGNORE
        for name, (key, text) in self.value_texts.items():
            code = self.cleaned_data.get(name)
            if code:
                mapping.values.setdefault(key, {})[text] = code
        return mapping


class SavedMappingForm(_EntriesForm):
    """The county's saved mapping: each heading and value may be changed or forgotten."""

    def __init__(self, *args, mapping: Mapping, **kwargs):
        headings = sorted(mapping.headings.items())  # in one order, whatever order the database keeps them in
        values = {key: sorted(entries.items()) for key, entries in sorted(mapping.values.items())}
        super().__init__(*args, headings=headings, values=values, **kwargs)

    def heading_choices(self) -> list[tuple[str, str]]:
        return [*_field_choices(), (FORGET, _("Forget this heading"))]

    def value_choices(self, key: str) -> list[tuple[str, str]]:
        return [*mappable_codes(key), (FORGET, _("Forget this value"))]

    def mapping(self) -> Mapping:
        mapping = Mapping()
        for name, text in self.heading_texts.items():
            chosen = self.cleaned_data.get(name) or IGNORE
            if chosen != FORGET:
                mapping.headings[text] = chosen
        for name, (key, text) in self.value_texts.items():
            chosen = self.cleaned_data.get(name)
            if chosen and chosen != FORGET:
                mapping.values.setdefault(key, {})[text] = chosen
        return mapping


def mapping_form_for(job: LedgerJob) -> MappingForm | None:
    """The mapping a finished check offers, or None when it knew every heading and value."""
    if job.kind != JobKind.IMPORT or not job.params.get("dry_run") or not isinstance(job.report, dict):
        return None
    offer = job.report.get("unknown") or {}
    if not offer.get("headings") and not any(offer.get("values", {}).values()):
        return None
    return MappingForm(offer=offer)
