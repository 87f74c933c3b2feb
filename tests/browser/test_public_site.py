"""The public site in a real browser, on the Cần Thơ demo: the home page (2025, and the seed's
2023), a table sorted by a column, a unit page, the language switch and a download. With SCREENSHOTS_DIR set (``make
screenshots``) the pages are saved for the README and docs/."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command

from tests.browser.helpers import open_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def site(browser, live_server):
    call_command("load_demo", stdout=io.StringIO())
    context, page, violations = open_page(browser, 1280, accept_downloads=True)
    yield page, live_server.url, context
    assert violations == [], "a page broke the Content-Security-Policy"
    context.close()


def shot(page, screenshots, name, **options):
    if screenshots is not None:
        page.screenshot(path=str(screenshots / f"{name}.png"), **options)


def test_the_public_site_in_a_browser(site, screenshots, browser):
    page, base, context = site

    # The home page: the latest year (2025: departments and communes), each group's
    # classification, top three; the seed's year, 2023, is one parameter away.
    page.goto(base + "/")
    heading = page.locator("h1").inner_text()
    assert heading.startswith("Chỉ số cải cách hành chính") and heading.endswith("2025")
    assert page.locator("section.card").count() == 2
    page.goto(base + "/?year=2023")
    heading = page.locator("h1").inner_text()
    assert heading.startswith("Chỉ số cải cách hành chính") and heading.endswith("2023")
    assert page.locator("section.card").count() == 2
    assert page.locator("section.card figure.chart-figure").count() == 2
    assert (
        "Sở Lao động – Thương binh và Xã hội" in page.locator("section.card ol").first.inner_text()
    )
    shot(page, screenshots, "public-home", full_page=True)

    # The ranking table, sorted by clicking a column header (field 3, highest first).
    page.click('section.card a[href="/rankings/2023/departments/"]')
    page.wait_for_load_state()
    assert "/rankings/2023/departments/" in page.url
    rows = page.locator("table.ranking tbody tr")
    assert rows.count() == 20
    assert rows.first.locator("th").inner_text() == "Sở Lao động – Thương binh và Xã hội"
    shot(page, screenshots, "public-ranking")
    page.click('table.ranking thead a[href$="sort=index"]')  # the index, lowest first
    page.wait_for_load_state()
    assert rows.first.locator("th").inner_text() == "Sở Tài nguyên và Môi trường"
    assert page.locator("table.ranking thead th[aria-sort=ascending]").count() == 1

    # A download has the same numbers as the page.
    with page.expect_download() as download_info:
        page.click('p.downloads a[href*="_export=csv"]')
    content = download_info.value.path().read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(content)))
    assert len(table) == 21
    assert table[1][1] == "Sở Tài nguyên và Môi trường" and table[1][2] == "85.90"

    # A unit page, from the table.
    page.click('table.ranking tbody a[href="/units/so-tai-nguyen-moi-truong/"]')
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Sở Tài nguyên và Môi trường"
    assert page.locator("figure.chart-figure").count() >= 2
    assert "85,90" in page.content()  # the Vietnamese decimal comma
    shot(page, screenshots, "public-unit")

    # The language switch keeps the reader on the same page.
    page.click('header a[hreflang="en"]')
    page.wait_for_load_state()
    assert "/units/so-tai-nguyen-moi-truong/" in page.url
    assert "Over the years" in page.content()
    assert "85.90" in page.content()

    # On a phone the table scrolls inside its own box; the page does not.
    phone = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844})
    mobile = phone.new_page()
    mobile.goto(base + "/rankings/2023/districts/")
    page_width = mobile.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 400
    shot(mobile, screenshots, "public-ranking-phone", full_page=True)
    phone.close()
