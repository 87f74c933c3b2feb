"""Finding and comparing on a phone, with the keyboard (issue 13): the menu, the search of units
without diacritics, the comparison of two units; no page wider than the screen. With
SCREENSHOTS_DIR set (``make screenshots``) the pages are saved for docs/."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests.browser.helpers import open_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def demo(browser, live_server):
    call_command("load_demo", stdout=io.StringIO())
    return live_server.url


def fits(page, width):
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide at {width} px"


def shot(page, screenshots, name, full_page=False):
    """A PNG of the screen, or a JPEG of at most the first 1,800 px of the page (the compare
    page of two districts is 15,000 px tall)."""
    if screenshots is None:
        return
    if not full_page:
        page.screenshot(path=str(screenshots / f"{name}.png"))
        return
    width = page.viewport_size["width"]
    height = min(page.evaluate("document.documentElement.scrollHeight"), 1800)
    page.screenshot(
        path=str(screenshots / f"{name}.jpg"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": width, "height": height},
        type="jpeg",
        quality=55,
    )


def test_menu_search_and_compare_on_a_phone_with_the_keyboard(demo, browser, screenshots):
    context, page, violations = open_page(browser, 390)

    # The menu: the keyboard opens it and reaches its links; nothing is wider than the screen.
    page.goto(demo + "/")
    assert "thành phố Cần Thơ" in page.locator("header.site .brand").inner_text()
    summary = page.locator("details.menu > summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator("details.menu").get_attribute("open") is not None
    panel = page.locator("details.menu .menu-panel")
    assert panel.is_visible()
    assert panel.locator('a[href="/units/"]').is_visible()
    assert panel.locator('a[href="/rankings/2025/departments/"]').count() == 1
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    fits(page, 390)
    shot(page, screenshots, "menu-390")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('.menu-panel') !== null")
    assert focused, "Tab from the menu button goes into the menu"
    # Follow the menu's link to the list of units with the keyboard.
    panel.locator('a[href="/units/"]').focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/units/")

    # The search ignores diacritics: "phong dien" finds huyện Phong Điền.
    fits(page, 390)
    page.locator("#q").focus()
    page.keyboard.type("phong dien")
    page.keyboard.press("Enter")
    page.wait_for_url("**/units/?q=phong+dien")
    names = page.locator("table.unit-list th[scope=row] a").all_inner_texts()
    assert "huyện Phong Điền" in names
    assert all("Phong Điền" in name for name in names)
    fits(page, 390)
    shot(page, screenshots, "units-390", full_page=True)

    # Compare two districts of 2023, choosing them with the keyboard.
    page.goto(demo + "/compare/2023/districts/")
    page.locator("#unit-1").focus()
    page.keyboard.press("ArrowDown")  # the first of the table: huyện Phong Điền
    page.locator("#unit-2").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # the second: huyện Vĩnh Thạnh
    first, second = page.locator("#unit-1").input_value(), page.locator("#unit-2").input_value()
    assert first and second and first != second
    page.locator(".picker button[type=submit]").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/compare/2023/districts/?units={first},{second}")
    heads = page.locator("table.compare").first.locator("thead th").all_inner_texts()
    assert "huyện Phong Điền" in heads and "huyện Vĩnh Thạnh" in heads
    assert page.locator("td.worst").count() > 0  # where one lost more than the other
    fits(page, 390)
    shot(page, screenshots, "compare-390", full_page=True)

    # The unit page leads to its ranking and to "compare with…".
    page.goto(demo + "/units/huyen-phong-dien/")
    page.locator("a", has_text="So sánh với…").click()
    page.wait_for_url("**/compare/2024/districts/with/huyen-phong-dien/")
    assert page.locator("#unit-1").input_value() == "huyen-phong-dien"
    fits(page, 390)
    for url in ("/rankings/2023/districts/fields/1/", "/versions/2023/districts/1/", "/units/"):
        page.goto(demo + url)
        fits(page, 390)
    assert violations == [], "a page broke the Content-Security-Policy"
    context.close()

    wide, page, violations = open_page(browser, 1280, 900)
    page.goto(demo + f"/compare/2023/districts/?units={first},{second}")
    fits(page, 1280)
    shot(page, screenshots, "compare-1280", full_page=True)
    assert violations == []
    wide.close()
