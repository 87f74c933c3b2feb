"""The secretariat's imports in a real browser, on a phone-sized screen (390 px): the small
province's survey points and SIPAS uploaded, checked, confirmed, one step by keyboard only.
With SCREENSHOTS_DIR set the pages are saved (import-index.png, import-problems.png,
import-preview.png, import-done.png)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from scoring.models import Score, SipasResult
from scoring.roles import SECRETARIAT, ensure_roles
from tests.browser.helpers import log_in, open_page
from tests.cast import make_user
from tests.factories import CRITERIA, UNITS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

YEAR = 2023
SURVEY = 'unit,criterion,self_score,final_score\nso-a,2.1,,9\nso-b,2.1,,8\nso-c,2.1,,"8,5"\n'
SIPAS = (
    "unit,access,procedure,civil_servants,result,feedback\n"
    'so-a,90,91,92,93,94\nso-b,95,95,95,95,"95,5"\nso-c,80,81,82,83,84\n'
)


@pytest.fixture
def secretariat_page(browser, live_server, run, write):
    ensure_roles()  # a transactional test before may have emptied the groups
    assert run("import_units", write("units.csv", UNITS)).status == 0
    outcome = run("import_criteria", write("c.csv", CRITERIA), year=YEAR, group="departments")
    assert outcome.status == 0, outcome.err
    make_user("secretariat", SECRETARIAT, is_staff=True)
    context, page, violations = open_page(browser, 390)
    log_in(page, live_server.url, "secretariat", "pw")
    yield page, live_server.url
    assert violations == [], "a page broke the Content-Security-Policy"
    context.close()


def shot(page, screenshots, name):
    if screenshots is not None:
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def choose_file(page, tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    page.set_input_files("#id_file", str(path))


def fits_the_screen(page) -> bool:
    """The content needs no sideways scrolling at 390 px."""
    return page.evaluate("document.querySelector('#content').scrollWidth <= window.innerWidth")


def test_the_secretariat_imports_survey_points_and_sipas_on_a_phone(
    secretariat_page, tmp_path, screenshots
):
    page, base = secretariat_page

    # The list of imports, in Vietnamese.
    page.goto(base + "/council/imports/")
    assert page.locator("h1").inner_text() == "Nhập dữ liệu"
    assert page.locator("ol.cchc-imports > li").count() == 7
    shot(page, screenshots, "import-index")

    # Survey points, by keyboard only: from the link on the list to the preview.
    link = page.get_by_role("link", name="Điểm điều tra xã hội học")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/council/imports/survey-points/")
    assert page.locator("#id_file").get_attribute("accept") == ".csv,.xlsx"

    # A wrong file first: every problem named by row and column, nothing written.
    choose_file(page, tmp_path, "sai.csv", SURVEY.replace(",9\n", ",12\n").replace("so-b", "so-z"))
    page.fill("#id_year", str(YEAR))
    page.select_option("#id_group", "departments")
    page.click("#import-check")
    page.wait_for_load_state()
    problems = page.locator("#import-problems li").all_inner_texts()
    assert len(problems) == 2
    assert problems[0] == "dòng 2, cột final_score: 12 vượt quá mức tối đa 10,00"
    assert problems[1].startswith("dòng 3, cột unit: ") and "'so-z'" in problems[1]
    assert Score.objects.count() == 0
    shot(page, screenshots, "import-problems")

    # The right file, sent with the keyboard: Tab to the button, Enter.
    choose_file(page, tmp_path, "diem-dieu-tra.csv", SURVEY)
    page.fill("#id_year", str(YEAR))
    page.select_option("#id_group", "departments")
    page.focus("#id_group")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "import-check"
    page.keyboard.press("Enter")
    page.wait_for_url("**/council/imports/survey-points/*/")
    counts = page.locator("#import-counts tbody td").all_inner_texts()
    assert counts == ["3", "0", "0", "0"]
    assert "8.50" in page.locator("#import-sample").inner_text()
    assert Score.objects.count() == 0  # the preview wrote nothing
    assert fits_the_screen(page)
    shot(page, screenshots, "import-preview")

    # Confirm, with the keyboard again.
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "import-confirm":
            break
    assert page.evaluate("document.activeElement.id") == "import-confirm"
    page.keyboard.press("Enter")
    page.wait_for_url("**/council/imports/")
    assert "điểm: tạo mới 3" in page.locator(".messagelist").inner_text()
    finals = {
        s.assessment.unit.code: s.final_score
        for s in Score.objects.select_related("assessment__unit")
    }
    assert finals == {"so-a": D("9.00"), "so-b": D("8.00"), "so-c": D("8.50")}

    # SIPAS, with the mouse.
    page.click("a[href='/council/imports/sipas/']")
    choose_file(page, tmp_path, "sipas.csv", SIPAS)
    page.fill("#id_year", str(YEAR))
    page.select_option("#id_group", "departments")
    page.click("#import-check")
    page.wait_for_url("**/council/imports/sipas/*/")
    assert page.locator("#import-counts tbody td").all_inner_texts() == ["3", "0", "0", "0"]
    assert SipasResult.objects.count() == 0
    page.click("#import-confirm")
    page.wait_for_url("**/council/imports/")
    assert "kết quả SIPAS: tạo mới 3" in page.locator(".messagelist").inner_text()
    assert SipasResult.objects.get(unit__code="so-b").feedback == D("95.50")
    shot(page, screenshots, "import-done")
