"""The secretariat opens round 1 of the appraisal through the stage wizard on a phone (390 px):
it follows the link from the round list, reads who has not submitted, types the deadline,
acknowledges the warning and confirms with the keyboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from scoring.models import Round, Stage, Transition
from tests.browser.helpers import log_in, open_page
from tests.cast import YEAR

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_secretariat_opens_the_next_stage_with_the_wizard(
    browser, live_server, cast, screenshots, mailoutbox
):
    context, page, violations = open_page(browser, 1280)
    log_in(page, live_server.url, "secretariat", "pw")

    # The round list links to the wizard (no bulk action any more).
    page.goto(live_server.url + "/admin/scoring/round/")
    page.click(f'a[href="/council/stages/{YEAR}/"]')
    page.wait_for_load_state()
    assert page.url.endswith(f"/council/stages/{YEAR}/")
    if screenshots is not None:
        page.screenshot(path=str(screenshots / "stage-wizard-1280.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    undone = page.locator("#left-undone + .blocker")
    assert "3 đơn vị chưa gửi kết quả tự đánh giá" in undone.inner_text()
    assert undone.locator("a", has_text="Sở Bình").count() == 1
    # Nothing on the page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    if screenshots is not None:
        page.screenshot(path=str(screenshots / "stage-wizard-390.png"), full_page=True)

    deadline = (timezone.localtime() + timedelta(days=14)).replace(
        hour=17, minute=0, second=0, microsecond=0
    )
    page.fill("#id_deadline", deadline.strftime("%Y-%m-%dT%H:%M"))
    page.focus("#id_acknowledge")
    page.keyboard.press("Space")
    assert page.is_checked("#id_acknowledge")
    page.focus("#stage-confirm")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/admin/scoring/round/")
    assert page.locator(".messagelist .success").count() == 1

    round_obj = Round.objects.get(year=YEAR)
    assert round_obj.stage == Stage.APPRAISAL_1
    assert round_obj.appraisal_1_deadline == deadline
    assert Transition.objects.filter(round=round_obj, to_state=Stage.APPRAISAL_1).count() == 1
    assert any("staff-b@example.org" in message.to for message in mailoutbox)
    assert violations == []
    context.close()
