"""A county's own headings and values: the check offers a field or a code for each, suggested by similarity; the
user confirms, the check runs again, and the county's next file is read with the mapping, which every official of
the county sees and edits. The command takes the same mapping as a file."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from students.choices import Reason, Status
from students.import_mapping import IGNORE, Mapping, import_mapping_for, match_headings, suggest
from students.importing import import_ledger
from students.ledger_columns import header_index, vocabulary
from students.models import DropoutCase, ImportMapping, LedgerJob
from tests.students.ledger_files import ledger_row, write_csv
from tests.students.test_import_jobs import upload

pytestmark = pytest.mark.django_db

# The county's good file, as the issue found it: its return date headed 返校时间, a reason the ledger does not know.
HEADINGS = ["name", "id_number", "school_code", "grade", "dropout_date", "reason", "status", "placement"]
HEADINGS += ["return_date=返校时间", "note=备注"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def county_file(area, tmp_path):
    rows = [
        ledger_row(area["school"], 1, reason="家庭经济困难", status="已复学", placement="随班就读"),
        ledger_row(area["school"], 2, reason="因贫", note="家访两次"),
    ]
    rows[0]["return_date"] = "2019-09-01"
    return write_csv(tmp_path / "county.csv", rows, headers=HEADINGS)


def test_similar_headings_and_values_are_suggested():
    assert suggest("返校时间", header_index(), header=True) == "return_date"
    assert suggest("家庭经济困难", vocabulary("reason")) == Reason.POVERTY
    assert suggest("备注", header_index(), header=True) == IGNORE


def test_headings_are_matched_through_the_mapping_first():
    mapping = Mapping(headings={"返校时间": "return_date", "备注": IGNORE})
    match = match_headings(["姓名", "返校 时间", "备注", "其他"], header_index(), mapping)
    assert match.positions == {"name": 0, "return_date": 1}
    assert match.names == {"name": "姓名", "return_date": "返校 时间"}
    assert (match.unknown, match.ignored) == (["其他"], ["备注"])


def test_without_a_mapping_the_problem_names_no_column_the_file_lacks_as_if_it_had_it(area, tmp_path):
    result = import_ledger(county_file(area, tmp_path), county=area["county"])
    problems = {(p.row, p.column): p.message for p in result.problems}
    assert (2, "辍学原因") in problems  # the file's own heading
    assert problems[(2, "Return date (not in the file)")].startswith("Say when")
    assert result.unknown_headings == ["返校时间", "备注"]
    assert result.unknown_values == {"reason": ["家庭经济困难"]}


def test_an_unknown_heading_and_value_mapped_on_the_check_page_then_remembered(
    client, area, users, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(users["county"])
    path = county_file(area, tmp_path)
    upload(client, area["county"], path, django_capture_on_commit_callbacks)
    check = LedgerJob.objects.get()
    offer = check.report["unknown"]
    assert offer["headings"] == [
        {"text": "返校时间", "suggested": "return_date"},
        {"text": "备注", "suggested": IGNORE},
    ]
    assert offer["values"] == {"reason": [{"text": "家庭经济困难", "suggested": Reason.POVERTY}]}
    page = client.get(reverse("students:job-detail", args=[check.pk])).content.decode()
    assert reverse("students:import-mapping-confirm", args=[check.pk]) in page
    assert '<option value="return_date" selected>' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("students:import-mapping-confirm", args=[check.pk]),
            {"h0": "return_date", "h1": IGNORE, "v-reason-0": Reason.POVERTY},
        )
    again = LedgerJob.objects.latest("pk")
    assert response.url == reverse("students:job-detail", args=[again.pk])
    assert again.params["dry_run"] and again.input_file.name == check.input_file.name
    assert (again.counts["problems"], again.counts["created"]) == (0, 2), again.report
    assert "Columns not read, as the county's mapping says: 备注." in again.report["warnings"]

    saved = ImportMapping.objects.get(county=area["county"])
    assert saved.headings == {"返校时间": "return_date", "备注": IGNORE}
    assert saved.values == {"reason": {"家庭经济困难": Reason.POVERTY}}
    assert saved.updated_by == users["county"]

    # The next file of the county is read with the mapping, with nothing asked.
    upload(client, area["county"], path, django_capture_on_commit_callbacks)
    third = LedgerJob.objects.latest("pk")
    assert third.counts["problems"] == 0 and not third.report["unknown"]["headings"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("students:import-confirm", args=[third.pk]))
    case = DropoutCase.objects.get(student__name="学生1")
    assert (case.reason, case.status, str(case.returned_on)) == (Reason.POVERTY, Status.RETURNED, "2019-09-01")


def test_another_official_of_the_county_sees_and_edits_the_mapping(client, area, users):
    other = users["county"].__class__.objects.create(
        username="colleague", role=users["county"].role, division=area["county"]
    )
    ImportMapping.objects.create(
        county=area["county"],
        headings={"返校时间": "return_date", "备注": IGNORE},
        values={"reason": {"家庭经济困难": Reason.POVERTY}},
        updated_by=users["county"],
    )
    client.force_login(other)
    url = reverse("students:import-mapping", args=[area["county"].code])
    page = client.get(url).content.decode()
    assert "返校时间" in page and "家庭经济困难" in page
    # Listed in the order of their text: 备注, then 返校时间.
    response = client.post(url, {"h0": "__forget__", "h1": "status_date", "v-reason-0": Reason.OTHER})
    assert response.status_code == 302
    mapping = import_mapping_for(area["county"])
    assert mapping.headings == {"返校时间": "status_date"}
    assert mapping.values == {"reason": {"家庭经济困难": Reason.OTHER}}
    assert ImportMapping.objects.get().updated_by == other
    exported = json.loads(client.get(url, {"format": "json"}).content)
    assert exported == mapping.as_json()


@pytest.mark.parametrize("persona,status", [("neighbour_county", 404), ("principal", 403), ("ministry", 403)])
def test_the_mapping_is_the_countys_own(client, area, users, persona, status):
    client.force_login(users[persona])
    assert client.get(reverse("students:import-mapping", args=[area["county"].code])).status_code == status


def test_the_command_takes_the_same_mapping_as_a_file(area, tmp_path):
    path = county_file(area, tmp_path)
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_ledger", str(path), "--county", area["county"].code, "--dry-run")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps(
            {"headings": {"返校时间": "return_date", "备注": ""}, "values": {"reason": {"家庭经济困难": "poverty"}}}
        ),
        encoding="utf-8",
    )
    call_command("import_ledger", str(path), "--county", area["county"].code, "--mapping", str(mapping))
    assert DropoutCase.objects.filter(status=Status.RETURNED).count() == 1
    mapping.write_text(json.dumps({"headings": {"返校时间": "no_such_field"}}), encoding="utf-8")
    with pytest.raises(CommandError, match="no field no_such_field"):
        call_command(
            "import_ledger", str(path), "--county", area["county"].code, "--mapping", str(mapping), "--language", "en"
        )
