"""The daily totals as series, jobs with their progress and problem reports, the import through the API, county
groups as of a day, and handovers."""

import datetime
import io

import pytest
from django.urls import reverse

from counties.models import CountyGroup, CountyGroupMembership
from reports.models import RunStatus, TotalsRun
from students.choices import HandoverReason, HandoverStatus
from students.models import DropoutCase, Handover, JobKind, LedgerJob
from tests.factories import open_case
from tests.reports.dashboard_data import DAY, make_totals
from tests.students.ledger_files import ledger_row, write_csv

pytestmark = pytest.mark.django_db


def test_a_county_official_gets_their_countys_series_with_when_it_was_computed(
    api, area, django_capture_on_commit_callbacks
):
    make_totals(area)
    run = TotalsRun.objects.create(status=RunStatus.SUCCEEDED, trigger="manual")
    TotalsRun.objects.filter(pk=run.pk).update(finished_at=datetime.datetime(2020, 6, 15, 1, tzinfo=datetime.UTC))

    body = api("county").get(reverse("api:totals"), {"since": "2020-06-13", "until": DAY.isoformat()}).json()

    assert body["area"] == {"kind": "division", "code": area["county"].code, "name": "Home county", "as_of": None}
    assert [day["day"] for day in body["days"]] == ["2020-06-13", "2020-06-14"]
    assert body["days"][-1]["open_count"] == 300
    assert body["computed_at"].startswith("2020-06-15")


def test_a_series_of_an_area_outside_the_scope_is_a_404(api, area):
    make_totals(area)
    assert api("county").get(reverse("api:totals"), {"area": area["far"].code}).status_code == 404
    assert api("county").get(reverse("api:totals"), {"group": "anything"}).status_code == 404


def test_a_reversed_range_names_its_parameter(api, area):
    response = api("ministry").get(reverse("api:totals"), {"since": "2020-06-14", "until": "2020-06-01"})
    assert response.status_code == 400 and response.json()["field"] == "since"


def test_a_province_gets_each_countys_figures_on_a_day(api, area):
    make_totals(area)
    body = api("province").get(reverse("api:county-totals"), {"day": DAY.isoformat()}).json()
    assert {row["county"]["code"]: row["open_count"] for row in body["counties"]} == {
        area["county"].code: 300,
        area["neighbour"].code: 200,
    }


def test_groups_are_for_national_users_with_their_members_of_a_day(api, area):
    group = CountyGroup.objects.create(slug="poverty", name="未摘帽贫困县")
    CountyGroupMembership.objects.create(
        group=group, county=area["county"], valid_from=datetime.date(2015, 1, 1), valid_to=datetime.date(2020, 11, 1)
    )
    during = api("ministry").get(reverse("api:group-detail", args=["poverty"]), {"as_of": "2020-06-30"}).json()
    after = api("ministry").get(reverse("api:group-detail", args=["poverty"]), {"as_of": "2021-01-01"}).json()
    assert [county["code"] for county in during["counties"]] == [area["county"].code]
    assert after["counties"] == []
    assert api("county").get(reverse("api:group-detail", args=["poverty"])).status_code == 404
    assert api("county").get(reverse("api:group-list")).json()["results"] == []


def test_an_import_is_checked_then_confirmed_as_on_the_import_screen(
    api, area, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    path = write_csv(tmp_path / "ledger.csv", [ledger_row(area["school"], 1)])
    client = api("county")
    with open(path, "rb") as upload, django_capture_on_commit_callbacks(execute=True):
        checked = client.client.post(
            reverse("api:import-upload"),
            {"county": area["county"].code, "file": upload},
            HTTP_AUTHORIZATION=f"Token {client.key}",
        )
    assert checked.status_code == 202, checked.json()
    assert checked.json()["dry_run"] and checked.json()["status"] == "queued"
    job = client.get(checked.json()["url"]).json()
    assert job["finished"] and job["problems"] == [], job
    assert not DropoutCase.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        imported = client.post(reverse("api:import-confirm", args=[job["id"]]))

    assert imported.status_code == 202, imported.json()
    assert not imported.json()["dry_run"]
    assert DropoutCase.objects.filter(county=area["county"]).count() == 1
    progress = client.get(imported.json()["url"]).json()
    assert progress["status"] == "succeeded" and progress["progress"] == 100


def check_upload(client, county, path, capture):
    """Upload a ledger file to be checked through the API, and run the check."""
    with open(path, "rb") as upload, capture(execute=True):
        checked = client.client.post(
            reverse("api:import-upload"),
            {"county": county.code, "file": upload},
            HTTP_AUTHORIZATION=f"Token {client.key}",
        )
    assert checked.status_code == 202, checked.json()
    return LedgerJob.objects.get(pk=checked.json()["id"])


def test_a_checks_problems_are_read_from_its_report_as_on_the_job_page(
    api, area, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    rows = [ledger_row(area["school"], 1), ledger_row(area["school"], 2, grade=12), ledger_row(area["school"], 3)]
    rows.append(ledger_row(area["school"], 4, grade=13))
    client = api("county")
    check = check_upload(
        client, area["county"], write_csv(tmp_path / "ledger.csv", rows), django_capture_on_commit_callbacks
    )
    assert check.report_file and "problems" not in check.report  # the problems are in the report file only

    job = client.get(reverse("api:job-detail", args=[check.pk])).json()

    assert job["finished"] and job["counts"]["problems"] == 2, job
    assert [(p["row"], p["column"], p["value"]) for p in job["problems"]] == [(3, "年级", "12"), (5, "年级", "13")]
    assert all(p["message"].startswith("The grade must be") for p in job["problems"])
    listed = client.get(reverse("api:job-list")).json()["results"]
    assert [(row["id"], row["problems"]) for row in listed] == [(check.pk, [])]
    confirmed = client.post(reverse("api:import-confirm", args=[check.pk]))
    assert confirmed.status_code == 403 and not LedgerJob.objects.filter(checked_by=check).exists()


def test_a_check_confirmed_twice_is_imported_once_and_the_second_answer_is_the_first_import(
    api, area, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client = api("county")
    path = write_csv(tmp_path / "ledger.csv", [ledger_row(area["school"], 1), ledger_row(area["school"], 2)])
    check = check_upload(client, area["county"], path, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(reverse("api:import-confirm", args=[check.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(reverse("api:import-confirm", args=[check.pk]), **{"Idempotency-Key": "another-click"})

    assert (first.status_code, again.status_code) == (202, 200), (first.json(), again.json())
    assert again.json()["id"] == first.json()["id"] and not again.json()["dry_run"]
    imported = LedgerJob.objects.get(kind=JobKind.IMPORT, params__dry_run=False)
    assert imported.pk == first.json()["id"] and imported.checked_by == check
    assert DropoutCase.objects.filter(county=area["county"]).count() == 2


def test_a_principal_and_another_county_cannot_import(api, area, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    path = write_csv(tmp_path / "ledger.csv", [ledger_row(area["school"], 1)])
    for role, status in (("principal", 403), ("neighbour_county", 404)):
        client = api(role)
        with open(path, "rb") as upload:
            response = client.client.post(
                reverse("api:import-upload"),
                {"county": area["county"].code, "file": upload},
                HTTP_AUTHORIZATION=f"Token {client.key}",
            )
        assert response.status_code == status, role
    assert not LedgerJob.objects.exists()


def test_a_file_of_another_kind_is_refused_with_the_import_screens_message(api, area):
    client = api("county")
    response = client.client.post(
        reverse("api:import-upload"),
        {"county": area["county"].code, "file": io.BytesIO(b"x")},
        HTTP_AUTHORIZATION=f"Token {client.key}",
    )
    assert response.status_code == 400 and response.json()["field"] == "file"


def test_jobs_are_their_requesters(api, area, users):
    job = LedgerJob.objects.create(kind=JobKind.EXPORT, requested_by=users["county"], county=area["county"])
    assert [row["id"] for row in api("county").get(reverse("api:job-list")).json()["results"]] == [job.pk]
    assert api("neighbour_county").get(reverse("api:job-detail", args=[job.pk])).status_code == 404


def test_a_handover_is_asked_for_and_accepted(api, area):
    case = open_case(area["school"], dropout_date=datetime.date(2024, 1, 1))
    asked = api("county").post(
        reverse("api:case-handover", args=[case.pk]),
        {"county": area["neighbour"].code, "reason": HandoverReason.MOVED_WITH_PARENTS},
    )
    assert asked.status_code == 201, asked.json()
    handover = Handover.objects.get(pk=asked.json()["id"])
    assert api("neighbour_county").get(reverse("api:handover-detail", args=[handover.pk])).json()["case"] is None

    accepted = api("neighbour_county").post(
        reverse("api:handover-accept", args=[handover.pk]),
        {
            "version": case.version,
            "handed_over_on": datetime.date(2024, 2, 1).isoformat(),
            "to_school": area["neighbour_school"].code,
            "persons": [{"role": "principal", "name": "新校长"}],
        },
    )

    assert accepted.status_code == 200, accepted.json()
    handover.refresh_from_db()
    case.refresh_from_db()
    assert handover.status == HandoverStatus.ACCEPTED and case.county == area["neighbour"]
    assert accepted.json()["case"] == case.pk
    assert case.responsible_persons.get().name == "新校长"


def test_a_county_that_does_not_decide_a_handover_cannot_accept_it(api, area):
    case = open_case(area["school"], dropout_date=datetime.date(2024, 1, 1))
    asked = (
        api("county")
        .post(
            reverse("api:case-handover", args=[case.pk]),
            {"county": area["neighbour"].code, "reason": HandoverReason.MOVED_WITH_PARENTS},
        )
        .json()
    )
    response = api("county").post(
        reverse("api:handover-accept", args=[asked["id"]]),
        {"version": case.version, "handed_over_on": "2024-02-01", "to_school": area["neighbour_school"].code},
    )
    assert response.status_code == 404
    assert Handover.objects.get(pk=asked["id"]).status == HandoverStatus.PENDING
