"""One full yearly cycle on the demo's open round (2026), in a real browser.

Sở Nội vụ's staff score, report the figures of the target leaves and upload evidence, its head
submits, the appraisers accept their fields and score the agency leaves, appraiser 1 flags a
leaf, the staff explain, appraiser 1 re-appraises, the secretariat drives every stage and
publishes, and the public API shows the result. The 14 other departments, the survey points
and SIPAS (which feeds five survey leaves) are the secretariat's files, uploaded through the
browser imports: nobody needs a shell.
"""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.utils import timezone

from scoring.models import Assessment, Criterion, Kind, Round, Score, Stage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

UNIT = "so-noi-vu"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


class Visit:
    """A browser context for one person at a time, with screenshots when asked."""

    def __init__(self, browser, base_url, screenshots):
        self.context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        # Every page, the admin's included, must satisfy the site's Content-Security-Policy.
        self.violations = []
        self.page.on(
            "console",
            lambda message: (
                self.violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        self.base_url = base_url
        self.screenshots = screenshots

    def login(self, username: str) -> None:
        self.context.clear_cookies()
        self.page.goto(self.base_url + "/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", "demo")
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state()

    def go(self, path: str):
        response = self.page.goto(self.base_url + path)
        assert response.status < 400, (path, response.status)
        return response

    def shot(self, name: str, full_page: bool = False, at: str | None = None) -> None:
        if self.screenshots is not None:
            if at:
                self.page.locator(at).first.scroll_into_view_if_needed()
            else:
                self.page.evaluate("window.scrollTo(0, 0)")
            self.page.screenshot(path=str(self.screenshots / f"{name}.png"), full_page=full_page)

    def open_next_stage(self, round_obj: Round) -> None:
        """Through the stage wizard: a deadline for the new stage, the blockers acknowledged."""
        self.go(f"/council/stages/{round_obj.year}/")
        if self.page.locator("#id_deadline").count():  # none when opening the final stage
            deadline = timezone.localtime() + timedelta(days=14)
            self.page.fill("#id_deadline", deadline.strftime("%Y-%m-%dT%H:%M"))
        if self.page.locator("#id_acknowledge").count():  # only when something is left undone
            self.page.check("#id_acknowledge")
        self.page.click("#stage-confirm")
        self.page.wait_for_load_state()

    def import_file(self, slug: str, path, year: int, group: str) -> None:
        """The secretariat's import in the browser: upload, check the preview, confirm."""
        self.go(f"/council/imports/{slug}/")
        self.page.set_input_files("#id_file", str(path))
        self.page.fill("#id_year", str(year))
        self.page.select_option("#id_group", group)
        self.page.click("#import-check")
        self.page.wait_for_url(f"**/council/imports/{slug}/*/")
        assert self.page.locator("#import-problems").count() == 0
        self.page.click("#import-confirm")
        self.page.wait_for_url("**/council/imports/")


def scores_file(tmp_path, name, rows):
    path = tmp_path / name
    header = "unit,criterion,self_score,final_score,self_figure,final_figure\n"
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def full_figure(criterion: Criterion) -> D:
    """A figure that earns a target leaf all its points."""
    if criterion.rule == "proportional":
        return D("0") if criterion.direction == "lower" else criterion.target
    first_threshold, _points = criterion.target_rule().steps[0]
    return first_threshold


def file_row(unit: str, leaf: Criterion) -> str:
    """A line of the secretariat's file giving a unit every point of a leaf (nothing for a
    leaf fed from SIPAS: its points come from the unit's SIPAS)."""
    if leaf.sipas_element:
        return ""
    if leaf.kind == Kind.TARGET:
        figure = full_figure(leaf)
        return f"{unit},{leaf.code},,,{figure},{figure}\n"
    final = 0 if leaf.kind in (Kind.BONUS, Kind.PENALTY) else leaf.max_points
    return f"{unit},{leaf.code},,{final},,\n"


def test_a_full_cycle_from_self_assessment_to_the_public_api(
    browser, live_server, tmp_path, screenshots, django_capture_on_commit_callbacks
):
    call_command("load_demo", stdout=io.StringIO())
    round_2026 = Round.objects.get(year=2026)
    assessment = Assessment.objects.get(unit__code=UNIT, criteria_set__round=round_2026)
    leaves = list(assessment.criteria_set.criteria.filter(is_leaf=True).order_by("position"))
    flagged = next(c for c in leaves if c.kind == Kind.SELF and c.max_points >= 1)
    visit = Visit(browser, live_server.url, screenshots)

    # 1. Unit staff score every leaf, explain how, and upload a PDF on one leaf.
    visit.login(f"staff-{UNIT}")
    assert visit.page.url.endswith("/work/")  # the start page says what is missing
    visit.shot("staff-start")
    visit.go("/assessments/")
    visit.shot("staff-assessments")
    visit.go(f"/assessments/2026/{UNIT}/")
    page = visit.page
    # Read from the database before typing: the page saves each row as it is typed, and the
    # test's own queries must not run beside the server's writes (one in-memory SQLite).
    by_pk = {c.pk: c for c in leaves}
    figures = {c.pk: str(full_figure(c)).replace(".", ",") for c in leaves if c.kind == Kind.TARGET}
    for field in page.locator('input[name^="score_"]').all():
        criterion = by_pk[int(field.get_attribute("name").removeprefix("score_"))]
        field.fill("0" if criterion.kind == Kind.BONUS else str(criterion.max_points))
    for field in page.locator('input[name^="figure_"]').all():
        field.fill(figures[int(field.get_attribute("name").removeprefix("figure_"))])
    for method in page.locator('textarea[name^="method_"]').all():
        method.fill("Theo báo cáo CCHC năm 2026")
    evidence_pdf = tmp_path / "ke-hoach-cchc-2026.pdf"
    evidence_pdf.write_bytes(PDF)
    page.locator(f'details:has(input[name="ev{flagged.pk}-file"]) summary').click()
    page.set_input_files(f'input[name="ev{flagged.pk}-file"]', str(evidence_pdf))
    # The file is uploaded as soon as it is chosen, and listed under its leaf.
    page.locator(f"#evidence-{flagged.pk} a", has_text="ke-hoach-cchc-2026.pdf").wait_for()
    visit.shot("staff-self-assessment")
    with page.expect_navigation():
        page.click("#save")  # waits for the row saves under way, then saves the page
    page.wait_for_load_state()
    assert page.locator(".messages .success").count() == 1
    assert Score.objects.get(assessment=assessment, criterion=flagged).evidence.count() == 1

    # 2. The head submits, after a confirmation.
    visit.login(f"head-{UNIT}")
    visit.go(f"/assessments/2026/{UNIT}/submit/")
    visit.shot("head-submit-confirmation")
    page.click("#confirm-submit")
    page.wait_for_load_state()
    assessment.refresh_from_db()
    assert assessment.status == "submitted" and len(assessment.evidence_fingerprint) == 64

    # The other departments and everyone's survey points come from the secretariat's files,
    # uploaded in the browser (no shell).
    others = Assessment.objects.filter(criteria_set=assessment.criteria_set).exclude(
        pk=assessment.pk
    )
    others_file = scores_file(
        tmp_path,
        "others.csv",
        [
            file_row(other.unit.code, leaf)
            for other in others.select_related("unit")
            for leaf in leaves
        ],
    )
    survey_file = scores_file(
        tmp_path,
        "survey.csv",
        [file_row(UNIT, leaf) for leaf in leaves if leaf.kind == Kind.SURVEY],
    )
    sipas = tmp_path / "sipas.csv"
    sipas.write_text(
        "unit,access,procedure,civil_servants,result,feedback\n"
        + "".join(
            f"{a.unit.code},100,100,100,100,100\n"
            for a in Assessment.objects.filter(criteria_set=assessment.criteria_set).select_related(
                "unit"
            )
        ),
        encoding="utf-8",
    )
    visit.login("secretariat")
    visit.import_file("scores", others_file, 2026, "departments")
    visit.import_file("survey-points", survey_file, 2026, "departments")
    visit.import_file("sipas", sipas, 2026, "departments")
    assert visit.page.url.endswith("/council/imports/")

    # 3. The secretariat opens round 1 of the appraisal.
    visit.login("secretariat")
    with django_capture_on_commit_callbacks(execute=True):
        visit.open_next_stage(round_2026)
    assert Round.objects.get(pk=round_2026.pk).stage == Stage.APPRAISAL_1

    # 4. Appraisers accept their fields; appraiser 1 lowers one leaf and flags it.
    appraise = f"/admin/scoring/assessment/{assessment.pk}/appraise/"
    for username in ("appraiser1", "appraiser2"):
        visit.login(username)
        visit.go(appraise)
        fields = [b.get_attribute("value") for b in page.locator('button[name="accept"]').all()]
        assert len(fields) == (4 if username == "appraiser1" else 5)
        for field_id in fields:
            page.click(f'button[name="accept"][value="{field_id}"]')
            page.wait_for_load_state()
        # The agency leaves of their fields: the appraising agency's own records, full marks.
        agency = Score.objects.filter(assessment=assessment, criterion__kind=Kind.AGENCY)
        for item in agency.select_related("criterion"):
            box = page.locator(f'input[name="value_{item.pk}"]')
            if box.count():
                box.fill(str(item.criterion.max_points))
        page.click("#save-appraisal")
        page.wait_for_load_state()
    score = Score.objects.get(assessment=assessment, criterion=flagged)
    visit.login("appraiser1")
    visit.go(appraise)
    lowered = flagged.max_points - D("0.5")
    page.fill(f'input[name="value_{score.pk}"]', str(lowered))
    page.fill(f'textarea[name="reason_{score.pk}"]', "Chưa có báo cáo quý IV")
    page.check(f'input[name="flag_{score.pk}"]')
    visit.shot("council-appraisal")
    page.click("#save-appraisal")
    page.wait_for_load_state()
    score.refresh_from_db()
    assert (score.appraisal_1, score.explanation_requested) == (lowered, True)
    assert not Score.objects.filter(
        assessment=assessment,
        criterion__kind__in=[Kind.SELF, Kind.AGENCY, Kind.TARGET],
        appraisal_1__isnull=True,
    ).exists()

    # 5. Explanation: the staff answer, the head submits it.
    visit.login("secretariat")
    with django_capture_on_commit_callbacks(execute=True):
        visit.open_next_stage(round_2026)
    visit.go(f"/admin/scoring/round/{round_2026.pk}/progress/")
    visit.shot("council-progress")
    visit.login(f"staff-{UNIT}")
    visit.go(f"/assessments/2026/{UNIT}/")
    page.fill(f'textarea[name="explanation_{flagged.pk}"]', "Báo cáo quý IV đã gửi ngày 28/12/2026")
    visit.shot("staff-explanation")
    page.click("#save")
    page.wait_for_load_state()
    visit.login(f"head-{UNIT}")
    visit.go(f"/assessments/2026/{UNIT}/explanation/submit/")
    page.click("#confirm-submit")
    page.wait_for_load_state()
    assessment.refresh_from_db()
    assert assessment.status == "explained"

    # 6. Round 2: appraiser 1 re-appraises the flagged leaf.
    visit.login("secretariat")
    visit.open_next_stage(round_2026)
    visit.login("appraiser1")
    visit.go(appraise)
    raised = flagged.max_points - D("0.25")
    page.fill(f'input[name="value_{score.pk}"]', str(raised))
    page.fill(f'textarea[name="reason_{score.pk}"]', "Đã giải trình, còn chậm một báo cáo")
    page.click("#save-appraisal")
    page.wait_for_load_state()
    score.refresh_from_db()
    assert (score.appraisal_1, score.appraisal_2, score.final_score) == (lowered, raised, raised)

    # 7. The secretariat closes the round, previews and publishes.
    visit.login("secretariat")
    visit.open_next_stage(round_2026)
    assert Round.objects.get(pk=round_2026.pk).stage == Stage.FINAL
    visit.go(f"/admin/scoring/criteriaset/{assessment.criteria_set.pk}/preview/")
    visit.shot("council-preview")
    visit.go("/admin/rankings/publication/publish/")
    page.select_option('select[name="criteria_set"]', str(assessment.criteria_set.pk))
    page.click("#publish-submit")
    page.wait_for_load_state()
    visit.shot("council-publish", full_page=True)  # the results and the button under them
    page.click("#publish-submit")
    page.wait_for_load_state()

    # 8. The public sees it.
    response = visit.go("/api/v1/rankings/2026/departments/")
    data = response.json()
    result = next(r for r in data["results"] if r["unit"] == UNIT)
    assert result["index"] == "99.75"  # every point but the 0.25 the council kept
    assert data["version"] == 1 and len(data["results"]) == 15
    assert visit.violations == []
    visit.context.close()
