"""Project-wide guards: migrations, production settings, the Vietnamese catalogue."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "vi" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_production_settings_pass_the_deploy_check_with_three_variables(tmp_path):
    """DEBUG unset and only SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL: production is the
    default, not an opt-in."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "SECRET_KEY": "a-long-random-production-secret-key-for-the-check-only-0123456789-xyz",
        "ALLOWED_HOSTS": "cchc.cantho.gov.vn",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "ALLOWED_HOSTS": "x"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def run_production(tmp_path, arguments: list[str], **variables: str):
    """``manage.py <arguments>`` in a process with production settings (DEBUG unset, a
    secret key, one host, a database of its own) and ``variables``."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "SECRET_KEY": "a-long-random-production-secret-key-for-the-check-only-0123456789-xyz",
        "ALLOWED_HOSTS": "x",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
        **variables,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SECURE_SSL_REDIRECT", "treu", "SECURE_SSL_REDIRECT='treu': use 1/true/yes/on"),
        ("DEBUG", "maybe", "DEBUG='maybe'"),
        ("PUBLIC_PAGE_SECONDS", "ten", "PUBLIC_PAGE_SECONDS='ten' is not a whole number"),
        ("AXES_FAILURE_LIMIT", "0", "AXES_FAILURE_LIMIT=0 is below 1"),
        ("CACHE_BACKEND", "redis", "CACHE_BACKEND='redis' is neither 'files' nor 'memory'"),
        ("PREBUILD", "yes", "PREBUILD='yes' is not one of process, inline, off"),
        ("CONN_MAX_AGE", "forever", "CONN_MAX_AGE='forever' is not a whole number"),
    ],
)
def test_a_mistyped_setting_stops_the_start_instead_of_meaning_off(
    tmp_path, variable, value, message
):
    result = run_production(tmp_path, ["check"], **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def po_entries(text: str) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for every entry of a .po file (plural forms joined)."""
    entries = []
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        parts: dict[str, str] = {}
        key = None
        for line in lines:
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?|msgctxt) "(.*)"$', line)
            if match:
                key = match.group(1)
                parts[key] = unescape(match.group(2))
            elif line.startswith('"') and key:
                parts[key] += unescape(line[1:-1])
        if "msgid" in parts:
            msgstr = parts.get("msgstr", parts.get("msgstr[0]", ""))
            entries.append((parts["msgid"], msgstr, fuzzy))
    return entries


def test_the_vietnamese_catalogue_is_complete_and_compiled():
    entries = po_entries(PO.read_text(encoding="utf-8"))
    assert len(entries) > 300
    untranslated = [msgid for msgid, msgstr, _ in entries if msgid and not msgstr]
    fuzzy = [msgid for msgid, _, is_fuzzy in entries if is_fuzzy]
    assert untranslated == []
    assert fuzzy == []
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    msgids = {msgid for msgid, _, _ in entries if msgid}
    compiled_ids = {
        (key[0] if isinstance(key, tuple) else key).split("\x04")[-1] for key in compiled._catalog
    }
    missing = sorted(msgids - compiled_ids)
    assert missing == [], "the .mo is older than the .po: run make messages"


@pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="needs gettext (apt-get install gettext)"
)
def test_every_string_of_the_ui_is_in_the_catalogue(tmp_path):
    """makemessages on a copy of the code finds no string the catalogue lacks."""
    for name in ("manage.py", "cchc", "scoring", "rankings", "operations", "templates", "locale"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "demo")
            )
        else:
            shutil.copy(source, tmp_path / name)
    env = {
        **os.environ,
        "DEBUG": "1",
        "PYTHONPATH": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "cchc.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "vi", "--no-obsolete"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    entries = po_entries((tmp_path / "locale/vi/LC_MESSAGES/django.po").read_text(encoding="utf-8"))
    untranslated = [msgid for msgid, msgstr, fuzzy in entries if msgid and (not msgstr or fuzzy)]
    assert untranslated == [], "new strings to translate: run make messages, then translate them"


@pytest.mark.parametrize(
    ("value", "kept"), [(None, "None"), ("none", "None"), ("0", "0"), ("300", "300")]
)
def test_a_worker_keeps_its_database_connection_unless_told_otherwise(tmp_path, value, kept):
    """Unset, a connection is kept for good (checked before each request's first query): one
    closed after an idle minute made the next reader pay a new connection and a cold server
    process (docs/benchmarks.md). ``CONN_MAX_AGE`` seconds otherwise, 0 for one per request."""
    variables = {"DATABASE_REPLICA_URL": f"sqlite:///{tmp_path / 'replica.sqlite3'}"}
    if value is not None:
        variables["CONN_MAX_AGE"] = value
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['CONN_MAX_AGE'], "
        "settings.DATABASES['replica']['CONN_MAX_AGE'], "
        "settings.DATABASES['default']['CONN_HEALTH_CHECKS'])"
    )
    result = run_production(tmp_path, ["shell", "-v", "0", "-c", code], **variables)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [kept, kept, "True"]
