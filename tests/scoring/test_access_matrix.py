"""Every staff URL and every admin URL, tried by the whole cast with GET and with POST: nobody
reaches what their role does not allow, and nothing a refused request asked for is written.

The admin URLs are not listed by hand: they are enumerated from the admin site, so a page a
library adds (history, revert, delete, bulk actions) is tried as soon as it exists. Every POST
carries the form as the page shows it, with its values changed, so that a page which saves what
it is sent would write.
"""

import re
from decimal import Decimal as D

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.forms.models import model_to_dict
from simple_history.admin import SimpleHistoryAdmin

from rankings.models import Decision
from scoring import workflow
from scoring.models import (
    Assessment,
    CriteriaSet,
    Round,
    Score,
    SipasResult,
)
from tests.cast import YEAR, leaf
from tests.factories import load_small_province
from tests.helpers import database_state, form_fields

pytestmark = pytest.mark.django_db

ADMIN_LISTS = [
    "/admin/scoring/unitgroup/",
    "/admin/scoring/unit/",
    "/admin/scoring/round/",
    "/admin/scoring/criteriaset/",
    "/admin/scoring/criterion/",
    "/admin/scoring/assessment/",
    "/admin/scoring/score/",
    "/admin/scoring/evidence/",
    "/admin/scoring/transition/",
    "/admin/scoring/sipasresult/",
    "/admin/scoring/membership/",
    "/admin/scoring/appraiserassignment/",
    "/admin/rankings/publication/",
    "/admin/rankings/decision/",
    "/admin/auth/user/",
]

# What each role may open in the admin: 200 where listed, 403 elsewhere.
APPRAISER_MAY = {
    "/admin/scoring/unit/",
    "/admin/scoring/round/",
    "/admin/scoring/criteriaset/",
    "/admin/scoring/criterion/",
    "/admin/scoring/assessment/",
    "/admin/scoring/score/",
    "/admin/scoring/evidence/",
    "/admin/rankings/publication/",
}
SECRETARIAT_MAY = set(ADMIN_LISTS)

# The models the secretariat sets up in the admin (roles.py); it writes nothing else there.
SECRETARIAT_WRITES = {
    "scoring.unitgroup",
    "scoring.unit",
    "scoring.round",
    "scoring.criteriaset",
    "scoring.band",
    "scoring.criterion",
    "scoring.sipasresult",
    "scoring.membership",
    "scoring.appraiserassignment",
    "rankings.decision",  # the year's decision (number, date, signer), with the publishing
}


@pytest.fixture
def world(cast, run, write, assessment_a):
    """The cast's 2024 round in self-assessment with unit A's scores and a cited document, and
    the small province's 2023 round published: every admin page has an object to show."""
    load_small_province(run, write, year=2023)
    workflow.assessment_save_self(
        assessment_id=assessment_a.pk,
        user=cast["staff_a"],
        leaves=[workflow.SelfInput(leaf("1.1.1").pk, D("4"), "Kế hoạch 12/KH")],
    )
    workflow.evidence_add(
        assessment_id=assessment_a.pk,
        criterion_id=leaf("1.1.1").pk,
        user=cast["staff_a"],
        document_number="12/KH-SNV",
    )
    User.objects.create_superuser("root", "root@example.org", "pw")
    Decision.objects.create(year=2023, number="12/QĐ-UBND")  # a decision to open and post
    return cast


def custom_pages():
    round_obj = Round.objects.get(year=YEAR)
    assessment = Assessment.objects.get(unit__code="so-a", criteria_set__round=round_obj)
    criteria_set = CriteriaSet.objects.get(round=round_obj)
    return {
        "appraise": f"/admin/scoring/assessment/{assessment.pk}/appraise/",
        "progress": f"/admin/scoring/round/{round_obj.pk}/progress/",
        "preview": f"/admin/scoring/criteriaset/{criteria_set.pk}/preview/",
        "publish": "/admin/rankings/publication/publish/",
        "stages": f"/council/stages/{YEAR}/",
        "imports": "/council/imports/",
        "import_scores": "/council/imports/scores/",
        "anomalies": f"/council/anomalies/{YEAR}/",
    }


def admin_urls() -> list[tuple[str, str]]:
    """(model label, URL) of every page of every registered model admin, for one object each
    (the first, and for the score admin one of each year), and every history version page."""
    urls = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        urls += [(label, base), (label, f"{base}add/")]
        objects = list(model._default_manager.order_by("pk")[:1])
        if model is Score:
            objects = [
                Score.objects.filter(assessment__criteria_set__round__year=year).first()
                for year in (2023, YEAR)
            ]
        for obj in objects:
            urls += [
                (label, f"{base}{obj.pk}/change/"),
                (label, f"{base}{obj.pk}/delete/"),
                (label, f"{base}{obj.pk}/history/"),
            ]
            if model is User:
                urls.append((label, f"{base}{obj.pk}/password/"))
            if isinstance(model_admin, SimpleHistoryAdmin):
                for record in obj.history.order_by("history_id"):
                    urls.append((label, f"{base}{obj.pk}/history/{record.history_id}/"))
    return urls


NUMBER = re.compile(r"^-?\d+[.,]\d+$")


def hostile(fields: list[tuple[str, str]]) -> dict:
    """The form as shown, every decimal set to 0 and every text changed: a POST that any page
    saving what it is sent would write."""
    data: dict[str, list[str]] = {}
    for name, value in fields:
        if name == "csrfmiddlewaretoken":
            continue
        if NUMBER.match(value):
            value = "0"
        elif value and not value.isdigit() and not name.endswith(("-TOTAL_FORMS", "FORMS")):
            value = f"{value} (sửa)"
        elif not value and name in ("note", "reason", "self_method", "appraisal_1_reason"):
            value = "sửa"
        data.setdefault(name, []).append(value)
    return data


def object_fields(url: str) -> list[tuple[str, str]]:
    """The fields of the object a change or history URL is about, as its form would post them
    (a read-only page shows no inputs, but a page that saves what it is sent needs none)."""
    match = re.search(r"/admin/(\w+)/(\w+)/(\d+)/", url)
    if match is None:
        return []
    model = apps.get_model(match[1], match[2])
    obj = model._default_manager.get(pk=match[3])
    fields = []
    for name, value in model_to_dict(obj).items():
        if isinstance(value, bool):
            if value:
                fields.append((name, "on"))
        elif isinstance(value, list):
            fields += [(name, str(getattr(item, "pk", item))) for item in value]
        else:
            fields.append((name, "" if value is None else str(value)))
    return fields


def posts(url: str, shown: dict[str, str]) -> list[dict]:
    """What is POSTed to a URL: its object and its form as the superuser sees it, changed; a
    confirmed delete; every bulk action on every row."""
    if url.endswith("/delete/"):
        return [{"post": "yes"}]
    if re.search(r"/admin/\w+/\w+/$", url):
        model_admin = next(
            a for m, a in admin.site._registry.items() if url.endswith(f"/{m._meta.model_name}/")
        )
        pks = [str(pk) for pk in model_admin.model._default_manager.values_list("pk", flat=True)]
        return [
            {
                "action": action,
                "_selected_action": pks,
                "post": "yes",
                "confirmed": "yes",
                "reason": "sửa",
            }
            for action in ("delete_selected", "copy_to_next_year", "reopen")
        ]
    return [hostile([*object_fields(url), *form_fields(shown.get(url, ""))])]


@pytest.fixture
def pages(client, world):
    """Every admin URL and the forms the superuser is shown there."""
    client.force_login(User.objects.get(username="root"))
    urls = admin_urls()
    shown = {}
    for _label, url in urls:
        response = client.get(url)
        if response.status_code == 200:
            shown[url] = response.content.decode()
    client.logout()
    return urls, shown


@pytest.mark.parametrize("who", ["anonymous", "staff_a", "staff_b", "head_a"])
def test_people_outside_the_council_never_get_into_the_admin(client, world, pages, who):
    urls, shown = pages
    if who != "anonymous":
        client.force_login(world[who])
    before = database_state(include_users=True)
    for url in [*(u for _l, u in urls), *custom_pages().values()]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url
        for data in posts(url, shown):
            assert client.post(url, data).status_code == 302, url
    assert database_state(include_users=True) == before


@pytest.mark.parametrize("who", ["appraiser_1", "appraiser_3"])
def test_council_members_write_nothing_through_any_admin_url(client, world, pages, who):
    """Council members read in the admin; they write only on the appraisal page, through the
    workflow (tests/scoring/test_council_admin.py)."""
    urls, shown = pages
    client.force_login(world[who])
    before = database_state(include_users=True)
    for _label, url in urls:
        assert client.get(url).status_code in (200, 302, 403, 404), url
        for data in posts(url, shown):
            assert client.post(url, data).status_code in (200, 302, 403, 404), url
    assert database_state(include_users=True) == before


def test_the_secretariat_writes_only_what_it_sets_up(client, world, pages):
    urls, shown = pages
    client.force_login(world["secretariat"])
    before = database_state(include_users=True)
    for label, url in urls:
        if label in SECRETARIAT_WRITES and "/history/" not in url:
            continue
        assert client.get(url).status_code in (200, 302, 403, 404), url
        for data in posts(url, shown):
            assert client.post(url, data).status_code in (200, 302, 403, 404), url
    assert database_state(include_users=True) == before


def test_history_pages_never_write_not_even_for_the_superuser(client, world, pages):
    """simple-history's per-version page is a form that saves what is posted ("revert"): every
    write of a score goes through the workflow, so it is closed for everybody."""
    urls, shown = pages
    client.force_login(User.objects.get(username="root"))
    before = database_state(include_users=True)
    history_forms = [url for _label, url in urls if re.search(r"/history/\d+/$", url)]
    assert any("/scoring/score/" in url for url in history_forms)
    assert any("/scoring/sipasresult/" in url for url in history_forms)
    for url in history_forms:
        assert client.get(url).status_code == 200, url
        assert 'name="_save"' not in shown[url]  # no revert button
        assert client.post(url, *posts(url, shown)).status_code == 403, url
    assert database_state(include_users=True) == before


def test_an_appraiser_cannot_rewrite_a_published_score_through_its_history(client, world):
    """The attack of issue 8: appraiser 1 (field 1 of 2024) posts a published 2023 score's
    history version with the score set to 0, a public note and another year's assessment."""
    score = Score.objects.get(
        assessment__unit__code="so-a",
        assessment__criteria_set__round__year=2023,
        criterion__code="2.1",
    )
    record = score.history.order_by("history_id").first()
    other = Assessment.objects.get(unit__code="so-a", criteria_set__round__year=YEAR)
    client.force_login(world["appraiser_1"])
    url = f"/admin/scoring/score/{score.pk}/history/{record.history_id}/"
    before = database_state(include_users=True)
    response = client.post(
        url,
        {
            "assessment": other.pk,
            "criterion": score.criterion_id,
            "self_score": "0",
            "appraisal_1": "0",
            "note": "Bị sửa",
            "version": score.version,
        },
    )
    assert response.status_code in (403, 404)
    assert client.get(url).status_code == 404  # not a set the appraiser works on
    assert database_state(include_users=True) == before


def test_the_secretariat_cannot_revert_sipas_through_its_history(client, world):
    result = SipasResult.objects.first()
    record = result.history.first()
    client.force_login(world["secretariat"])
    before = database_state()
    response = client.post(
        f"/admin/scoring/sipasresult/{result.pk}/history/{record.history_id}/",
        {
            "round": result.round_id,
            "group": result.group_id,
            "unit": result.unit_id,
            **dict.fromkeys(("access", "procedure", "civil_servants", "result", "feedback"), "0"),
        },
    )
    assert response.status_code == 403
    assert database_state() == before


@pytest.mark.parametrize(
    ("who", "allowed"), [("appraiser_1", APPRAISER_MAY), ("secretariat", SECRETARIAT_MAY)]
)
def test_council_roles_see_the_admin_pages_of_their_role(client, cast, who, allowed):
    client.force_login(cast[who])
    for url in ADMIN_LISTS:
        assert client.get(url).status_code == (200 if url in allowed else 403), url


def test_the_council_pages_by_role(client, cast):
    pages = custom_pages()
    expected = {
        "appraiser_1": {"appraise": 200, "progress": 200, "preview": 200, "publish": 403},
        "appraiser_3": {"appraise": 200, "progress": 200, "preview": 200, "publish": 403},
        "secretariat": {"appraise": 200, "progress": 200, "preview": 200, "publish": 200},
    }
    for who in expected:  # the stage wizard and the imports are the secretariat's alone
        for name in ("stages", "imports", "import_scores"):
            expected[who][name] = 200 if who == "secretariat" else 403
        expected[who]["anomalies"] = 200  # read by the whole council, each within their fields
    for who, statuses in expected.items():
        client.force_login(cast[who])
        for name, status in statuses.items():
            assert client.get(pages[name]).status_code == status, (who, name)


def test_nobody_but_the_superuser_adds_or_deletes_scores_in_the_admin(client, cast):
    before = database_state()
    for who in ("appraiser_1", "secretariat"):
        client.force_login(cast[who])
        assert client.get("/admin/scoring/score/add/").status_code == 403
        assert client.get("/admin/scoring/assessment/add/").status_code == 403
        assert client.get("/admin/scoring/transition/add/").status_code == 403
    assert database_state() == before


@pytest.mark.parametrize("who", ["appraiser_1", "secretariat"])
def test_council_members_cannot_create_or_change_users(client, cast, who):
    client.force_login(cast[who])
    assert client.get("/admin/auth/user/add/").status_code == 403
    response = client.post(f"/admin/auth/user/{cast[who].pk}/change/", {"is_superuser": "on"})
    assert response.status_code == 403
    cast[who].refresh_from_db()
    assert not cast[who].is_superuser
