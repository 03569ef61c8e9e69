import pytest

from counties.models import Role

from .factories import CountyFactory, PrefectureFactory, SchoolFactory, UserFactory


@pytest.fixture
def area():
    """Two counties in one prefecture, a third in another province; a school in each of the first two."""
    prefecture = PrefectureFactory()
    home = CountyFactory(parent=prefecture, name="Home county")
    neighbour = CountyFactory(parent=prefecture, name="Neighbour county")
    far = CountyFactory(name="Far county")
    return {
        "province": prefecture.province,
        "prefecture": prefecture,
        "county": home,
        "neighbour": neighbour,
        "far": far,
        "school": SchoolFactory(county=home, name="Home school"),
        "other_school": SchoolFactory(county=home, name="Other school, same county"),
        "neighbour_school": SchoolFactory(county=neighbour, name="Neighbour school"),
        "far_school": SchoolFactory(county=far, name="Far school"),
    }


@pytest.fixture
def users(area):
    return {
        "ministry": UserFactory(role=Role.MINISTRY),
        "province": UserFactory(role=Role.PROVINCE, division=area["province"]),
        "prefecture": UserFactory(role=Role.PREFECTURE, division=area["prefecture"]),
        "county": UserFactory(role=Role.COUNTY, division=area["county"]),
        "neighbour_county": UserFactory(role=Role.COUNTY, division=area["neighbour"]),
        "principal": UserFactory(role=Role.PRINCIPAL, school=area["school"]),
        "other_principal": UserFactory(role=Role.PRINCIPAL, school=area["other_school"]),
        "admin": UserFactory(role=Role.ADMIN),
    }
