"""The council's anomaly board in a real browser, on the demo's open round (2026): wide and on
a phone, where its tables scroll inside their own boxes and the page stays within the screen."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from scoring.models import Assessment, Criterion, Kind, Score

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_anomaly_board_on_a_wide_screen_and_a_phone(browser, live_server, screenshots):
    call_command("load_demo", stdout=io.StringIO())
    # One anomaly planted for sure: a unit's leaf at its maximum, without evidence.
    assessment = Assessment.objects.filter(criteria_set__round__year=2026).order_by("pk").first()
    leaf = Criterion.objects.filter(
        criteria_set=assessment.criteria_set, is_leaf=True, kind=Kind.SELF, max_points__gt=0
    ).first()
    score, _created = Score.objects.get_or_create(assessment=assessment, criterion=leaf)
    score.self_score = leaf.max_points
    score.not_applicable_requested = False
    score.save()
    score.evidence.all().delete()
    anchor = f"/admin/scoring/assessment/{assessment.pk}/appraise/#leaf-{leaf.code}"

    for width in (1280, 390):
        context = browser.new_context(locale="vi-VN", viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        violations = []
        page.on(
            "console",
            lambda message, seen=violations: (
                seen.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.goto(live_server.url + "/accounts/login/")
        page.fill("#id_username", "secretariat")
        page.fill("#id_password", "demo")
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        response = page.goto(live_server.url + "/council/anomalies/")
        assert response.status == 200
        assert page.url.endswith("/council/anomalies/2026/")
        assert page.locator("h1").inner_text() == "Bảng bất thường, kỳ đánh giá năm 2026"
        assert page.locator(f'#unevidenced a[href="{anchor}"]').count() == 1
        assert page.locator("section h2").count() == 5
        if width == 390:
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert violations == []
        if screenshots is not None:
            # The wide screen's shot shows the whole board, every section included.
            page.screenshot(
                path=str(screenshots / f"anomalies-{width}.png"), full_page=width == 1280
            )
        context.close()
