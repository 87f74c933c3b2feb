"""Production hardening: login throttling, security headers, health checks."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

OFFICE = "203.0.113.7"  # one address, e.g. an office behind NAT, or an attacker
ELSEWHERE = "198.51.100.9"


def log_in(username, password, address=OFFICE):
    """One login attempt from ``address``, in a fresh browser."""
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )
    response.logged_in = "_auth_user_id" in client.session
    return response


def accounts(count, prefix="staff"):
    """``count`` accounts, each with the password ``right-<name>``."""
    names = [f"{prefix}-{n}" for n in range(count)]
    for name in names:
        User.objects.create_user(name, password=f"right-{name}")
    return names


def spray(names, guesses=4, address=OFFICE):
    """Wrong passwords against each account in turn; the status of every attempt."""
    return [
        log_in(name, f"wrong-{guess}", address).status_code
        for name in names
        for guess in range(guesses)
    ]


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


def test_password_spraying_from_one_address_is_stopped_at_the_address_limit(settings):
    assert settings.AXES_ADDRESS_FAILURE_LIMIT == 20
    names = accounts(40)
    statuses = spray(names)  # 4 wrong passwords for each of 40 accounts: 160 failures
    assert statuses[:19] == [200] * 19  # an office's typos against several accounts pass
    assert set(statuses[19:]) == {429}  # the 20th failure from the address locks it
    refused = [log_in(name, f"right-{name}") for name in names]
    assert [r.status_code for r in refused] == [429] * 40
    assert not any(r.logged_in for r in refused)
    assert "Đăng nhập sai quá nhiều lần" in refused[-1].content.decode()  # the lockout page


def test_another_address_is_not_affected_by_a_locked_address():
    names = accounts(6)
    spray(names[:5])  # 20 failures: the office address is locked
    assert log_in(names[5], f"right-{names[5]}", OFFICE).status_code == 429
    assert log_in(names[5], f"right-{names[5]}", ELSEWHERE).logged_in
    assert log_in(names[0], f"right-{names[0]}", ELSEWHERE).logged_in  # sprayed, still fine
    assert spray(names[1:4], address=ELSEWHERE) == [200] * 12  # counted from zero there


def test_a_successful_login_does_not_reset_the_address_counter():
    names = accounts(6)
    User.objects.create_user("attacker", password="attackers-own-password")
    assert spray(names[:4]) == [200] * 16
    assert log_in("attacker", "attackers-own-password").logged_in  # between two sprays
    assert spray(names[4:5], guesses=3) == [200] * 3  # 19 failures against other accounts
    assert log_in(names[4], "wrong-3").status_code == 429  # the 20th locks the address
    victim = log_in(names[5], f"right-{names[5]}")
    assert victim.status_code == 429 and not victim.logged_in
    # a success forgets that account's own failures from the address, and only those
    assert spray(["attacker"], guesses=4, address=ELSEWHERE) == [200] * 4
    assert log_in("attacker", "attackers-own-password", ELSEWHERE).logged_in
    assert spray(["attacker"], guesses=4, address=ELSEWHERE) == [200] * 4


def test_axes_reset_ip_unlocks_an_address():
    names = accounts(5)
    spray(names)
    assert log_in(names[0], f"right-{names[0]}").status_code == 429
    call_command("axes_reset_ip", OFFICE, stdout=io.StringIO())
    assert log_in(names[0], f"right-{names[0]}").logged_in


def test_the_per_account_limit_across_addresses_is_off_by_default_and_can_be_set(settings):
    User.objects.create_user("staff", password="the-right-password")
    addresses = [f"192.0.2.{n}" for n in range(1, 7)]
    for address in addresses[:3]:  # 4 wrong from each of 3 addresses: 12 failures
        spray(["staff"], address=address)
    assert log_in("staff", "the-right-password", addresses[3]).logged_in  # off by default

    settings.AXES_ACCOUNT_FAILURE_LIMIT = 15  # what the environment variable sets
    settings.AXES_LOCKOUT_PARAMETERS = [*settings.AXES_LOCKOUT_PARAMETERS, ["username"]]
    assert log_in("staff", "the-right-password", addresses[4]).logged_in  # 12 of 15
    assert spray(["staff"], guesses=3, address=addresses[5]) == [200, 200, 429]  # the 15th
    refused = log_in("staff", "the-right-password", addresses[3])  # from every address
    assert refused.status_code == 429 and not refused.logged_in
    assert log_in("other", "whatever", addresses[3]).status_code == 200  # others unaffected


def test_behind_a_proxy_the_readers_address_is_counted_not_the_proxys(settings):
    """nginx (PROXY_COUNT=1) connects from 127.0.0.1 and appends the reader's address to
    X-Forwarded-For; what the reader wrote there before it is not trusted."""
    settings.AXES_IPWARE_PROXY_COUNT = 1
    names = accounts(6)

    def via_proxy(name, password, forwarded_for):
        client = Client()
        response = client.post(
            "/accounts/login/",
            {"username": name, "password": password},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )
        return response.status_code, "_auth_user_id" in client.session

    statuses = [
        via_proxy(name, f"wrong-{guess}", f"10.9.8.{n}, {OFFICE}")  # a new forged entry each time
        for n, name in enumerate(names[:5])
        for guess in range(4)
    ]
    assert statuses[-1] == (429, False)  # 20 failures from the office: the office is locked
    assert via_proxy(names[5], f"right-{names[5]}", OFFICE) == (429, False)
    assert via_proxy(names[5], f"right-{names[5]}", ELSEWHERE) == (302, True)  # not the proxy

    settings.AXES_IPWARE_PROXY_COUNT = 0  # no proxy: the header is the reader's own words
    forged = [
        via_proxy(name, f"wrong-{guess}", f"10.0.{n}.{guess}")
        for n, name in enumerate(names[:5])
        for guess in range(4)
    ]
    assert forged[-1] == (429, False)  # all 20 counted against 127.0.0.1


def test_the_limits_come_from_the_environment(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DEBUG": "1",
        "AXES_ADDRESS_FAILURE_LIMIT": "50",
        "AXES_ACCOUNT_FAILURE_LIMIT": "30",
    }
    code = (
        "from cchc import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, s.AXES_ADDRESS_FAILURE_LIMIT, s.AXES_ACCOUNT_FAILURE_LIMIT, "
        "s.AXES_LOCKOUT_PARAMETERS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "5 50 30 [['username', 'ip_address'], ['ip_address'], ['username']]"
    )


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
