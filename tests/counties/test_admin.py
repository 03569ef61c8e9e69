import datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from counties.models import CountyGroup, CountyGroupMembership, Division, Role, User
from tests.factories import SchoolFactory, UserFactory


@pytest.fixture
def staff_client(client, real_places):
    """A staff member allowed everything in the places app, but not a superuser."""
    user = UserFactory(role=Role.ADMIN, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="counties"))
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", ["division", "countygroup", "countygroupmembership", "school", "user"])
def test_superuser_can_open_every_places_list(admin_client, real_places, model, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        response = admin_client.get(reverse(f"admin:counties_{model}_changelist"))
    assert response.status_code == 200


def test_division_list_searches_by_name_and_code(admin_client, real_places):
    by_name = admin_client.get(reverse("admin:counties_division_changelist"), {"q": "壤塘"})
    by_code = admin_client.get(reverse("admin:counties_division_changelist"), {"q": "513230"})
    for response in (by_name, by_code):
        assert list(response.context["cl"].result_list) == [Division.objects.get(code="513230")]


def test_division_list_filters_by_level(admin_client, real_places):
    response = admin_client.get(reverse("admin:counties_division_changelist"), {"level__exact": "province"})
    assert response.context["cl"].result_count == 31


def test_staff_who_are_not_superusers_see_divisions_read_only(staff_client):
    rangtang = Division.objects.get(code="513230")
    url = reverse("admin:counties_division_change", args=[rangtang.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert staff_client.post(url, {"code": "513230", "name": "Renamed", "level": "county"}).status_code == 403
    rangtang.refresh_from_db()
    assert rangtang.name == "壤塘县"


def test_group_page_lists_its_dated_memberships(staff_client):
    group = CountyGroup.objects.get(slug="poverty-52")
    page = staff_client.get(reverse("admin:counties_countygroup_change", args=[group.pk]))
    assert page.status_code == 200
    assert "西吉县" in page.text and "2020-11-16" in page.text


def test_group_list_counts_members_today_and_ever(staff_client):
    page = staff_client.get(reverse("admin:counties_countygroup_changelist"))
    groups = {g.slug: g for g in page.context["cl"].result_list}
    assert groups["poverty-52"].members_ever == 52
    assert groups["poverty-52"].members_today == 0
    assert groups["sanqu-sanzhou"].members_today == groups["sanqu-sanzhou"].members_ever > 200


def test_administrators_change_a_membership_date(staff_client):
    membership = CountyGroupMembership.objects.get(group__slug="poverty-52", county__code="640422")
    response = staff_client.post(
        reverse("admin:counties_countygroupmembership_change", args=[membership.pk]),
        {
            "group": membership.group_id,
            "county": membership.county_id,
            "valid_from": "2014-01-01",
            "valid_to": "2020-11-18",
        },
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.valid_to == datetime.date(2020, 11, 18)


def test_membership_dates_must_be_in_order(staff_client):
    membership = CountyGroupMembership.objects.get(group__slug="poverty-52", county__code="640422")
    response = staff_client.post(
        reverse("admin:counties_countygroupmembership_change", args=[membership.pk]),
        {
            "group": membership.group_id,
            "county": membership.county_id,
            "valid_from": "2021-01-01",
            "valid_to": "2020-11-18",
        },
    )
    assert response.status_code == 200
    membership.refresh_from_db()
    assert membership.valid_from == datetime.date(2014, 1, 1)


def test_membership_list_filters_by_group_and_current_membership(staff_client):
    url = reverse("admin:counties_countygroupmembership_changelist")
    group = CountyGroup.objects.get(slug="poverty-52")
    assert staff_client.get(url, {"group__id__exact": group.pk}).context["cl"].result_count == 52
    assert staff_client.get(url, {"group__id__exact": group.pk, "active": "yes"}).context["cl"].result_count == 0


def test_county_autocomplete_offers_counties_only(staff_client):
    response = staff_client.get(
        reverse("admin:autocomplete"),
        {"term": "阿坝", "app_label": "counties", "model_name": "countygroupmembership", "field_name": "county"},
    )
    assert response.status_code == 200
    # Not the prefecture 阿坝藏族羌族自治州.
    assert [r["text"] for r in response.json()["results"]] == ["阿坝县 (513231)"]
    response = staff_client.get(
        reverse("admin:autocomplete"),
        {"term": "壤塘", "app_label": "counties", "model_name": "school", "field_name": "county"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["壤塘县 (513230)"]


def test_divisions_of_the_same_name_are_told_apart_in_the_admins_choosers(staff_client):
    response = staff_client.get(
        reverse("admin:autocomplete"),
        {"term": "朝阳区", "app_label": "counties", "model_name": "school", "field_name": "county"},
    )
    texts = sorted(r["text"] for r in response.json()["results"])
    assert len(texts) == 2 and len(set(texts)) == 2  # Beijing's and Changchun's
    assert all(text.startswith("朝阳区 (") for text in texts)


def test_school_list_searches_by_name_and_county(staff_client):
    school = SchoolFactory(county=Division.objects.get(code="513230"), name="上杜柯乡小学")
    url = reverse("admin:counties_school_changelist")
    assert list(staff_client.get(url, {"q": "上杜柯"}).context["cl"].result_list) == [school]
    assert list(staff_client.get(url, {"q": "壤塘"}).context["cl"].result_list) == [school]


def add_user(client, **fields):
    return client.post(
        reverse("admin:counties_user_add"),
        {"username": "official", "usable_password": "true", "password1": "a-Long-pass-9", "password2": "a-Long-pass-9"}
        | fields,
    )


def test_a_county_official_needs_a_county_level_division(staff_client):
    aba = Division.objects.get(code="513200")
    response = add_user(staff_client, role=Role.COUNTY, division=aba.pk)
    assert response.status_code == 200
    assert "division" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="official").exists()


def test_administrators_create_a_county_official_with_role_and_county(staff_client):
    rangtang = Division.objects.get(code="513230")
    response = add_user(staff_client, role=Role.COUNTY, division=rangtang.pk)
    assert response.status_code == 302
    official = User.objects.get(username="official")
    assert (official.role, official.division) == (Role.COUNTY, rangtang)


def group_form_data(page) -> dict:
    """What the browser would send back from a group's change page, unchanged."""
    group = page.context["adminform"].form.instance
    data = {"slug": group.slug, "name": group.name, "name_en": group.name_en, "description": group.description}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data |= {management.add_prefix(name): value for name, value in management.initial.items()}
        for form in formset.initial_forms:
            data |= {
                form.add_prefix("id"): form.instance.pk,
                form.add_prefix("group"): group.pk,
                form.add_prefix("valid_from"): form.instance.valid_from.isoformat(),
                form.add_prefix("valid_to"): form.instance.valid_to.isoformat() if form.instance.valid_to else "",
            }
    return data


def test_a_large_group_page_loads_in_a_few_queries(staff_client, django_assert_max_num_queries):
    group = CountyGroup.objects.get(slug="sanqu-sanzhou")
    with django_assert_max_num_queries(12):
        page = staff_client.get(reverse("admin:counties_countygroup_change", args=[group.pk]))
    assert page.status_code == 200
    assert "壤塘县" in page.text


def test_administrators_add_a_county_and_end_another_on_the_group_page(staff_client):
    group = CountyGroup.objects.get(slug="poverty-52")
    url = reverse("admin:counties_countygroup_change", args=[group.pk])
    data = group_form_data(staff_client.get(url))
    xiji = CountyGroupMembership.objects.get(group=group, county__code="640422")
    row = next(key for key, value in data.items() if key.endswith("-id") and value == xiji.pk)
    data[row.replace("-id", "-valid_to")] = "2020-11-18"
    new_rows = next(key for key in data if key.endswith("-INITIAL_FORMS") and data[key] == 0).removesuffix(
        "INITIAL_FORMS"
    )
    data |= {
        f"{new_rows}TOTAL_FORMS": 1,
        f"{new_rows}0-county": Division.objects.get(code="513230").pk,
        f"{new_rows}0-valid_from": "2019-01-01",
        f"{new_rows}0-valid_to": "2020-11-17",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context and [
        f.errors for f in response.context["inline_admin_formsets"]
    ]
    xiji.refresh_from_db()
    assert xiji.valid_to == datetime.date(2020, 11, 18)
    assert group.counties_on(datetime.date(2020, 6, 14)).count() == 53
    assert group.counties_on(datetime.date(2020, 6, 14)).filter(code="513230").exists()
