"""Shared fixtures: write import files, run commands as a user would, log in, check that nothing
was written; the cast of the workflow (tests/cast.py). Plain helpers are in tests/helpers.py."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation


@dataclass
class Outcome:
    status: int
    out: str
    err: str


@pytest.fixture
def write(tmp_path):
    """write("name.csv", "a,b\\n1,2\\n") → the path of a new file with that text (or bytes)."""

    def _write(name: str, content: str | bytes) -> str:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)

    return _write


@pytest.fixture
def run():
    """Run a management command (in English unless ``language`` says otherwise); return its
    exit status and what it printed."""

    def _run(*args, language="en", **options) -> Outcome:
        out, err = io.StringIO(), io.StringIO()
        try:
            with translation.override(language):
                call_command(*args, stdout=out, stderr=err, **options)
        except CommandError as error:
            err.write(str(error))
            return Outcome(error.returncode, out.getvalue(), err.getvalue())
        return Outcome(0, out.getvalue(), err.getvalue())

    return _run


@pytest.fixture
def login(client):
    """``login(user)`` → the test client signed in as ``user``, reading pages in English
    (``language="vi"`` for the Vietnamese ones)."""

    def _login(user, language: str = "en"):
        client.cookies["django_language"] = language
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def unchanged_database(db):
    """Use as ``with unchanged_database(): ...`` around an action that must write nothing."""
    from contextlib import contextmanager

    from tests.helpers import database_state

    @contextmanager
    def _check():
        before = database_state()
        yield
        assert database_state() == before

    return _check


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Hashing is not what the tests are about; the slow default would only slow them."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Uploaded evidence goes to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: cached pages must not leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# The cast of the workflow (tests/cast.py), for every test folder.
from tests.cast import assessment_a, cast  # noqa: E402, F401
