"""Backup and restore: one versioned archive with every row and every evidence file.

The archive is a gzipped tar holding ``manifest.json`` (format version, the migrations it was
made at, row counts, the SHA-256 of every part, every publication's checksum), ``data.xml``
(every row with its id, serialised by Django; permissions referred to by name), and ``media/`` (the
evidence files). It contains password hashes and private evidence: keep it as safe as the
database itself.

Restoring goes into an empty, migrated database: it refuses to mix two installations.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext as _

FORMAT = "cchc-backup"
FORMAT_VERSION = 1
APP_LABELS = ("scoring", "rankings")
DUMPED = ("auth.group", "auth.user", *APP_LABELS)


class BackupError(Exception):
    """A backup that cannot be made or restored; the message says why. Nothing was written."""


def _models():
    models = [apps.get_model("auth", "Group"), get_user_model()]
    for label in APP_LABELS:
        models.extend(apps.get_app_config(label).get_models())
    return models


def _counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in _models()}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _evidence_files() -> list[str]:
    from scoring.models import Evidence

    return sorted(name for name in Evidence.objects.exclude(file="").values_list("file", flat=True))


def _publication_checksums() -> list[list]:
    from .models import Publication

    return [
        list(row)
        for row in Publication.objects.order_by("year", "group_code", "version").values_list(
            "year", "group_code", "version", "checksum"
        )
    ]


def _migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder.Migration.objects.values_list("app", "name"):
        if name > latest.get(app, ""):
            latest[app] = name
    return latest


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def make_backup(path: Path) -> dict:
    """Write the archive to ``path``; returns its manifest."""
    with transaction.atomic():  # one consistent picture of the data
        buffer = io.StringIO()
        call_command(
            "dumpdata",
            *DUMPED,
            natural_foreign=True,  # permissions by name: their ids differ between servers
            natural_primary=False,  # every row keeps its id
            # XML keeps microseconds; Django's JSON encoder would round times to milliseconds.
            format="xml",
            stdout=buffer,
        )
        data = buffer.getvalue().encode()
        counts = _counts()
        files = _evidence_files()
        checksums = _publication_checksums()
        migrations = _migrations()
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(),
        "migrations": migrations,
        "counts": counts,
        "data_sha256": _sha256(data),
        "files": [],
        "publications": checksums,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with tarfile.open(partial, "w:gz") as archive:
        _add(archive, "data.xml", data)
        for name in files:
            try:
                with default_storage.open(name, "rb") as handle:
                    content = handle.read()
            except FileNotFoundError:
                raise BackupError(
                    _("The evidence file %(name)s is missing from the storage.") % {"name": name}
                ) from None
            manifest["files"].append(
                {"name": name, "size": len(content), "sha256": _sha256(content)}
            )
            _add(archive, f"media/{name}", content)
        _add(archive, "manifest.json", json.dumps(manifest, indent=2, sort_keys=True).encode())
    partial.replace(path)  # never leave a half-written archive under the final name
    return manifest


def _read(archive: tarfile.TarFile, name: str) -> bytes:
    try:
        member = archive.getmember(name)
    except KeyError:
        raise BackupError(_("The archive has no %(name)s.") % {"name": name}) from None
    handle = archive.extractfile(member)
    if handle is None:
        raise BackupError(_("%(name)s in the archive is not a file.") % {"name": name})
    return handle.read()


def _is_empty() -> bool:
    """No project data and no user: the roles' groups of the migrations may exist."""
    return all(
        model.objects.count() == 0 for model in _models() if model._meta.label != "auth.Group"
    )


def restore_backup(path: Path) -> dict:
    """Restore an archive into this empty database and storage; returns its manifest.

    Every part is checked against the manifest before anything is written, and every count and
    publication checksum after; any difference undoes the whole restore.
    """
    try:
        archive = tarfile.open(path, "r:gz")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError):
        raise BackupError(_("%(path)s is not a cchc backup archive.") % {"path": path}) from None
    with archive:
        try:
            manifest = json.loads(_read(archive, "manifest.json"))
        except ValueError:
            raise BackupError(_("The manifest of the archive cannot be read.")) from None
        if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
            raise BackupError(_("This archive is not a cchc backup of a version this code reads."))
        here = _migrations()
        newer = {
            app: name for app, name in manifest["migrations"].items() if name > here.get(app, "")
        }
        if newer:
            raise BackupError(
                _("The archive was made by a newer version (migrations %(names)s): upgrade first.")
                % {"names": ", ".join(f"{a}.{n}" for a, n in sorted(newer.items()))}
            )
        data = _read(archive, "data.xml")
        if _sha256(data) != manifest["data_sha256"]:
            raise BackupError(_("data.xml does not match its checksum: the archive is damaged."))
        files = {}
        for entry in manifest["files"]:
            content = _read(archive, f"media/{entry['name']}")
            if _sha256(content) != entry["sha256"]:
                raise BackupError(
                    _("%(name)s does not match its checksum: the archive is damaged.")
                    % {"name": entry["name"]}
                )
            files[entry["name"]] = content
    if not _is_empty():
        raise BackupError(_("The database is not empty: restore into a new, migrated database."))
    written = []
    try:
        with transaction.atomic():
            # The archive holds every group, those the migrations made included.
            apps.get_model("auth", "Group").objects.all().delete()
            fixture = Path(path).with_name(Path(path).name + ".data.xml")
            fixture.write_bytes(data)
            try:
                call_command("loaddata", str(fixture), verbosity=0)
            finally:
                fixture.unlink(missing_ok=True)
            for name, content in files.items():
                if default_storage.exists(name):
                    raise BackupError(
                        _("The storage already holds %(name)s: restore into an empty storage.")
                        % {"name": name}
                    )
                saved = default_storage.save(name, ContentFile(content))
                written.append(saved)
                if saved != name:
                    raise BackupError(_("The storage renamed %(name)s.") % {"name": name})
            _verify(manifest)
    except Exception:
        for name in written:
            default_storage.delete(name)
        raise
    return manifest


def _verify(manifest: dict) -> None:
    from .models import Publication
    from .publishing import publication_checksum

    counts = _counts()
    for label, count in manifest["counts"].items():
        if counts.get(label) != count:
            raise BackupError(
                _("%(model)s: %(found)s rows restored, %(expected)s in the archive.")
                % {"model": label, "found": counts.get(label), "expected": count}
            )
    for publication in Publication.objects.all():
        if publication_checksum(publication) != publication.checksum:
            raise BackupError(
                _("The publication %(publication)s does not match its checksum.")
                % {"publication": publication}
            )
    if _publication_checksums() != manifest["publications"]:
        raise BackupError(_("The publications differ from the archive's."))
