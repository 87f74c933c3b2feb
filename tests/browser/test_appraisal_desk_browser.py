"""The appraisal desk in a real browser: an appraiser appraises a unit with the keyboard on a
phone (390 px wide), a wrong value comes back beside its row with everything else typed kept,
and neither the desk nor the progress board is ever wider than the screen."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from scoring import workflow
from scoring.models import Round, Score, Stage
from tests.cast import YEAR, leaf

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
WIDER_THAN_THE_SCREEN = "document.documentElement.scrollWidth > window.innerWidth"


@pytest.fixture
def round_1(cast, assessment_a):
    """Unit A has scored itself (1.1.1 = 4, 1.1.2 = 6) and round 1 is open."""
    workflow.assessment_save_self(
        assessment_id=assessment_a.pk,
        user=cast["staff_a"],
        leaves=[
            workflow.SelfInput(leaf("1.1.1").pk, D("4"), "Kế hoạch 12/KH"),
            workflow.SelfInput(leaf("1.1.2").pk, D("6"), "Báo cáo năm"),
        ],
    )
    workflow.round_advance(
        round_id=Round.objects.get(year=YEAR).pk,
        user=cast["secretariat"],
        to_stage=Stage.APPRAISAL_1,
    )
    return assessment_a


def open_page(browser, live_server, username, viewport):
    context = browser.new_context(locale="vi-VN", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    return context, page


def tab_to(page, selector: str, limit: int = 15) -> None:
    """Press Tab until ``selector`` has the focus (the way a keyboard user gets there)."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_an_appraiser_appraises_a_unit_with_the_keyboard_on_a_phone(
    browser, live_server, cast, round_1, screenshots
):
    first = Score.objects.get(assessment=round_1, criterion=leaf("1.1.1"))
    second = Score.objects.get(assessment=round_1, criterion=leaf("1.1.2"))
    appraise = f"{live_server.url}/admin/scoring/assessment/{round_1.pk}/appraise/"
    context, page = open_page(browser, live_server, "appraiser-1", PHONE)
    page.goto(appraise)
    assert not page.evaluate(WIDER_THAN_THE_SCREEN)
    # Every value of a card keeps the name of its column.
    labels = page.evaluate(
        """[...document.querySelectorAll('#leaf-1\\\\.1\\\\.1 td[data-label]')].map(
            td => getComputedStyle(td, '::before').content)"""
    )
    assert labels and all(label not in ("none", "normal", '""') for label in labels)

    page.focus(f"#id_value_{first.pk}")
    page.keyboard.type("3,5")
    tab_to(page, f"#id_reason_{first.pk}")
    page.keyboard.type("Ban hành chậm 5 ngày")
    tab_to(page, f"#id_value_{second.pk}")
    page.keyboard.type("9")  # above the maximum of 6
    tab_to(page, f"#id_reason_{second.pk}")
    page.keyboard.type("Gõ nhầm")
    page.focus(f"#id_value_{second.pk}")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # Enter in a box saves the page, it accepts nothing

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.appraisal_1, first.appraisal_1_reason) == (D("3.50"), "Ban hành chậm 5 ngày")
    assert (
        second.appraisal_1 is None and Score.objects.filter(appraisal_1__isnull=False).count() == 1
    )
    # The error stands beside its row, what was typed is kept, and the summary links to it.
    row = page.locator("#leaf-1\\.1\\.2")
    assert "has-error" in row.get_attribute("class")
    assert row.locator(".row-error").is_visible()
    assert page.input_value(f"#id_value_{second.pk}") == "9"
    assert page.input_value(f"#id_reason_{second.pk}") == "Gõ nhầm"
    assert page.get_attribute(f"#id_value_{second.pk}", "aria-invalid") == "true"
    assert page.locator('#error-summary a[href="#leaf-1.1.2"]').is_visible()
    assert page.input_value(f"#id_value_{first.pk}") == "3,50"  # saved, shown as saved
    assert not page.evaluate(WIDER_THAN_THE_SCREEN)
    if screenshots is not None:
        page.screenshot(path=str(screenshots / "appraisal-390.png"))

    # Corrected, then saved with the row's own button, reached and pressed with the keyboard.
    page.fill(f"#id_value_{second.pk}", "")
    page.focus(f"#id_value_{second.pk}")
    page.keyboard.type("5,25")
    tab_to(page, "#leaf-1\\.1\\.2 button.row-save")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("#leaf-1.1.2")
    second.refresh_from_db()
    assert (second.appraisal_1, second.appraisal_1_reason) == (D("5.25"), "Gõ nhầm")
    assert not page.evaluate(WIDER_THAN_THE_SCREEN)
    context.close()


def test_the_desk_and_the_board_at_their_widths(browser, live_server, cast, round_1, screenshots):
    round_obj = Round.objects.get(year=YEAR)
    for viewport in (DESK, PHONE):
        context, page = open_page(browser, live_server, "secretariat", viewport)
        page.goto(f"{live_server.url}/admin/scoring/round/{round_obj.pk}/progress/")
        assert not page.evaluate(WIDER_THAN_THE_SCREEN), viewport
        # The first unit's gaps link to its appraisal page, at the first leaf without a score.
        link = page.locator("td.gaps a").first
        assert "#leaf-1.1.1" in link.get_attribute("href")
        if viewport is PHONE:
            assert page.locator(".scroll-cue").first.is_visible()
        elif screenshots is not None:
            page.screenshot(path=str(screenshots / "progress-1280.png"), full_page=True)
        context.close()
    context, page = open_page(browser, live_server, "appraiser-1", DESK)
    page.goto(f"{live_server.url}/admin/scoring/assessment/{round_1.pk}/appraise/")
    assert not page.evaluate(WIDER_THAN_THE_SCREEN)
    assert page.locator("#next-unit").is_visible()
    if screenshots is not None:
        page.screenshot(path=str(screenshots / "appraisal-1280.png"))
    # "Accept" with an edit pending: the edit is saved and kept, the untouched leaf accepted.
    first = Score.objects.get(assessment=round_1, criterion=leaf("1.1.1"))
    page.fill(f"#id_value_{first.pk}", "3,75")
    page.fill(f"#id_reason_{first.pk}", "Chậm")
    with page.expect_navigation():
        page.click(f'button[name="accept"][value="{leaf("1").pk}"]')
    assert {
        s.criterion.code: s.appraisal_1
        for s in round_1.scores.filter(criterion__code__in=["1.1.1", "1.1.2"])
    } == {"1.1.1": D("3.75"), "1.1.2": D("6.00")}
    assert page.url.endswith("#field-1")
    context.close()
