"""The monthly reports of the nation and of a county group, beside the division's: the stored totals of the month,
scoped as their dashboards are."""

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from counties.models import CountyGroup, CountyGroupMembership, Role
from reports.models import AreaLevel, DailyTotal
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = datetime.date
# The June 2020 report: the figures on 2020-06-15, and what moved from 2020-05-16.
MONTH = "2020-06"
DAYS = [D(2020, 5, 16) + datetime.timedelta(days=n) for n in range(31)]


def sheet_of(response) -> list[tuple]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats"), response.content[:300]
    content = b"".join(response.streaming_content)
    return list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def by_name(sheet: list[tuple]) -> dict[str, dict]:
    header = sheet[1]
    return {row[1]: dict(zip(header, row, strict=True)) for row in sheet[2:]}


@pytest.fixture
def group(area):
    """A group of the home county (a member since 2015) and the far county (a member until 2020-06-01)."""
    group = CountyGroup.objects.create(slug="poverty-52", name="52个未摘帽贫困县", name_en="52 poverty counties")
    CountyGroupMembership.objects.create(group=group, county=area["county"], valid_from=D(2015, 1, 1))
    CountyGroupMembership.objects.create(
        group=group, county=area["far"], valid_from=D(2015, 1, 1), valid_to=D(2020, 6, 1)
    )
    return group


@pytest.fixture
def month_totals(area, group):
    """The month's stored rows for the nation, both provinces, the group and the home county."""
    rows = []
    for n, day in enumerate(DAYS):
        rows.append(DailyTotal(day=day, level=AreaLevel.NATION, open_count=7000 - n, new_count=2, returned_count=3))
        rows.append(DailyTotal(day=day, level=AreaLevel.GROUP, group=group, open_count=500 - n, new_count=1))
        for province, open_count in ((area["province"], 700), (area["far"].province, 6300)):
            rows.append(
                DailyTotal(day=day, level=AreaLevel.PROVINCE, division=province, open_count=open_count, new_count=1)
            )
    rows.append(DailyTotal(day=DAYS[3], level=AreaLevel.COUNTY, division=area["county"], new_count=4, closed_count=1))
    rows.append(
        DailyTotal(
            day=DAYS[-1],
            level=AreaLevel.COUNTY,
            division=area["county"],
            open_count=40,
            open_poor=6,
            open_reason_poverty=25,
            open_reason_work=15,
            returned_count=2,
        )
    )
    # The day before the period: not counted.
    rows.append(DailyTotal(day=D(2020, 5, 15), level=AreaLevel.NATION, new_count=1000, returned_count=1000))
    DailyTotal.objects.bulk_create(rows)


def test_the_national_report_holds_the_nations_and_each_provinces_stored_figures(client, area, month_totals):
    client.force_login(UserFactory(role=Role.MINISTRY))
    response = client.get(reverse("students:monthly-report-national") + f"?month={MONTH}")
    assert response["Content-Disposition"].endswith(f'monthly-national-{MONTH}.xlsx"')
    sheet = sheet_of(response)
    rows = by_name(sheet)
    nation = rows["Nation"]
    assert (nation["Open on 2020-06-15"], nation["New dropouts"], nation["Returned"]) == (7000 - 30, 62, 93)
    assert rows[area["province"].name]["Open on 2020-06-15"] == 700
    assert rows[area["province"].name]["New dropouts"] == 31
    assert rows[area["far"].province.name]["Open on 2020-06-15"] == 6300
    # The nation, then its provinces by code: no county, no group.
    provinces = sorted((area["province"], area["far"].province), key=lambda province: province.code)
    assert [row[1] for row in sheet[2:]] == ["Nation", *(province.name for province in provinces)]


def test_the_group_report_holds_the_group_and_its_member_counties_on_the_15th(client, area, group, month_totals):
    client.force_login(UserFactory(role=Role.MINISTRY))
    response = client.get(reverse("students:monthly-report-group", args=[group.slug]) + f"?month={MONTH}")
    rows = by_name(sheet_of(response))
    # The far county left the group on 2020-06-01: the June report lists the home county alone.
    assert list(rows) == ["52 poverty counties", area["county"].name]
    assert rows["52 poverty counties"]["Open on 2020-06-15"] == 470
    assert rows["52 poverty counties"]["New dropouts"] == 31
    county = rows[area["county"].name]
    assert (county["Code"], county["Open on 2020-06-15"], county["New dropouts"]) == (area["county"].code, 40, 4)
    assert (county["Returned"], county["Closed for another reason"], county["Open, registered-poor"]) == (2, 1, 6)
    assert county["Open: 因贫"] == 25 and county["Open: 外出打工"] == 15


def test_a_province_report_reads_the_same_stored_figures(client, area, users, month_totals):
    client.force_login(users["province"])
    response = client.get(reverse("students:monthly-report", args=[area["province"].code]) + f"?month={MONTH}")
    rows = by_name(sheet_of(response))
    assert rows[area["province"].name]["Open on 2020-06-15"] == 700
    assert rows[area["county"].name]["Open on 2020-06-15"] == 40
    assert rows[area["neighbour"].name]["Open on 2020-06-15"] == 0
    assert area["far"].name not in rows


def test_the_national_report_says_when_the_months_totals_are_not_there_yet(client):
    client.force_login(UserFactory(role=Role.MINISTRY))
    response = client.get(reverse("students:monthly-report-national") + f"?month={MONTH}")
    assert response.status_code == 200
    assert "not available yet" in response.content.decode()


@pytest.mark.parametrize("role", ["province", "prefecture", "county", "principal"])
def test_only_national_users_get_the_national_and_group_reports(client, users, group, month_totals, role):
    client.force_login(users[role])
    for url in (
        reverse("students:monthly-report-national"),
        reverse("students:monthly-report-group", args=[group.slug]),
    ):
        assert client.get(url).status_code == 404
        assert client.get(f"{url}?month={MONTH}").status_code == 404


def test_a_province_user_cannot_get_another_provinces_report(client, area, users, month_totals):
    client.force_login(users["province"])
    far_province = area["far"].province.code
    assert client.get(reverse("students:monthly-report", args=[far_province]) + f"?month={MONTH}").status_code == 404
    client.force_login(users["prefecture"])
    own_province = area["province"].code
    assert client.get(reverse("students:monthly-report", args=[own_province])).status_code == 404


@pytest.mark.parametrize("role", [Role.MINISTRY, Role.ADMIN])
def test_national_users_get_the_national_and_group_report_forms(client, group, role):
    client.force_login(UserFactory(role=role))
    assert client.get(reverse("students:monthly-report-national")).status_code == 200
    page = client.get(reverse("students:monthly-report-group", args=[group.slug]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "52 poverty counties" in page.content.decode()


def test_an_unknown_group_or_month_is_not_found(client, group):
    client.force_login(UserFactory(role=Role.MINISTRY))
    assert client.get(reverse("students:monthly-report-group", args=["no-such-group"])).status_code == 404
    assert client.get(reverse("students:monthly-report-national") + "?month=2020-13").status_code == 404


def test_the_national_and_group_dashboards_link_their_monthly_reports(client, area, group):
    DailyTotal.objects.bulk_create(
        [
            DailyTotal(day=D(2020, 6, 15), level=AreaLevel.NATION, open_count=5),
            DailyTotal(day=D(2020, 6, 15), level=AreaLevel.GROUP, group=group, open_count=5),
        ]
    )
    client.force_login(UserFactory(role=Role.MINISTRY))
    national = client.get(reverse("reports:national")).content.decode()
    assert reverse("students:monthly-report-national") in national
    page = client.get(reverse("reports:group", args=[group.slug])).content.decode()
    assert reverse("students:monthly-report-group", args=[group.slug]) in page
