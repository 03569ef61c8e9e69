"""The mapping round trip in a real browser, in Chinese: a county's own file with a heading (返校时间) and a value
(家庭经济困难) the ledger does not know; the check offers the most similar field and code, the official confirms,
the file is checked again and imported, and the county's next file is read with the mapping, which a colleague
sees on the county's mapping page. Screenshots go to test-artifacts/."""

import pytest

from counties.models import Role
from students.choices import Reason, Status
from students.models import DropoutCase, ImportMapping
from tests.browser import save_screenshot, sign_in
from tests.factories import CountyFactory, SchoolFactory, UserFactory
from tests.students.ledger_files import ledger_row, write_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HEADINGS = ["name", "id_number", "school_code", "grade", "dropout_date", "reason", "status", "placement"]
HEADINGS += ["return_date=返校时间", "note=备注"]


@pytest.fixture
def page_zh(browser, live_server):
    """A desktop tab whose browser asks for Chinese pages."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def upload(page, county, path) -> None:
    page.goto(f"/cases/import/{county.code}/")
    page.set_input_files("input[name=file]", str(path))
    page.click("main form[enctype] button[type=submit]")
    page.wait_for_url("**/cases/jobs/*/")
    page.wait_for_selector("#job")


def test_a_countys_own_heading_and_value_are_mapped_once_in_chinese_and_remembered(page_zh, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    page = page_zh
    county = CountyFactory(name="壤塘县")
    school = SchoolFactory(county=county, name="上杜柯乡小学")
    UserFactory(role=Role.COUNTY, division=county, username="rangtang")
    UserFactory(role=Role.COUNTY, division=county, username="colleague")
    rows = [
        ledger_row(school, 1, name="桑青卓玛", reason="家庭经济困难", status="已复学", placement="随班就读"),
        ledger_row(school, 2, name="泽仁多吉", reason="因贫", note="家访两次"),
    ]
    rows[0]["return_date"] = "2019-09-01"
    path = write_csv(tmp_path / "壤塘县台账.csv", rows, headers=HEADINGS)

    sign_in(page, "rangtang")
    upload(page, county, path)
    mapping = page.locator("#mapping")
    assert "告诉系统文件中各列和各值的含义" in mapping.inner_text()
    assert page.locator("#mapping select[name=h0]").input_value() == "return_date"
    assert page.locator("#mapping select[name=h1]").input_value() == ""  # 备注: not read
    assert page.locator("#mapping select[name=v-reason-0]").input_value() == Reason.POVERTY
    assert "复学日期（文件中没有此列）" in page.inner_text("table.problems")
    assert "发现2个问题" in page.inner_text("main")
    save_screenshot(page, "import-mapping-offered-zh")

    page.click("#mapping button[type=submit]")
    page.wait_for_selector(".messages li.success")
    assert "正在重新检查文件" in page.inner_text(".messages")
    assert "未发现问题" in page.inner_text("main")
    assert "按本县的对应关系未读取的列：备注" in page.inner_text("main")
    save_screenshot(page, "import-mapping-checked-again-zh")
    page.click("form[action$='/confirm/'] button[type=submit]")
    page.wait_for_selector("text=已导入")
    case = DropoutCase.objects.get(student__name="桑青卓玛")
    assert (case.reason, case.status) == (Reason.POVERTY, Status.RETURNED)

    # The county's next file: read with the mapping, nothing asked.
    upload(page, county, path)
    assert page.locator("#mapping").count() == 0
    assert "未发现问题" in page.inner_text("main")

    # A colleague sees the mapping and may change it.
    page.context.clear_cookies()
    sign_in(page, "colleague")
    page.goto(f"/cases/import/{county.code}/mapping/")
    text = page.inner_text("#saved-mapping")
    assert "返校时间" in text and "家庭经济困难" in text and "最后由" in text
    save_screenshot(page, "import-mapping-county-page-zh")
    assert ImportMapping.objects.get(county=county).values == {"reason": {"家庭经济困难": Reason.POVERTY}}
