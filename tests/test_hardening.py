"""Production hardening: login throttling, security headers, health checks."""

import pytest
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db


def test_five_wrong_passwords_lock_the_account(client):
    User.objects.create_user("staff", password="the-right-password")
    for _ in range(4):
        response = client.post("/accounts/login/", {"username": "staff", "password": "wrong"})
        assert response.status_code == 200  # the form again, with its message
    fifth = client.post("/accounts/login/", {"username": "staff", "password": "wrong"})
    assert fifth.status_code == 429
    locked = client.post(
        "/accounts/login/", {"username": "staff", "password": "the-right-password"}
    )
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "locked" in locked.content.decode() or "khóa" in locked.content.decode()


def test_pages_send_a_content_security_policy_that_allows_only_the_site_itself(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_health_checks(client):
    assert client.get("/health/live/").json() == {"status": "ok"}
    ready = client.get("/health/")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in ready["Cache-Control"] or "max-age=0" in ready["Cache-Control"]


def test_health_says_when_the_database_is_down(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_evidence_is_never_served_from_a_public_url(client):
    assert client.get("/media/evidence/1/anything.pdf").status_code == 404
