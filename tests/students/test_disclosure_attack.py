"""The attack of the issue, run for real: a masked role tries to recover a child's full resident ID number.

As reported: the case page showed the first four and last four characters and the birth year; the case's county
gives the rest of the address code; only about 33 birth dates in that year pass the GB 11643 check character with
those last four; and the case list's search by whole ID confirms the right one. The attacker below reads what the
pages show, lists every ID number consistent with it, and asks the list (and the export of the list) about each.
A masked role must be left with many candidates and answers that do not tell them apart. The same attacker, given
what the old page showed and a list that searches, does single the child out: the attack is real, not a straw man.
"""

import calendar
import datetime
import random
import re
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.urls import reverse

from students.identifiers import id_check_char
from tests.factories import StudentFactory, make_id_number, open_case

pytestmark = pytest.mark.django_db

# How each number is labelled on the case page, what comes before the ID in it, and its field.
NUMBERS = [("ID number", "", "id_number"), ("Registry number", "G", "registry_number")]
BIRTH = datetime.date(2008, 5, 17)
FACT = re.compile(r"<dt>([^<]*)</dt>\s*<dd[^>]*>(.*?)</dd>", re.S)
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"')
# The most candidates the attacker asks about (the right one among them): enough to see whether answers differ.
SAMPLE = 60


@dataclass(frozen=True)
class Seen:
    """What the attacker learnt of one number: the characters shown at each end, and the birth year."""

    start: str
    end: str
    year: int | None


def facts(html: str) -> dict[str, str]:
    return {label.strip(): re.sub(r"<[^>]+>", "", value).strip() for label, value in FACT.findall(html)}


def read_case_page(client, case, label: str) -> Seen:
    """The attacker reads the case page: the number as shown (5132**********1234, or no digit at all) and the year."""
    shown = facts(client.get(reverse("students:case-detail", args=[case.pk])).content.decode())
    value = shown.get(label, "").split(" ")[0]
    ends = re.fullmatch(r"([0-9A-Z]*)\*+([0-9X]*)", value)
    start, end = (ends.group(1), ends.group(2)) if ends else ("", "")
    born = shown.get("Year of birth") or shown.get("Birth date") or ""
    year = re.search(r"\b(?:19|20)\d\d\b", born)
    return Seen(start=start, end=end, year=int(year.group(0)) if year else None)


def id_candidates(county_code: str, seen: Seen, prefix: str = "") -> list[str]:
    """Every valid number the county's children born in the seen year could have, consistent with what was shown.

    The address code is the county's; the birth date is a day of the year; the sequence is three digits and the
    last character is the check character of the first seventeen. `prefix` is "G" for a registry number."""
    years = [seen.year] if seen.year else range(2000, 2020)
    # The sequence's characters among those shown at the end (before the check character) fix it.
    shown_sequence = seen.end[:-1][-3:]
    sequences = [f"{n:03d}" for n in range(1000) if f"{n:03d}".endswith(shown_sequence)]
    found = []
    for year in years:
        for month in range(1, 13):
            for day in range(1, calendar.monthrange(year, month)[1] + 1):
                head = f"{county_code}{year:04d}{month:02d}{day:02d}"
                for sequence in sequences:
                    first17 = f"{head}{sequence}"
                    number = f"{prefix}{first17}{id_check_char(first17)}"
                    if number.startswith(seen.start) and number.endswith(seen.end):
                        found.append(number)
    return found


def how_many_candidates(county_code: str, seen: Seen, prefix: str = "") -> int:
    """How many numbers are consistent with what was seen; without the end shown, every sequence of every day of the
    year is (each has its one check character), so they are counted rather than listed."""
    if seen.start or seen.end or seen.year is None:
        return len(id_candidates(county_code, seen, prefix))
    return (366 if calendar.isleap(seen.year) else 365) * 1000


def answer(client, url: str, params: dict, candidate: str) -> str:
    """What a page answers to a search for `candidate`, less the candidate echoed back and the CSRF token."""
    response = client.get(url, {**params, "q": candidate})
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = CSRF.sub(r"\1…", body.decode("utf-8"))
    for echo in (candidate, quote(candidate)):
        text = text.replace(echo, "<candidate>")
    return text


def confirmed(client, candidates: list[str], truth: str) -> dict[str, set[str]]:
    """The candidates each oracle (the list, the list's CSV export) answers differently from a sure miss."""
    tried = candidates
    if len(candidates) > SAMPLE:
        tried = [truth, *random.Random(11643).sample([c for c in candidates if c != truth], SAMPLE)]
    oracles = {
        "case list": (reverse("students:case-list"), {}),
        "export": (reverse("students:export"), {"format": "csv"}),
    }
    found = {}
    for name, (url, params) in oracles.items():
        miss = answer(client, url, params, truth[:-6] + "000000")
        found[name] = {candidate for candidate in tried if answer(client, url, params, candidate) != miss}
    return found


@pytest.fixture
def target(area):
    """A child of the home county, among neighbours born the same year, whose number the attacker wants."""
    county = area["county"]
    for n, day in enumerate((3, 9, 21)):
        born = BIRTH.replace(day=day)
        id_number = make_id_number(county.code, born, 2 * n)
        open_case(area["other_school"], student=StudentFactory(birth_date=born, id_number=id_number))
    id_number = make_id_number(county.code, BIRTH, 436)
    child = StudentFactory(name="桑青卓玛", birth_date=BIRTH, id_number=id_number, registry_number=f"G{id_number}")
    return open_case(area["school"], student=child)


@pytest.mark.parametrize(("label", "prefix", "field"), NUMBERS)
def test_a_masked_role_cannot_single_out_a_childs_number(client, users, target, label, prefix, field):
    truth = getattr(target.student, field)
    client.force_login(users["ministry"])

    seen = read_case_page(client, target, label)
    assert (seen.start, seen.end) == ("", ""), "the case page shows characters of the number"
    assert seen.year == BIRTH.year  # the year is shown, and the attack goes on with it

    # A year of birth dates times a thousand sequences: nothing the pages show narrows them.
    assert how_many_candidates(target.county.code, seen, prefix) > 300_000
    # Even granted the last four characters (about 33 numbers left), the list and its export cannot tell the right
    # number from the others: a masked role's search is no search at all.
    granted = id_candidates(target.county.code, Seen(start="", end=truth[-4:], year=seen.year), prefix)
    assert truth in granted and len(granted) < SAMPLE
    for oracle, hits in confirmed(client, granted, truth).items():
        assert hits == set(), f"the {oracle} answers a search by number differently for {sorted(hits)}"


@pytest.mark.parametrize(("label", "prefix", "field"), NUMBERS)
def test_the_attacker_finds_the_number_from_the_old_page_and_a_list_that_searches(
    client, users, target, label, prefix, field
):
    """The control: with the four characters at each end (what the old page showed) and a search that answers,
    about 33 candidates are left, and the search confirms exactly the right one."""
    truth = getattr(target.student, field)
    old_page = Seen(start=truth[:4], end=truth[-4:], year=BIRTH.year)
    candidates = id_candidates(target.county.code, old_page, prefix)
    assert truth in candidates
    assert 15 <= len(candidates) <= 60
    client.force_login(users["county"])  # a user whose list searches by number
    hits = confirmed(client, candidates, truth)
    assert hits["case list"] == {truth}
    assert hits["export"] == {truth}


@pytest.mark.parametrize("role", ["province", "prefecture"])
@pytest.mark.parametrize(("label", "prefix", "field"), NUMBERS)
def test_area_staff_get_the_same_answers_for_the_right_number_and_a_wrong_one(
    client, users, target, role, label, prefix, field
):
    truth = getattr(target.student, field)
    client.force_login(users[role])
    seen = read_case_page(client, target, label)
    assert (seen.start, seen.end) == ("", "")
    wrong = prefix + make_id_number(target.county.code, BIRTH.replace(day=18), 436)
    for oracle, hits in confirmed(client, [truth, wrong], truth).items():
        assert hits == set(), f"the {oracle} tells the right number from a wrong one"
