"""Every public page of the Cần Thơ demo is readable on a 390 px phone and at 1280 px, in
Vietnamese and in English: no page is wider than the screen, no chart text is smaller than
12 px, the ranked value comes first and stays in view with the unit, and printing keeps every
column. With SCREENSHOTS_DIR set (``make screenshots``) each page is saved as
``public-<page>-<width>-<lang>.png``.

The pages are read from the URL resolver: every HTML page of the ``rankings`` app (its own,
the explore and the official pages), so that a page added later is checked too; files
(decisions, badge, images, the open-data zip) and the API are left out.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

WIDTHS = (390, 1280)
LANGUAGES = ("vi", "en")
MIN_TEXT_PX = 12

# Sample values for the URL parameters, by name: the demo's newest year, a unit of it.
SAMPLES = {
    "year": 2025,
    "group": "departments",
    "unit": "so-noi-vu",
    "code": "1",
    "number": 1,
}
# Pages that need a query to show anything.
QUERIES = {"compare": "?units=so-noi-vu,so-tu-phap"}
# Pages worth checking besides one per URL: the widest group (103 communes), an older year.
EXTRA = [
    ("ranking-communes", "/rankings/2025/communes/"),
    ("sipas-communes", "/sipas/2025/communes/"),
    ("home-2023", "/?year=2023"),
    ("ranking-2023", "/rankings/2023/departments/"),
]
# The pages whose tables and charts are checked for unmarked Vietnamese data on English pages.
LANG_CHECKED = {
    "home",
    "home-2023",
    "ranking",
    "ranking-2023",
    "ranking-communes",
    "sipas",
    "sipas-communes",
    "unit",
    "methodology",
    "versions",
}
FILES = re.compile(r"\.(docx|pdf|svg|png|zip|csv|xlsx)$")


def public_pages() -> list[tuple[str, str]]:
    """(name, path) of every HTML page of the public site, from the URL resolver."""
    pages = []

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
                continue
            assert isinstance(pattern, URLPattern)
            module = getattr(pattern.callback, "__module__", "")
            if not module.startswith("rankings.") or module in ("rankings.api", "rankings.admin"):
                continue
            if namespace.startswith("admin:"):
                continue
            if FILES.search(str(pattern.pattern)) or pattern.name in ("open_data", None):
                continue
            kwargs = {name: SAMPLES[name] for name in pattern.pattern.converters}
            path = reverse(namespace + pattern.name, kwargs=kwargs)
            pages.append((pattern.name.replace("_", "-"), path + QUERIES.get(pattern.name, "")))

    walk(get_resolver().url_patterns)
    return sorted(set(pages)) + EXTRA


def test_the_page_list_covers_the_public_site():
    names = {name for name, _path in public_pages()}
    assert {"home", "ranking", "sipas", "unit", "methodology", "versions"} <= names
    assert not [path for _name, path in public_pages() if path.startswith(("/api/", "/admin/"))]


# What a page measures of itself. Chart text: every text of a chart figure (HTML) and every
# SVG text of the page, at its rendered size: the font size times the SVG's scale.
MEASURE = """() => {
  const small = [];
  const seen = new Set();
  const px = (el) => parseFloat(getComputedStyle(el).fontSize);
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  for (const el of document.querySelectorAll('svg text')) {
    if (!visible(el)) continue;
    const ctm = el.getScreenCTM();
    const scale = ctm ? Math.hypot(ctm.a, ctm.b) : 1;
    const size = px(el) * scale;
    if (size < MIN) small.push(`svg text "${el.textContent.trim()}" ${size.toFixed(1)}px`);
  }
  for (const figure of document.querySelectorAll('.chart-figure')) {
    const walker = document.createTreeWalker(figure, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const el = walker.currentNode.parentElement;
      if (!walker.currentNode.textContent.trim() || seen.has(el) || el.closest('svg')) continue;
      seen.add(el);
      if (!visible(el) || el.closest('.visually-hidden')) continue;
      if (px(el) < MIN) small.push(`"${el.textContent.trim().slice(0, 40)}" ${px(el)}px`);
    }
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    charts: document.querySelectorAll('.chart-figure').length,
    small: small,
  };
}""".replace("MIN", str(MIN_TEXT_PX))

# On an English page, the text of tables and charts in Vietnamese (data) must be marked so.
UNMARKED_VIETNAMESE = """() => {
  const letters = /[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹáàãéèíìóòõúùý]/i;
  const found = [];
  for (const root of document.querySelectorAll('table.ranking, .chart-figure, caption')) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (!letters.test(node.textContent)) continue;
      const marked = node.parentElement.closest('[lang]');
      if (!marked || marked.getAttribute('lang') !== 'vi') found.push(node.textContent.trim());
    }
  }
  return found;
}"""


@pytest.fixture
def demo(live_server):
    call_command("load_demo", stdout=io.StringIO())
    return live_server.url


def visit(browser, base, width, language):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="vi-VN")
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def every_page_fits_and_writes_chart_text_at_12_px_or_more(browser, demo, screenshots):
    problems = []
    charts_seen = 0
    pages = public_pages()
    for language in LANGUAGES:
        for width in WIDTHS:
            context, page = visit(browser, demo, width, language)
            for name, path in pages:
                response = page.goto(demo + path)
                if response.status >= 400:
                    problems.append(f"{path} ({language}, {width}px): status {response.status}")
                    continue
                assert page.locator("html").get_attribute("lang") == language
                seen = page.evaluate(MEASURE)
                charts_seen += seen["charts"]
                where = f"{path} ({language}, {width}px)"
                if seen["scrollWidth"] > seen["innerWidth"]:
                    problems.append(
                        f"{where}: the page is {seen['scrollWidth']}px wide, the screen "
                        f"{seen['innerWidth']}px"
                    )
                problems += [
                    f"{where}: chart text below {MIN_TEXT_PX}px: {s}" for s in seen["small"]
                ]
                if language == "en" and name in LANG_CHECKED:
                    problems += [
                        f"{where}: Vietnamese data not marked lang=vi: {text!r}"
                        for text in page.evaluate(UNMARKED_VIETNAMESE)
                    ]
                if screenshots is not None:
                    # JPEG, and at most the first 1,800 px of the page: 64 pictures stay a few
                    # megabytes in the repository.
                    height = min(page.evaluate("document.documentElement.scrollHeight"), 1800)
                    page.screenshot(
                        path=str(screenshots / f"public-{name}-{width}-{language}.jpg"),
                        full_page=True,
                        clip={"x": 0, "y": 0, "width": width, "height": height},
                        type="jpeg",
                        quality=55,
                    )
            context.close()
    assert problems == [], "\n".join(problems)
    assert charts_seen >= 4 * len(LANGUAGES) * len(WIDTHS)  # the check did look at charts


def the_index_band_and_change_come_first_and_stay_in_view_with_the_unit(browser, demo):
    context, page = visit(browser, demo, 390, "en")
    page.goto(demo + "/rankings/2025/communes/")
    headers = page.locator("table.ranking thead th").all_inner_texts()
    assert [h.strip(" ↑↓") for h in headers[:5]] == ["Rank", "Unit", "Index", "Band", "Change"]
    first = page.locator("table.ranking tbody tr").first
    # On the phone, without scrolling: the unit, its index and its band.
    for cell in (first.locator("th"), first.locator("td").nth(1), first.locator("td").nth(2)):
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, cell.inner_text()
    # The table says there is more, and rank and unit stay while it scrolls to its end.
    assert page.locator(".scroll-hint").first.is_visible()
    wrap = page.locator(".table-wrap.public")
    assert wrap.evaluate("e => e.scrollWidth > e.clientWidth")
    wrap.evaluate("e => e.scrollLeft = e.scrollWidth")
    rank, unit = first.locator("td.rank"), first.locator("th.unit")
    assert rank.bounding_box()["x"] >= 0 and unit.bounding_box()["x"] >= 0
    assert unit.bounding_box()["x"] + unit.bounding_box()["width"] <= 390
    last = first.locator("td").last.bounding_box()
    assert last["x"] + last["width"] <= 390 + 1  # the last column has come into view
    # The unit's page: the year table starts with the index, the band and the change too.
    page.goto(demo + "/units/so-noi-vu/")
    headers = page.locator("main table").first.locator("thead th").all_inner_texts()
    assert headers[:4] == ["Year", "Index", "Band", "Change"]
    context.close()


def a_printed_ranking_has_every_column_on_landscape_pages(browser, demo, language, field):
    from pypdf import PdfReader

    context, page = visit(browser, demo, 1280, language)
    page.goto(demo + "/rankings/2023/departments/")
    pdf = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
    box = pdf.pages[0].mediabox
    assert float(box.width) > float(box.height)  # A4 landscape
    text = "\n".join(p.extract_text() for p in pdf.pages)
    for n in range(1, 10):
        assert f"{field} {n}" in text, f"{field} {n}"
    # The first row, whole: its index, change, points, maximum and eight field indices (the
    # ninth, bonus and penalty points only, has none) on one line.
    row = next(match.group(0) for match in re.finditer(r"(?m)96[.,]90 Rất tốt .*$", text))
    assert len(re.findall(r"\d+[.,]\d\d", row)) == 12, row
    # In print media nothing is cut: the table is no wider than its page.
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 1047, "height": 740})  # 297 mm less the margins, in px
    wrap = page.locator(".table-wrap.public")
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_public_site_is_readable_on_a_phone_on_a_desktop_and_on_paper(
    browser, demo, screenshots
):
    every_page_fits_and_writes_chart_text_at_12_px_or_more(browser, demo, screenshots)
    the_index_band_and_change_come_first_and_stay_in_view_with_the_unit(browser, demo)
    a_printed_ranking_has_every_column_on_landscape_pages(browser, demo, "en", "Field")
    a_printed_ranking_has_every_column_on_landscape_pages(browser, demo, "vi", "Lĩnh vực")
