"""A backup restored into an empty database loses nothing: every row, every file, every
published checksum. Backing up and restoring need memory that does not grow with the data, and
leave nothing readable behind, even when killed; a damaged or hostile archive is refused with a
message."""

import hashlib
import io
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import tarfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import translation

from operations import backup
from operations.backup import BackupError, make_backup, restore_backup
from rankings.models import Publication
from rankings.publishing import publication_checksum
from scoring import workflow
from scoring.models import Assessment, Evidence, Score, Transition, Unit, UnitGroup
from tests.cast import YEAR, leaf
from tests.factories import load_small_province
from tests.helpers import database_state

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% evidence\n%%EOF\n"
# Every character a CSV, COPY or JSON line could trip over (PostgreSQL text holds no NUL).
AWKWARD = "Ké \"quoted\", comma; \\N \\ back\\slash\ttab\nnew line\r\n\u2028 sep 😀 'single'"


def wipe():
    """An empty, migrated database: what a new server has before a restore."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # TRUNCATE waits for no deferred check of the test
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, verbosity=0)


def wipe_all():
    """The database and the storage emptied."""
    names = [e.file.name for e in Evidence.objects.exclude(file="")]
    wipe()
    for name in names:
        default_storage.delete(name)


def memberships():
    """The many-to-many rows, by name: permission ids differ between servers."""
    return (
        sorted(User.groups.through.objects.values_list("user__username", "group__name")),
        sorted(
            User.user_permissions.through.objects.values_list(
                "user__username", "permission__content_type__app_label", "permission__codename"
            )
        ),
        sorted(
            Group.permissions.through.objects.values_list(
                "group__name", "permission__content_type__app_label", "permission__codename"
            )
        ),
    )


def exact_rows():
    """Every row with its values as the database gives them (Decimal('3.50') is not '3.5')."""
    return {
        label: sorted(
            tuple(repr(v) for v in row)
            for row in apps.get_model(label)
            .objects.order_by("pk")
            .values_list(*(f.attname for f in apps.get_model(label)._meta.concrete_fields))
        )
        for label in ("auth.User", "scoring.Score", "scoring.Transition", "scoring.Evidence")
    }


@pytest.fixture
def installation(run, write, cast):
    """Two published years, a 2024 round with self scores and an evidence file, history."""
    load_small_province(run, write, year=2022)
    load_small_province(run, write, year=2023)
    assessment = Assessment.objects.get(unit__code="so-a", criteria_set__round__year=YEAR)
    workflow.assessment_save_self(
        assessment_id=assessment.pk,
        user=cast["staff_a"],
        leaves=[workflow.SelfInput(leaf("1.1.1").pk, D("3.5"), "Kế hoạch")],
    )
    workflow.evidence_add(
        assessment_id=assessment.pk,
        criterion_id=leaf("1.1.1").pk,
        user=cast["staff_a"],
        upload=SimpleUploadedFile("ke-hoach.pdf", PDF),
    )
    # A permission given to a user directly, besides those of the roles' groups.
    cast["head_a"].user_permissions.add(
        Permission.objects.get(content_type__app_label="scoring", codename="appraise")
    )
    return cast


def rewrite(source: Path, target: Path, change) -> None:
    """Copy an archive member by member; ``change(name, data)`` returns the new (name, data)."""
    with tarfile.open(source) as reading, tarfile.open(target, "w:gz") as writing:
        for member in reading.getmembers():
            name, data = change(member.name, reading.extractfile(member).read())
            member.name, member.size = name, len(data)
            writing.addfile(member, io.BytesIO(data))


def miscount(name: str, data: bytes) -> tuple[str, bytes]:
    """For ``rewrite``: a manifest that counts one unit more than the archive holds."""
    if name == "manifest.json":
        manifest = json.loads(data)
        manifest["counts"]["scoring.Unit"] += 1
        data = json.dumps(manifest).encode()
    return name, data


def test_a_backup_restored_into_an_empty_database_loses_nothing(installation, tmp_path, run):
    before = database_state(include_users=True)
    links = memberships()
    assert all(links), links
    files = {e.file.name: e.sha256 for e in Evidence.objects.all()}
    checksums = list(Publication.objects.order_by("pk").values_list("checksum", flat=True))
    archive = tmp_path / "cchc.tar.gz"
    outcome = run("backup", output=str(archive))
    assert outcome.status == 0, outcome.err
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive, "r|gz") as stream:
        assert next(iter(stream)).name == "manifest.json"  # read first by restore

    wipe_all()
    assert Publication.objects.count() == 0
    # Another server numbers its permissions differently: the archive names them.
    moved = Permission.objects.get(content_type__app_label="scoring", codename="appraise")
    moved.delete()
    moved.pk = None
    moved.save()

    from django.core.cache import cache

    from rankings.caching import GENERATION_KEY

    cache.set(GENERATION_KEY, "before-the-restore", None)
    outcome = run("restore", str(archive))
    assert outcome.status == 0, outcome.err
    # Copies of public answers built before the restore are never served after it.
    assert cache.get(GENERATION_KEY) != "before-the-restore"
    after = database_state(include_users=True)
    for label in before:
        assert after[label] == before[label], (label, set(after[label]) ^ set(before[label]))
    assert memberships() == links
    assert User.objects.get(username="head-a").has_perm("scoring.appraise")
    for name, digest in files.items():
        with default_storage.open(name, "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == digest
    restored = list(Publication.objects.order_by("pk"))
    assert [p.checksum for p in restored] == checksums
    assert all(publication_checksum(p) == p.checksum for p in restored)
    # The ids go on after the restored ones (PostgreSQL's sequences were reset).
    group = UnitGroup.objects.get(code="departments")
    assert Unit.objects.create(code="so-moi", name="Sở Mới", group=group).pk > max(
        int(row[0]) for row in before["scoring.Unit"]
    )
    Group.objects.create(name="new group")
    User.objects.create(username="new-user")


def test_every_value_comes_back_exactly(installation, tmp_path):
    """Decimals with their trailing zeros, datetimes to the microsecond, booleans, NULLs, dates
    and text with quotes, commas, backslashes, tabs, newlines and emoji."""
    moment = datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)
    User.objects.filter(username="staff-a").update(
        first_name=AWKWARD[:150], last_login=moment, email=""
    )
    score = Score.objects.filter(self_score__isnull=False).first()
    Score.objects.filter(pk=score.pk).update(
        self_score=D("3.50"),
        note=AWKWARD,
        self_method="\\N",
        appraisal_1=None,
        not_applicable=True,
    )
    Transition.objects.update(note=AWKWARD, at=moment)
    Evidence.objects.update(document_date=date(2024, 1, 2), description=AWKWARD[:500])
    before = exact_rows()
    assert "Decimal('3.50')" in str(before["scoring.Score"])
    assert "999999" in str(before["scoring.Transition"])
    archive = tmp_path / "cchc.tar.gz"
    make_backup(archive)
    wipe_all()
    restore_backup(archive)
    assert exact_rows() == before


@pytest.mark.parametrize("part", ["table", "evidence"])
def test_a_damaged_archive_is_refused_and_nothing_is_written(installation, tmp_path, run, part):
    archive = tmp_path / "cchc.tar.gz"
    run("backup", output=str(archive))
    damaged = tmp_path / "damaged.tar.gz"

    def damage(name, data):
        if part == "table" and name == "tables/scoring.Unit.jsonl":
            data = data.replace(b"so-a", b"so-x", 1)
        if part == "evidence" and name.startswith("media/"):
            data = data.replace(b"evidence", b"EVIDENCE")
        return name, data

    rewrite(archive, damaged, damage)
    wipe_all()
    outcome = run("restore", str(damaged))
    assert outcome.status == 1
    assert "damaged" in outcome.err
    assert Publication.objects.count() == 0
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.mark.parametrize("kept", [0.1, 0.5, 0.9])
def test_a_truncated_archive_is_refused(installation, tmp_path, run, kept):
    archive = tmp_path / "cchc.tar.gz"
    run("backup", output=str(archive))
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: int(archive.stat().st_size * kept)])
    wipe_all()
    outcome = run("restore", str(truncated))
    assert outcome.status == 1
    assert "damaged or incomplete" in outcome.err
    assert Unit.objects.count() == 0


def test_a_failure_after_loading_undoes_everything(installation, tmp_path, run):
    """The rows are loaded and the files saved, then a count differs: the database rolls back
    and the files written are deleted."""
    archive = tmp_path / "cchc.tar.gz"
    run("backup", output=str(archive))
    wrong = tmp_path / "wrong.tar.gz"

    rewrite(archive, wrong, miscount)
    wipe_all()
    outcome = run("restore", str(wrong))
    assert outcome.status == 1
    assert "rows restored" in outcome.err
    assert Unit.objects.count() == 0
    assert User.objects.count() == 0
    media = Path(settings.MEDIA_ROOT)
    assert not [p for p in media.rglob("*") if p.is_file()]


ESCAPES = ["../../outside.pdf", "/tmp/outside.pdf", "evidence/../../outside.pdf"]


@pytest.mark.parametrize("escape", ESCAPES)
@pytest.mark.parametrize("where", ["manifest and member", "member only"])
def test_a_file_name_leaving_the_media_folder_is_refused_with_a_message(
    installation, tmp_path, run, escape, where
):
    archive = tmp_path / "cchc.tar.gz"
    run("backup", output=str(archive))
    hostile = tmp_path / "hostile.tar.gz"
    evidence = Evidence.objects.exclude(file="").get().file.name

    def escape_media(name, data):
        if name == "manifest.json" and where == "manifest and member":
            data = data.replace(evidence.encode(), escape.encode())
        if name == f"media/{evidence}":
            name = f"media/{escape}" if where == "manifest and member" else escape
        return name, data

    rewrite(archive, hostile, escape_media)
    wipe_all()
    outcome = run("restore", str(hostile))  # a traceback would fail here
    assert outcome.status == 1
    assert "absolute or leaves its folder" in outcome.err
    assert Unit.objects.count() == 0
    assert not (tmp_path / "outside.pdf").exists()
    assert not Path("/tmp/outside.pdf").exists()


def test_restore_refuses_a_database_that_is_not_empty(
    installation, tmp_path, run, unchanged_database
):
    archive = tmp_path / "cchc.tar.gz"
    run("backup", output=str(archive))
    with unchanged_database():
        outcome = run("restore", str(archive))
    assert outcome.status == 1
    assert "not empty" in outcome.err


def test_restore_refuses_a_storage_that_holds_a_file_of_its_name_with_other_bytes(
    installation, tmp_path, run
):
    archive = tmp_path / "cchc.tar.gz"
    run("backup", output=str(archive))
    name = Evidence.objects.exclude(file="").get().file.name
    wipe()  # the evidence file stays; another installation's file of that name:
    Path(default_storage.path(name)).write_bytes(b"%PDF-1.4\n% another file\n%%EOF\n")
    outcome = run("restore", str(archive), language="vi")
    assert outcome.status == 1
    assert f"Kho lưu trữ đã có {name}" in outcome.err
    assert Unit.objects.count() == 0
    with default_storage.open(name, "rb") as handle:  # never overwritten
        assert handle.read() == b"%PDF-1.4\n% another file\n%%EOF\n"


def test_a_restore_killed_after_saving_files_can_simply_be_run_again(installation, tmp_path, run):
    """A killed restore leaves an empty database (its transaction rolled back) and the evidence
    files it had saved: the same restore again keeps those files, byte for byte, and restores
    everything else."""
    before = database_state(include_users=True)
    archive = tmp_path / "cchc.tar.gz"
    run("backup", output=str(archive))
    name = Evidence.objects.exclude(file="").get().file.name
    saved = Path(default_storage.path(name))
    inode = saved.stat().st_ino
    wipe()  # what the kill leaves: no row, the file saved
    outcome = run("restore", str(archive))
    assert outcome.status == 0, outcome.err
    assert database_state(include_users=True) == before
    assert saved.stat().st_ino == inode  # kept, not written again
    assert saved.read_bytes() == PDF
    assert not [p for p in saved.parent.iterdir() if p != saved]  # no second copy


def test_a_failed_restore_leaves_a_file_it_kept_as_it_was(installation, tmp_path, run):
    """Restoring again after a kill, a count differs: the rows roll back, the files saved by
    this run are deleted, and the one the storage held before stays as it was."""
    archive = tmp_path / "cchc.tar.gz"
    run("backup", output=str(archive))
    wrong = tmp_path / "wrong.tar.gz"

    rewrite(archive, wrong, miscount)
    name = Evidence.objects.exclude(file="").get().file.name
    wipe()
    outcome = run("restore", str(wrong))
    assert outcome.status == 1
    assert "rows restored" in outcome.err
    assert Unit.objects.count() == 0
    assert Path(default_storage.path(name)).read_bytes() == PDF


def test_an_archive_of_a_newer_version_is_refused(installation, tmp_path, run):
    archive = tmp_path / "cchc.tar.gz"
    run("backup", output=str(archive))
    newer = tmp_path / "newer.tar.gz"

    def from_the_future(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["migrations"]["scoring"] = "9999_future"
            data = json.dumps(manifest).encode()
        return name, data

    rewrite(archive, newer, from_the_future)
    wipe_all()
    outcome = run("restore", str(newer))
    assert outcome.status == 1
    assert "newer version" in outcome.err


def drop_column(archive: Path, target: Path, label: str, column: str, rename=None) -> None:
    """The archive as an older version would have made it: one column fewer in one table (or,
    with ``rename``, a column this version does not know)."""
    with tarfile.open(archive) as reading:
        members = {m.name: reading.extractfile(m).read() for m in reading.getmembers()}
    manifest = json.loads(members["manifest.json"])
    entry = next(e for e in manifest["tables"] if e["model"] == label)
    at = entry["columns"].index(column)
    part = f"tables/{label}.jsonl"
    if rename:
        entry["columns"][at] = rename
    else:
        del entry["columns"][at]
        rows = [json.loads(line) for line in members[part].splitlines()]
        members[part] = b"".join(
            json.dumps(row[:at] + row[at + 1 :], ensure_ascii=False).encode() + b"\n"
            for row in rows
        )
    entry["size"], entry["sha256"] = len(members[part]), hashlib.sha256(members[part]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(target, "w:gz") as writing:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            writing.addfile(info, io.BytesIO(data))


def test_a_column_added_since_the_archive_gets_its_default(installation, tmp_path, run):
    Unit.objects.update(short_name="SN")
    archive = tmp_path / "cchc.tar.gz"
    run("backup", output=str(archive))
    older = tmp_path / "older.tar.gz"
    drop_column(archive, older, "scoring.Unit", "short_name")
    wipe_all()
    outcome = run("restore", str(older))
    assert outcome.status == 0, outcome.err
    assert set(Unit.objects.values_list("short_name", flat=True)) == {""}


def test_a_column_this_version_does_not_know_is_refused(installation, tmp_path, run):
    archive = tmp_path / "cchc.tar.gz"
    run("backup", output=str(archive))
    other = tmp_path / "other.tar.gz"
    drop_column(archive, other, "scoring.Unit", "short_name", rename="nickname")
    wipe_all()
    outcome = run("restore", str(other))
    assert outcome.status == 1
    assert "scoring.Unit in the archive does not fit this version" in outcome.err
    assert Unit.objects.count() == 0


def test_something_that_is_not_an_archive_is_refused(tmp_path, run, db):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    outcome = run("restore", str(path))
    assert outcome.status == 1
    assert "not a cchc backup" in outcome.err


def write_version_1(path: Path) -> None:
    """An archive as format version 1 wrote it: data.xml by dumpdata, the manifest last."""
    buffer = io.StringIO()
    call_command(
        "dumpdata",
        *backup.DUMPED,
        natural_foreign=True,
        natural_primary=False,
        format="xml",
        stdout=buffer,
    )
    data = buffer.getvalue().encode()
    migrations = {}
    for app, name in MigrationRecorder.Migration.objects.values_list("app", "name"):
        migrations[app] = max(name, migrations.get(app, ""))
    files = []
    with tarfile.open(path, "w:gz") as archive:

        def add(name, content):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))

        add("data.xml", data)
        for evidence in Evidence.objects.exclude(file=""):
            content = evidence.file.read()
            files.append(
                {
                    "name": evidence.file.name,
                    "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                }
            )
            add(f"media/{evidence.file.name}", content)
        manifest = {
            "format": "cchc-backup",
            "format_version": 1,
            "created_at": datetime.now(UTC).isoformat(),
            "migrations": migrations,
            "counts": {m._meta.label: m.objects.count() for m in backup._models()},
            "data_sha256": hashlib.sha256(data).hexdigest(),
            "files": files,
            "publications": [
                list(row)
                for row in Publication.objects.order_by(
                    "year", "group_code", "version"
                ).values_list("year", "group_code", "version", "checksum")
            ],
        }
        add("manifest.json", json.dumps(manifest).encode())


def test_an_archive_of_format_version_1_is_still_restored(installation, tmp_path, run):
    before = database_state(include_users=True)
    links = memberships()
    archive = tmp_path / "v1.tar.gz"
    write_version_1(archive)
    wipe_all()
    outcome = run("restore", str(archive))
    assert outcome.status == 0, outcome.err
    assert database_state(include_users=True) == before
    assert memberships() == links
    assert not list(tmp_path.glob("*.xml"))  # no plain-text copy of the data beside it


def test_a_version_1_archive_with_an_escaping_name_is_refused(installation, tmp_path, run):
    archive = tmp_path / "v1.tar.gz"
    write_version_1(archive)
    hostile = tmp_path / "hostile.tar.gz"
    evidence = Evidence.objects.exclude(file="").get().file.name

    def escape_media(name, data):
        if name == "manifest.json":
            data = data.replace(evidence.encode(), b"../../outside.pdf")
        if name.startswith("media/"):
            name = "media/../../outside.pdf"
        return name, data

    rewrite(archive, hostile, escape_media)
    wipe_all()
    outcome = run("restore", str(hostile))
    assert outcome.status == 1
    assert "absolute or leaves its folder" in outcome.err


@pytest.mark.parametrize("nameless", [True, False], ids=["O_TMPFILE", "partial file"])
def test_a_failed_backup_leaves_nothing_and_a_good_one_is_private(
    installation, tmp_path, monkeypatch, nameless
):
    if not nameless:  # as on a file system without O_TMPFILE
        monkeypatch.setattr(backup._Output, "_nameless", lambda self: None)
    folder = tmp_path / "backups"
    make_backup(folder / "good.tar.gz")
    assert [p.name for p in folder.iterdir()] == ["good.tar.gz"]
    assert stat.S_IMODE((folder / "good.tar.gz").stat().st_mode) == 0o600

    default_storage.delete(Evidence.objects.exclude(file="").get().file.name)
    with translation.override("en"), pytest.raises(BackupError, match="missing from the storage"):
        make_backup(folder / "bad.tar.gz")
    assert [p.name for p in folder.iterdir()] == ["good.tar.gz"]


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_without_o_tmpfile_the_next_backup_removes_what_a_killed_one_left(
    installation, tmp_path, monkeypatch
):
    """Where the archive cannot be nameless, a killed backup leaves its hidden ``.partial``
    file; the next backup to that name removes it, but not the file of a backup still
    writing (it holds a lock on it) nor another archive's."""
    import fcntl

    monkeypatch.setattr(backup._Output, "_nameless", lambda self: None)
    folder = tmp_path / "backups"
    folder.mkdir()
    killed = folder / ".cchc.tar.gz.k1ll3d.partial"  # its writer died: no lock
    killed.write_bytes(b"half an archive")
    writing = folder / ".cchc.tar.gz.wr1t1ng.partial"
    writing.write_bytes(b"an archive being written")
    other = folder / ".other.tar.gz.0th3r.partial"
    other.write_bytes(b"another archive's")
    with writing.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as its writer does
        make_backup(folder / "cchc.tar.gz")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["cchc.tar.gz", writing.name, other.name]
    )
    with tarfile.open(folder / "cchc.tar.gz") as archive:
        assert archive.getnames()[0] == "manifest.json"


def open_files(pid: int) -> list[tuple[str, int]]:
    """What a process has open: each file's path (``... (deleted)`` if it has no name) and
    size."""
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            found.append((target, os.stat(f"/proc/{pid}/fd/{fd}").st_size))
        except OSError:  # closed meanwhile
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("moment", ["tables", "archive"])
def test_a_killed_backup_leaves_nothing_behind(installation, tmp_path, moment):
    """``manage.py backup`` killed while its tables are in temporary files, or while it writes
    the archive: neither the archive nor a temporary file remains."""
    # A large evidence file keeps the process busy long enough to be caught in the act: it is
    # read once while the tables wait in their files, then copied into the archive.
    name = Evidence.objects.exclude(file="").get().file.name
    Path(settings.MEDIA_ROOT, name).write_bytes(os.urandom(64 << 20))
    if connection.vendor == "sqlite":
        # The test database lives in memory: the other process reads a copy of it.
        copy = tmp_path / "copy.sqlite3"
        with sqlite3.connect(copy) as target:
            connection.ensure_connection()
            connection.connection.backup(target)
        url = f"sqlite:///{copy}"
    else:
        db = connection.settings_dict
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    output, temporary = tmp_path / "backups", tmp_path / "tmp"
    output.mkdir()
    temporary.mkdir()
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "TMPDIR": str(temporary),
    }
    log = tmp_path / "backup.log"
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "backup", "--output", str(output / "cchc.tar.gz")],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=err,
            stderr=err,
        )
        caught = []
        while process.poll() is None:
            files = open_files(process.pid)
            archive = [f for f in files if f[0].startswith(str(output))]
            parts = [f for f in files if f[0].startswith(str(temporary)) and f[1] > 0]
            if archive and (parts if moment == "tables" else archive[0][1] > 0):
                process.send_signal(signal.SIGKILL)
                caught = archive + parts
                break
            time.sleep(0.001)
        process.wait()
    assert process.returncode == -signal.SIGKILL, log.read_text()
    # What it had open had no name: the archive and the tables' files.
    assert caught and all(path.endswith("(deleted)") for path, _size in caught), caught
    assert list(output.iterdir()) == []
    assert list(temporary.iterdir()) == []


def peak_memory(action) -> int:
    """The peak of Python's allocations while ``action`` runs, in bytes."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_rows(db, tmp_path, monkeypatch):
    """Backing up and restoring ten times the rows takes about the same memory: rows are
    streamed, never all held at once (the old backup held the whole dump, several times)."""
    monkeypatch.setattr(backup, "CHUNK", 500, raising=False)
    monkeypatch.setattr(backup, "PAGE", 500, raising=False)
    monkeypatch.setattr(
        backup, "BLOCK", 1 << 16, raising=False
    )  # smaller than the small archive's table
    group = UnitGroup.objects.create(code="communes", name="UBND cấp xã")

    def add_units(start, stop):
        Unit.objects.bulk_create(
            Unit(code=f"xa-{i}", name=f"xã {i} " + "tên dài " * 12, group=group)
            for i in range(start, stop)
        )

    def measure(name):
        archive = tmp_path / name
        made = peak_memory(lambda: make_backup(archive))
        wipe()
        restored = peak_memory(lambda: restore_backup(archive))
        return made, restored

    add_units(0, 2_000)
    measure("warm-up.tar.gz")  # imports and caches are not what is measured
    small = measure("small.tar.gz")
    add_units(2_000, 20_000)
    large = measure("large.tar.gz")
    assert Unit.objects.count() == 20_000
    assert large[0] < 2 * small[0], (small, large)
    assert large[1] < 2 * small[1], (small, large)
