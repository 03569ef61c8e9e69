"""What a verifier records, and what follows: "not found" reopens the case through the ledger's services and
the county sees it on its dashboard; the dashboards show the checked share and the failure rate per area."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from students import worklist
from students.choices import Status
from students.models import IdentifierAccess
from tests.case_steps import days_ago, visit
from tests.factories import UserFactory
from verification import evidence
from verification.models import Outcome, SpotCheck
from verification.services import spot_check_round_draw, spot_checks_assign

from .conftest import PERIOD

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def checks(ledger, users, area, verifier):
    """A round of four in the home county, all four assigned to the verifier."""
    start, end = PERIOD
    spot_round = spot_check_round_draw(
        area=area["county"], returned_from=start, returned_until=end, size=4, seed=7, user=users["province"]
    )
    drawn = list(spot_round.checks.order_by("pk"))
    spot_checks_assign(spot_round=spot_round, checks=drawn, verifier=verifier, user=users["province"])
    return drawn


def record(client, check, **fields):
    data = {"outcome": Outcome.CONFIRMED, "checked_on": days_ago(0).isoformat(), "note": "在三年级二班见到本人"}
    data.update(fields)
    return client.post(reverse("verification:check-detail", args=[check.pk]), data)


def test_a_failed_spot_check_reopens_the_case_and_shows_on_the_county_dashboard(client, checks, verifier, users, area):
    check = checks[0]
    client.force_login(verifier)
    response = record(client, check, outcome=Outcome.NOT_FOUND, note="学校称该生已两周未到校")
    assert response.status_code == 302
    check.refresh_from_db()
    case = check.case
    case.refresh_from_db()
    assert check.outcome == Outcome.NOT_FOUND and check.checked_on == days_ago(0)
    # The ledger's own relapse: the episode ends, and a new open case holds the child.
    assert case.status == Status.RELAPSED
    reopened = check.reopened_case
    assert reopened.previous_case == case and reopened.status == Status.DROPPED_OUT
    assert reopened.dropout_date == days_ago(0) and reopened.county == area["county"]
    assert "学校称该生已两周未到校" in case.events.get(to_status=Status.RELAPSED).note
    # Both events name the verifier who found the child gone, though the verifier may not change the ledger.
    assert case.events.get(to_status=Status.RELAPSED).recorded_by == verifier
    assert reopened.events.get().recorded_by == verifier

    client.force_login(users["county"])
    page = client.get(reverse("reports:division", args=[area["county"].code]))
    html = page.content.decode()
    assert 'id="spot-checks"' in html
    assert reverse("students:case-detail", args=[reopened.pk]) in html
    assert case.student.name in html  # the county sees who the child is
    assert 'data-spot="checked-share">25%' in html and 'data-spot="failure-rate">100%' in html


def test_the_prefecture_dashboard_shows_each_countys_checked_share_and_failure_rate(
    client, checks, verifier, users, area
):
    client.force_login(verifier)
    record(client, checks[0], outcome=Outcome.NOT_FOUND)
    record(client, checks[1], outcome=Outcome.CONFIRMED)
    record(client, checks[2], outcome=Outcome.RECORD_WRONG, note="学籍号与本人不符")
    client.force_login(users["prefecture"])
    response = client.get(reverse("reports:division", args=[area["prefecture"].code]))
    html = response.content.decode()
    assert 'data-spot="sampled">4' in html
    assert 'data-spot="checked-share">75%' in html and 'data-spot="failure-rate">67%' in html
    assert area["county"].name in html
    for check in checks:  # counts only: no child is named to the prefecture
        assert check.case.student.name not in html


def test_the_prefecture_panel_is_rendered_once_and_follows_each_outcome_at_once(client, checks, verifier, users, area):
    url = reverse("reports:division", args=[area["prefecture"].code])
    client.force_login(users["prefecture"])
    assert 'data-spot="checked-share">0%' in client.get(url).content.decode()
    again = client.get(url)  # served from the cache: the panel is not rendered again
    assert "verification/_panel.html" not in [template.name for template in again.templates]
    assert 'data-spot="checked-share">0%' in again.content.decode()
    client.force_login(verifier)
    record(client, checks[0], outcome=Outcome.NOT_FOUND)
    client.force_login(users["prefecture"])
    html = client.get(url).content.decode()
    assert 'data-spot="checked-share">25%' in html and 'data-spot="failure-rate">100%' in html


def test_confirmed_and_record_wrong_leave_the_case_as_it_was(client, checks, verifier, users, area):
    client.force_login(verifier)
    record(client, checks[1], outcome=Outcome.CONFIRMED)
    record(client, checks[2], outcome=Outcome.RECORD_WRONG, note="学籍号与本人不符")
    for check in checks[1:3]:
        check.refresh_from_db()
        assert check.case.status == Status.RETURNED and check.reopened_case is None
    client.force_login(users["county"])
    html = client.get(reverse("reports:division", args=[area["county"].code])).content.decode()
    # The wrong record is the county's to put right: it is listed; a confirmed return is not.
    assert checks[2].case.student.name in html and checks[1].case.student.name not in html


def test_a_check_is_recorded_once(client, checks, verifier):
    client.force_login(verifier)
    record(client, checks[0])
    response = record(client, checks[0], outcome=Outcome.NOT_FOUND)
    assert response.status_code == 400
    assert "This check is already recorded." in response.content.decode()
    assert SpotCheck.objects.get(pk=checks[0].pk).outcome == Outcome.CONFIRMED
    checks[0].case.refresh_from_db()
    assert checks[0].case.status == Status.RETURNED


def test_a_form_with_errors_keeps_what_was_typed(client, checks, verifier):
    client.force_login(verifier)
    response = record(client, checks[0], outcome=Outcome.RECORD_WRONG, note="", checked_on=days_ago(2).isoformat())
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["note"]
    html = response.content.decode()
    assert re.search(r'value="record_wrong"[^>]*checked', html)
    assert f'value="{days_ago(2).isoformat()}"' in html
    assert not SpotCheck.objects.get(pk=checks[0].pk).outcome


def test_a_date_in_the_future_is_refused(client, checks, verifier):
    client.force_login(verifier)
    response = record(client, checks[0], checked_on=days_ago(-3).isoformat())
    assert response.status_code == 400
    assert "The date cannot be in the future." in response.context["form"].errors["checked_on"]


def test_a_photo_is_kept_and_shown_only_to_those_who_see_the_child(client, checks, verifier, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(verifier)
    photo = SimpleUploadedFile("桑青卓玛.png", PNG, content_type="image/png")
    assert record(client, checks[0], evidence=photo).status_code == 302
    check = SpotCheck.objects.get(pk=checks[0].pk)
    assert check.evidence.name.endswith(f"check-{check.pk}.png") and "桑青卓玛" not in check.evidence.name
    url = reverse("verification:check-evidence", args=[check.pk])
    before = IdentifierAccess.objects.count()
    for role_user, status in ((verifier, 200), (users["county"], 200), (users["principal"], 200)):
        client.force_login(role_user)
        response = client.get(url)
        assert response.status_code == status
        assert b"".join(response.streaming_content) == PNG
    assert IdentifierAccess.objects.count() == before + 3
    for role in ("ministry", "province", "prefecture", "neighbour_county", "other_principal"):
        client.force_login(users[role])
        assert client.get(url).status_code == 404, role
    other = UserFactory(role=verifier.role, division=verifier.division)
    client.force_login(other)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("scan.jpg", b"not a photo at all", "Attach a photo (JPEG or PNG) or a scan (PDF)."),
        ("scan.exe", PNG, "Attach a photo (JPEG or PNG) or a scan (PDF)."),
        ("scan.png", PNG + b"\x00" * 2048, "The file is larger than"),
    ],
)
def test_a_wrong_or_too_large_file_is_refused(client, checks, verifier, monkeypatch, name, content, message):
    monkeypatch.setattr(evidence, "EVIDENCE_MAX_MB", 1 / 1024)  # one kilobyte
    client.force_login(verifier)
    response = record(client, checks[0], evidence=SimpleUploadedFile(name, content))
    assert response.status_code == 400
    errors = response.context["form"].errors["evidence"]
    assert any(message in error for error in errors)
    assert any("choose the file again" in error for error in errors)
    assert not SpotCheck.objects.get(pk=checks[0].pk).outcome


@override_settings(LANGUAGE_CODE="zh-hans")
def test_the_check_page_shows_the_child_in_full_and_logs_the_view(client, checks, verifier):
    client.force_login(verifier)
    check = checks[0]
    response = client.get(reverse("verification:check-detail", args=[check.pk]))
    html = response.content.decode()
    assert check.case.student.name in html and check.case.student.id_number in html
    entry = IdentifierAccess.objects.get(user=verifier)
    assert entry.case == check.case and entry.children == 1


def test_a_check_can_be_given_only_to_a_verifier_of_the_area(checks, users, area):
    outsider = UserFactory(role="verifier", division=area["far"])
    with pytest.raises(Exception, match="verifier of this area"):
        spot_checks_assign(spot_round=checks[0].round, checks=checks[:1], verifier=outsider, user=users["province"])


def test_the_evidence_sniffer_reads_the_bytes_not_the_name():
    assert evidence.evidence_type(SimpleUploadedFile("a.pdf", b"%PDF-1.7 ...")) == "application/pdf"
    assert evidence.evidence_type(SimpleUploadedFile("a.pdf", io.BytesIO(PNG).read())) is None


def test_the_county_hears_of_a_reopened_case_on_its_work_list_until_it_visits(client, checks, verifier, users):
    client.force_login(verifier)
    record(client, checks[0], outcome=Outcome.NOT_FOUND, note="学校称该生已两周未到校")
    reopened = SpotCheck.objects.get(pk=checks[0].pk).reopened_case
    client.force_login(users["county"])
    work = client.get(reverse("students:work-list"), {"section": worklist.SPOT_CHECKS})
    section = work.context["sections"][0]
    assert section.key == worklist.SPOT_CHECKS and section.count == 1
    assert [row.url for row in section.rows] == [reopened.get_absolute_url()]
    assert "Not found in school at a spot check" in section.rows[0].what
    assert 'data-section="spot_checks">1<' in work.content.decode()
    visit(reopened, days_ago(0))
    assert worklist.due_counts(users["county"], days_ago(0))[worklist.SPOT_CHECKS] == 0
    # Another county is told nothing of it.
    assert worklist.due_counts(users["neighbour_county"], days_ago(0))[worklist.SPOT_CHECKS] == 0
