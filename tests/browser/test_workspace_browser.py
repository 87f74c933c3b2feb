"""The unit's workspace and the appraiser's start, in a real browser on a phone-sized screen
(390 px), by keyboard: rows saved one by one as they are typed, a mistake that loses nothing, an
evidence removed after a question with nothing lost, the head's submission; an appraiser who
finds their work on the start page. With SCREENSHOTS_DIR set the pages are saved
(workspace-*.png, start-*.png)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from scoring import workflow
from scoring.models import Assessment, Evidence, Score, Stage
from tests.cast import YEAR, leaf, set_stage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PAGE = f"/assessments/{YEAR}/so-a/"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


class Phone:
    """One person's browser at 390 px, in Vietnamese, counting Content-Security-Policy
    violations."""

    def __init__(self, browser, base_url, screenshots):
        self.context = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844})
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.violations = []
        self.page.on(
            "console",
            lambda m: self.violations.append(m.text) if "Content Security" in m.text else None,
        )
        self.base = base_url
        self.screenshots = screenshots

    def login_with_the_keyboard(self, username: str) -> None:
        self.page.goto(self.base + "/accounts/login/")
        self.page.focus("#id_username")
        self.page.keyboard.type(username)
        self.page.keyboard.press("Tab")
        self.page.keyboard.type("pw")
        self.page.keyboard.press("Enter")
        self.page.wait_for_url("**/work/")

    def fits(self) -> bool:
        return self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    def shot(self, name: str) -> None:
        if self.screenshots is not None:
            self.page.screenshot(path=str(self.screenshots / f"{name}.png"), full_page=True)

    def row_saved(self, code: str) -> None:
        """Wait until the row says it was saved."""
        self.page.locator(f'[id="leaf-{code}"] .row-status', has_text="Đã lưu lúc").wait_for()

    def idle(self) -> None:
        self.page.wait_for_function(
            "() => (document.getElementById('assessment-form').dataset.busy || '0') === '0'"
        )


def test_a_unit_saves_row_by_row_loses_nothing_and_submits(
    browser, live_server, cast, tmp_path, screenshots
):
    leaves = {code: leaf(code).pk for code in ("1.1.1", "1.1.2", "3.1")}
    phone = Phone(browser, live_server.url, screenshots)
    page = phone.page
    phone.login_with_the_keyboard("staff-a")
    assert "Tiếp tục tự đánh giá" in page.inner_text("main")  # the start page says what next
    phone.shot("start-unit-390")
    page.get_by_role("link", name="Tiếp tục tự đánh giá").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{PAGE}")
    assert phone.fits()

    # 1.1.1: a score with the decimal comma, saved as soon as the box is left.
    page.focus(f"#id_score_{leaves['1.1.1']}")
    page.keyboard.type("3,5")
    page.keyboard.press("Tab")
    phone.row_saved("1.1.1")
    page.focus(f"#id_method_{leaves['1.1.1']}")
    page.keyboard.type("Theo Kế hoạch số 12/KH-SA")
    page.keyboard.press("Tab")
    phone.idle()

    # 1.1.2: a mistake (above the maximum of 6): the row says so, keeps what was typed.
    page.focus(f"#id_score_{leaves['1.1.2']}")
    page.keyboard.type("7")
    page.keyboard.press("Tab")
    error = page.locator('[id="leaf-1.1.2"] .row-error')
    error.wait_for()
    assert "6,00" in error.inner_text()
    assert page.input_value(f"#id_score_{leaves['1.1.2']}") == "7"
    phone.shot("workspace-row-error-390")

    # A file on 1.1.1, uploaded as soon as it is chosen.
    pdf = tmp_path / "ke-hoach.pdf"
    pdf.write_bytes(PDF)
    page.locator('[id="leaf-1.1.1"] details summary').click()
    page.set_input_files(f"#id_ev{leaves['1.1.1']}-file", str(pdf))
    page.locator(f"#evidence-{leaves['1.1.1']} a", has_text="ke-hoach.pdf").wait_for()
    phone.idle()
    assert Score.objects.get(criterion_id=leaves["1.1.1"]).self_score == D("3.50")
    assert Score.objects.get(criterion_id=leaves["1.1.2"]).self_score is None

    # Removing asks first; refusing keeps the file, accepting removes it and keeps the 7.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator(f"#evidence-{leaves['1.1.1']} button[name=remove]").click()
    assert Evidence.objects.count() == 1
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator(f"#evidence-{leaves['1.1.1']} button[name=remove]").click()
    assert Evidence.objects.count() == 0
    assert page.input_value(f"#id_score_{leaves['1.1.2']}") == "7"  # nothing typed is lost
    assert page.locator("#error-summary a[href='#leaf-1.1.2']").count() == 1
    phone.shot("workspace-error-summary-390")

    # Correct the mistake, complete the leaves, then the head submits.
    page.fill(f"#id_score_{leaves['1.1.2']}", "5,5")
    page.fill(f"#id_method_{leaves['1.1.2']}", "Đếm văn bản")
    page.fill(f"#id_score_{leaves['3.1']}", "1")
    with page.expect_navigation():
        page.click("#save")
    assert page.locator("#error-summary").count() == 0
    assert Score.objects.get(criterion_id=leaves["1.1.2"]).self_score == D("5.50")
    assert phone.fits()
    phone.shot("workspace-390")
    phone.context.close()

    head = Phone(browser, live_server.url, screenshots)
    head.login_with_the_keyboard("head-a")
    head.page.goto(live_server.url + PAGE + "submit/")
    assert "Đã chấm 2 trên 2 tiêu chí thành phần" in head.page.inner_text("main")
    head.shot("workspace-submit-390")
    head.page.focus("#confirm-submit")
    with head.page.expect_navigation():
        head.page.keyboard.press("Enter")
    assert Assessment.objects.get(unit__code="so-a").status == "submitted"
    assert phone.violations == [] and head.violations == []
    head.context.close()


def test_an_appraiser_finds_the_work_on_the_start_page_and_appraises(
    browser, live_server, cast, screenshots
):
    for assessment in Assessment.objects.all():
        workflow.ensure_scores(assessment)
    set_stage(Stage.APPRAISAL_1)
    phone = Phone(browser, live_server.url, screenshots)
    page = phone.page
    phone.login_with_the_keyboard("appraiser-1")
    main = page.inner_text("main")
    assert "Đang chờ bạn thẩm định" in main and "Sở An" in main
    assert phone.fits()
    phone.shot("start-appraiser-390")
    page.get_by_role("link", name="Sở An").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/appraise/#leaf-1.1.1")
    score = Score.objects.get(assessment__unit__code="so-a", criterion__code="1.1.1")
    page.focus(f'input[name="value_{score.pk}"]')
    page.keyboard.type("2,5")
    page.focus(f'textarea[name="reason_{score.pk}"]')
    page.keyboard.type("Ban hành chậm")
    with page.expect_navigation():
        page.click("#save-appraisal")
    score.refresh_from_db()
    assert score.appraisal_1 == D("2.50")
    page.goto(live_server.url + "/work/")
    assert "5 tiêu chí đang chờ" in page.inner_text("main")  # 2 per unit, one now done
    assert phone.violations == []
    phone.context.close()


def test_without_javascript_each_row_still_saves_and_removal_asks_on_a_page(
    browser, live_server, cast, tmp_path, screenshots
):
    leaves = {code: leaf(code).pk for code in ("1.1.1", "1.1.2")}
    context = browser.new_context(
        locale="vi-VN", viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "staff-a")
    page.fill("#id_password", "pw")
    page.click("main button[type=submit]")
    page.goto(live_server.url + PAGE)
    page.fill(f"#id_score_{leaves['1.1.1']}", "2,5")
    page.fill(f"#id_score_{leaves['1.1.2']}", "9")  # a mistake in another row
    pdf = tmp_path / "bao-cao.pdf"
    pdf.write_bytes(PDF)
    page.set_input_files(f"#id_ev{leaves['1.1.1']}-file", str(pdf))
    page.click('[id="leaf-1.1.1"] button[name=save]')  # the row's own button
    assert page.locator("#error-summary a[href='#leaf-1.1.2']").count() == 1
    assert page.input_value(f"#id_score_{leaves['1.1.2']}") == "9"  # kept as typed
    assert Score.objects.get(criterion_id=leaves["1.1.1"]).self_score == D("2.50")
    assert Evidence.objects.count() == 1  # the file of the good row was not dropped
    page.fill(f"#id_score_{leaves['1.1.2']}", "5")
    page.click('[id="leaf-1.1.2"] button[name=save]')
    assert page.url.endswith("#leaf-1.1.2")
    assert page.input_value(f"#id_score_{leaves['1.1.1']}") == "2,50"  # the reader's way
    page.click(f"#evidence-{leaves['1.1.1']} button[name=remove]")
    assert "/delete/" in page.url and "bao-cao.pdf" in page.inner_text("main")
    assert Evidence.objects.count() == 1  # asked first
    if screenshots is not None:
        page.screenshot(path=str(screenshots / "workspace-remove-nojs-390.png"), full_page=True)
    page.click("#confirm-submit")
    assert page.url.endswith("#leaf-1.1.1") and Evidence.objects.count() == 0
    context.close()
