"""The admin and the site read in Vietnamese have no English left from Django's admin and the
libraries it shows (their own catalogues lack these strings: cchc/admin_strings.py), and every
page says which language it is in (``<html lang>``), in both languages."""

import re
from decimal import Decimal as D

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User

from scoring import workflow
from scoring.models import Assessment, Round, Score
from tests.cast import YEAR, leaf

pytestmark = pytest.mark.django_db

# What Django 5.2's admin, auth and simple-history show in English on a Vietnamese page
# without the project's catalogue, and where (the English page shows each one there).
LEFTOVERS = {
    "every": [
        "Skip to main content",
        "Toggle theme (current theme: auto)",
        "Model name",
        "Change or view list link",
    ],
    "inner": ['aria-label="Breadcrumbs"', 'aria-label="Sidebar"', "Filter navigation items"],
    "changelist": ["Show counts", "Select all objects on this page for an action"],
    "change": ['class="historylink">History<'],
    "history": ["Changed by", "Change reason", ">Comment<", ">Object<", "1 entry"],
    "user": ["Raw passwords are not stored", "Reset password"],
    "attempts": [">Attempt Time<", ">IP Address<", ">User Agent<", ">Username<", ">Path<"],
    "attempt": ["Form Data", "Meta Data", "Failed Logins", "GET Data", "POST Data"],
}


@pytest.fixture
def pages(cast, assessment_a):
    """Name → (URL, who reads it, which leftovers it would show)."""
    workflow.assessment_save_self(
        assessment_id=assessment_a.pk,
        user=cast["staff_a"],
        leaves=[workflow.SelfInput(leaf("1.1.1").pk, D("4"), "Kế hoạch 12/KH")],
    )
    root = User.objects.create_superuser("root", "root@example.org", "pw")
    attempt = AccessAttempt.objects.create(
        username="staff-so-a",
        ip_address="203.0.113.7",
        user_agent="Mozilla/5.0",
        http_accept="text/html",
        path_info="/accounts/login/",
        get_data="",
        post_data="username=staff-so-a",
        failures_since_start=3,
    )
    round_obj = Round.objects.get(year=YEAR)
    score = Score.objects.get(assessment=assessment_a, criterion=leaf("1.1.1"))
    assessment = Assessment.objects.get(pk=assessment_a.pk)
    return {
        "admin index": ("/admin/", cast["secretariat"], ["every"]),
        "round list": ("/admin/scoring/round/", cast["secretariat"], ["every", "inner"]),
        "assessment list": (
            "/admin/scoring/assessment/",
            cast["secretariat"],
            ["every", "inner", "changelist"],
        ),
        "round": (f"/admin/scoring/round/{round_obj.pk}/change/", cast["secretariat"], ["change"]),
        "score history": (f"/admin/scoring/score/{score.pk}/history/", root, ["history"]),
        "user": (f"/admin/auth/user/{cast['staff_a'].pk}/change/", root, ["user"]),
        "login attempts": ("/admin/axes/accessattempt/", root, ["attempts"]),
        "login attempt": (f"/admin/axes/accessattempt/{attempt.pk}/change/", root, ["attempt"]),
        "appraisal": (
            f"/admin/scoring/assessment/{assessment.pk}/appraise/",
            cast["appraiser_1"],
            ["every", "inner"],
        ),
        "stage wizard": (f"/council/stages/{YEAR}/", cast["secretariat"], ["every", "inner"]),
        "staff assessments": ("/assessments/", cast["staff_a"], []),
        "staff assessment": (f"/assessments/{YEAR}/so-a/", cast["staff_a"], []),
        "public home": ("/", None, []),
        "login": ("/accounts/login/", None, []),
    }


def test_every_page_says_its_language_and_the_admin_has_no_english_left(client, pages):
    for name, (url, user, groups) in pages.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        strings = [s for group in groups for s in LEFTOVERS[group]]
        for language in ("vi", "en"):
            client.cookies["django_language"] = language
            response = client.get(url)
            assert response.status_code == 200, (name, language)
            html = response.content.decode()
            assert re.search(rf'<html lang="{language}"[ >]', html), (name, language)
            for text in strings:
                if language == "en":
                    assert text in html, (name, text)  # so its absence below means something
                else:
                    assert text not in html, (name, text)


def test_the_login_throttling_section_of_the_admin_is_named_in_the_readers_language(client):
    """django-axes names no section: the admin headed it "Axes" in Vietnamese too."""
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    for language, name in (("vi", "Giới hạn đăng nhập sai"), ("en", "Login throttling")):
        client.cookies["django_language"] = language
        for url in ("/admin/", "/admin/axes/"):
            html = client.get(url).content.decode()
            assert f">{name}<" in html, (language, url)
            assert ">Axes<" not in html, (language, url)
