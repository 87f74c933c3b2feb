"""A backup restored into an empty database loses nothing: every row, every file, every
published checksum."""

import hashlib
import io
import tarfile
from decimal import Decimal as D

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from rankings.models import Publication
from rankings.publishing import publication_checksum
from scoring import workflow
from scoring.models import Assessment, Evidence
from tests.cast import YEAR, leaf
from tests.conftest import database_state
from tests.factories import load_small_province

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% evidence\n%%EOF\n"


def wipe():
    """An empty, migrated database: what a new server has before a restore."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # TRUNCATE waits for no deferred check of the test
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, verbosity=0)


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


def test_a_backup_restored_into_an_empty_database_loses_nothing(installation, tmp_path, run):
    before = database_state(include_users=True)
    files = {e.file.name: e.sha256 for e in Evidence.objects.all()}
    checksums = list(Publication.objects.order_by("pk").values_list("checksum", flat=True))
    archive = tmp_path / "cchc.tar.gz"
    outcome = run("backup", output=str(archive))
    assert outcome.status == 0, outcome.err

    wipe()
    for name in files:
        default_storage.delete(name)
    assert Publication.objects.count() == 0

    outcome = run("restore", str(archive))
    assert outcome.status == 0, outcome.err
    after = database_state(include_users=True)
    for label in before:
        assert after[label] == before[label], (label, set(after[label]) ^ set(before[label]))
    for name, digest in files.items():
        with default_storage.open(name, "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == digest
    restored = list(Publication.objects.order_by("pk"))
    assert [p.checksum for p in restored] == checksums
    assert all(publication_checksum(p) == p.checksum for p in restored)


def test_restore_refuses_a_database_that_is_not_empty(
    installation, tmp_path, run, unchanged_database
):
    archive = tmp_path / "cchc.tar.gz"
    run("backup", output=str(archive))
    with unchanged_database():
        outcome = run("restore", str(archive))
    assert outcome.status == 1
    assert "not empty" in outcome.err


def test_a_damaged_archive_is_refused_and_nothing_is_written(installation, tmp_path, run):
    archive = tmp_path / "cchc.tar.gz"
    run("backup", output=str(archive))
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "data.xml":
                data = data.replace(b"so-a", b"so-x", 1)
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    wipe()
    outcome = run("restore", str(damaged))
    assert outcome.status == 1
    assert "damaged" in outcome.err
    assert Publication.objects.count() == 0


def test_something_that_is_not_an_archive_is_refused(tmp_path, run, db):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    outcome = run("restore", str(path))
    assert outcome.status == 1
    assert "not a cchc backup" in outcome.err
