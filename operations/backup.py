"""Backup and restore: one versioned archive with every row and every evidence file.

The archive (format version 2) is a gzipped tar of, in this order:

- ``manifest.json``: the format version, the migrations it was made at, the row count of every
  table, every table's columns, the size and SHA-256 of every other member, every publication's
  checksum;
- ``tables/<app>.<Model>.jsonl``: one table per member, one row per line as a JSON array in the
  order of the manifest's columns; every row keeps its id. Decimals, datetimes (ISO 8601, with
  microseconds and offset) and dates are JSON strings, so nothing passes through a float.
  Permissions are referred to as ``[app_label, model, codename]``: their ids differ between
  servers;
- ``media/<name>``: the evidence files.

The tables are ``auth.Group``, ``auth.User``, every model of ``scoring`` and ``rankings`` (their
simple-history tables included) and the many-to-many tables of these (users' groups and
permissions, groups' permissions). The archive contains password hashes and private evidence:
keep it as safe as the database itself.

Memory stays bounded whatever the size of the database: rows are read in chunks and written to
anonymous temporary files (in the system's temporary folder, ``TMPDIR``; about the size of the
uncompressed tables), and restore streams the archive's members into the database. Nothing
readable is left on disk if either is killed: the temporary files and, on Linux, the archive
being written have no name until it is complete (``O_TMPFILE``).

Restoring goes into an empty, migrated database and an empty storage: it refuses to mix two
installations. The storage may hold only evidence files of the archive itself, with the same
bytes: what a restore of it that was killed had saved (kept, so that it can simply be run
again). Format version 1 (``data.xml``, Django's XML serialisation) is still read.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import io
import json
import os
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext as _

from operations.bulk import insert_rows
from scoring.errors import Refused

FORMAT = "cchc-backup"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
APP_LABELS = ("scoring", "rankings")
DUMPED = ("auth.group", "auth.user", *APP_LABELS)  # what format version 1 holds too
MANIFEST = "manifest.json"
CHUNK = 2000  # rows fetched per round trip while backing up
PAGE = 5000  # rows per INSERT (executemany) or COPY while restoring
BLOCK = 1 << 18  # bytes read or written at once: memory is a few times this and PAGE rows
# gzip's default level; 9 took three times as long for a 6 % smaller archive (docs/benchmarks.md).
COMPRESSION = 6


class BackupError(Refused):
    """A backup that cannot be made or restored; the message says why. Nothing was written."""


def _connection():
    return connections[DEFAULT_DB_ALIAS]


def _models() -> list[type[models.Model]]:
    models_ = [apps.get_model("auth", "Group"), get_user_model()]
    for label in APP_LABELS:
        models_.extend(apps.get_app_config(label).get_models())
    return models_


def _tables() -> list[type[models.Model]]:
    """Every table of the archive, in the order it is written: the models, then the
    many-to-many tables Django makes for them (a user's groups and permissions, a group's
    permissions)."""
    main = _models()
    through = [
        field.remote_field.through
        for model in main
        for field in model._meta.local_many_to_many
        if field.remote_field.through._meta.auto_created
    ]
    return main + through


def _permission_model():
    return apps.get_model("auth", "Permission")


def _permission_keys() -> dict[int, tuple[str, str, str]]:
    """Every permission's id → its natural key (app label, model, codename), which an archive
    writes instead of the id (ids differ from one database to another)."""
    return {
        pk: (app_label, model, codename)
        for pk, app_label, model, codename in _permission_model()
        .objects.using(DEFAULT_DB_ALIAS)
        .values_list("pk", "content_type__app_label", "content_type__model", "codename")
    }


def _natural_columns(model) -> list[str]:
    """The columns that refer to a permission: written as its natural key, never its id."""
    permission = _permission_model()
    return [
        field.column
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model is permission
    ]


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.using(DEFAULT_DB_ALIAS).count()
        for model in _tables()
    }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _evidence_files() -> list[str]:
    from scoring.models import Evidence

    return sorted(
        Evidence.objects.using(DEFAULT_DB_ALIAS).exclude(file="").values_list("file", flat=True)
    )


def _publication_checksums() -> list[list]:
    from rankings.models import Publication

    return [
        list(row)
        for row in Publication.objects.using(DEFAULT_DB_ALIAS)
        .order_by("year", "group_code", "version")
        .values_list("year", "group_code", "version", "checksum")
    ]


def _migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder.Migration.objects.values_list("app", "name"):
        if name > latest.get(app, ""):
            latest[app] = name
    return latest


def _safe_name(name) -> bool:
    """A relative path that stays inside its folder: no leading ``/``, no ``..`` or ``.``, no
    empty part, no backslash or NUL."""
    if not isinstance(name, str) or not name or "\x00" in name or "\\" in name:
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def _refuse_name(name) -> BackupError:
    return BackupError(
        _("The file name %(name)s in the archive is absolute or leaves its folder.")
        % {"name": name}
    )


# ----------------------------------------------------------------------------------- backup


def _plain(value):
    """JSON for the values the JSON encoder does not know: exact text, never a float."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written to a backup")


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_plain).encode


@contextmanager
def _snapshot():
    """One consistent picture of every table while they are read one after the other."""
    connection = _connection()
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=DEFAULT_DB_ALIAS):
        if outermost and connection.vendor == "postgresql":
            # READ COMMITTED would let each table see a different moment.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _dump_table(model, permission_keys: dict, part: IO[bytes]) -> dict:
    """Write every row of the model's table to ``part`` (JSON lines); returns its manifest entry.

    Rows are read ``CHUNK`` at a time (a server-side cursor on PostgreSQL), so memory does not
    grow with the table."""
    fields = model._meta.concrete_fields
    natural = _natural_columns(model)
    positions = [i for i, field in enumerate(fields) if field.column in natural]
    digest = hashlib.sha256()
    rows = size = 0
    batch: list[str] = []

    def flush():
        nonlocal size
        data = ("\n".join(batch) + "\n").encode()
        digest.update(data)
        part.write(data)
        size += len(data)
        batch.clear()

    query = (
        model._base_manager.using(DEFAULT_DB_ALIAS)
        .order_by("pk")
        .values_list(*(field.attname for field in fields))
    )
    for row in query.iterator(chunk_size=CHUNK):
        if positions:
            row = list(row)
            for i in positions:
                row[i] = permission_keys[row[i]]
        batch.append(_encode(row))
        rows += 1
        if len(batch) >= CHUNK:
            flush()
    if batch:
        flush()
    entry = {
        "model": model._meta.label,
        "columns": [field.column for field in fields],
        "rows": rows,
        "size": size,
        "sha256": digest.hexdigest(),
    }
    if natural:
        entry["natural"] = natural
    return entry


def _hash_stream(handle) -> tuple[int, str]:
    """The size and SHA-256 of what is left to read in ``handle``."""
    reader = _Hashing(handle)
    digest = reader.drain()
    return reader.size, digest


class _Hashing:
    """A read-only file that computes the SHA-256 and the size of what is read through it."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        block = self.handle.read(size)
        self.digest.update(block)
        self.size += len(block)
        return block

    def tell(self) -> int:
        return self.size

    def drain(self) -> str:
        """Read what is left (a reader may stop before the end); the SHA-256 of all."""
        while self.read(BLOCK):
            pass
        return self.digest.hexdigest()

    def seek(self, offset: int, whence: int = 0) -> int:
        # Storages rewind before reading; only "rewinding" at the start is possible.
        if (offset, whence) in ((0, 0), (0, 1)) and self.size == 0:
            return 0
        raise io.UnsupportedOperation("seek")

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        pass


class _Output:
    """The archive being written: nameless until complete, then linked into place.

    On Linux the file is opened with ``O_TMPFILE`` in the target folder: it has no name, so a
    killed process leaves nothing; ``commit`` links it to ``path``. Where ``O_TMPFILE`` is not
    available, a hidden ``.partial`` file (mode 0600) stands in and is removed on any error.
    A kill would leave it: its writer holds a lock on it (``flock``, released by the system
    when the process dies), and the next backup to the same name deletes every such file no
    process holds (``_sweep``). Either way the archive is written with mode 0600."""

    def __init__(self, path: Path):
        self.path = path
        self.folder = path.parent
        self.folder.mkdir(parents=True, exist_ok=True)
        self.partial: Path | None = None
        self.fd = self._nameless()
        if self.fd is None:
            self._sweep()
            fd, name = tempfile.mkstemp(dir=self.folder, prefix=f".{path.name}.", suffix=".partial")
            self.fd, self.partial = fd, Path(name)
            _hold(fd, wait=True)  # a new file: nobody else holds it
        os.fchmod(self.fd, 0o600)
        self.file = os.fdopen(self.fd, "wb", buffering=BLOCK)

    def _sweep(self) -> None:
        """Delete the ``.partial`` files of this archive's name that killed backups left: those
        whose writer's lock is gone (a running backup to the same name keeps its own)."""
        for stale in self.folder.glob(f".{glob.escape(self.path.name)}.*.partial"):
            try:
                fd = os.open(stale, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:  # removed meanwhile
                continue
            try:
                if _hold(fd, wait=False):
                    stale.unlink(missing_ok=True)
            finally:
                os.close(fd)

    def _nameless(self) -> int | None:
        flag = getattr(os, "O_TMPFILE", None)
        if flag is None:
            return None
        try:
            fd = os.open(self.folder, flag | os.O_WRONLY | os.O_CLOEXEC, 0o600)
        except OSError as error:
            # Not supported by this file system or kernel: fall back to a named file.
            if error.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
                return None
            raise
        if not os.path.exists(f"/proc/self/fd/{fd}"):  # linking needs /proc
            os.close(fd)
            return None
        return fd

    def commit(self) -> None:
        """Give the complete archive its name, replacing an older archive of the same name."""
        self.file.flush()
        os.fsync(self.fd)
        folder = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if self.partial is not None:
                os.replace(self.partial, self.path)
                self.partial = None
            else:
                self._link(folder)
            os.fsync(folder)  # the new name survives a power cut too
        finally:
            os.close(folder)

    def _link(self, folder: int) -> None:
        # With a dir_fd, os.link calls linkat(AT_SYMLINK_FOLLOW): it links the file /proc points
        # to, not the /proc link itself.
        source, name = f"/proc/self/fd/{self.fd}", self.path.name
        try:
            os.link(source, name, dst_dir_fd=folder, follow_symlinks=True)
        except FileExistsError:
            # A link cannot replace a file: link under a unique name, then rename over it.
            temporary = f".{name}.{os.getpid()}.{id(self)}.new"
            os.link(source, temporary, dst_dir_fd=folder, follow_symlinks=True)
            os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)

    def close(self) -> None:
        """Close the file; an archive not committed disappears."""
        try:
            self.file.close()
        finally:
            if self.partial is not None:
                self.partial.unlink(missing_ok=True)


def _hold(fd: int, *, wait: bool) -> bool:
    """Lock the open file ``fd`` for this process (``flock``; the system releases it when the
    file is closed or the process dies); False when another process holds it and ``wait`` is
    off. Where ``flock`` does not exist, nothing is locked and nothing is swept (True for a
    new file, False for one found)."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        return wait
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _tar_info(name: str, size: int, moment: datetime) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(moment.timestamp())
    return info


def make_backup(path: Path) -> dict:
    """Write the archive to ``path`` (mode 0600); returns its manifest.

    The archive appears under ``path`` only once complete; an archive already there is
    replaced. Raises ``BackupError`` (and leaves nothing behind) if an evidence file is missing
    or changes while it is copied, or if the archive cannot be written."""
    path = Path(path)
    created = datetime.now(UTC)
    with ExitStack() as stack:
        try:
            output = _Output(path)
            stack.callback(output.close)
            with _snapshot():
                keys = _permission_keys()
                tables, parts = [], []
                for model in _tables():
                    # Anonymous: the file has no name, so nothing remains if the process dies.
                    part = stack.enter_context(tempfile.TemporaryFile())
                    tables.append(_dump_table(model, keys, part))
                    parts.append(part)
                files = _evidence_files()
                checksums = _publication_checksums()
                migrations = _migrations()
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": created.isoformat(),
                "migrations": migrations,
                "counts": {entry["model"]: entry["rows"] for entry in tables},
                "tables": tables,
                "files": [_file_entry(name) for name in files],
                "publications": checksums,
            }
            _write_archive(output.file, manifest, parts, created)
            output.commit()
        except OSError as error:
            raise BackupError(
                _("The archive %(path)s cannot be written: %(error)s")
                % {"path": path, "error": error}
            ) from None
    return manifest


def _file_entry(name: str) -> dict:
    try:
        with default_storage.open(name, "rb") as handle:
            size, digest = _hash_stream(handle)
    except FileNotFoundError:
        raise BackupError(
            _("The evidence file %(name)s is missing from the storage.") % {"name": name}
        ) from None
    return {"name": name, "size": size, "sha256": digest}


def _write_archive(target, manifest: dict, parts: list, moment: datetime) -> None:
    """The manifest first (restore reads it before anything else), then the tables, then the
    evidence files, each copied in blocks."""
    with tarfile.open(
        fileobj=target, mode="w:gz", compresslevel=COMPRESSION, format=tarfile.PAX_FORMAT
    ) as archive:
        text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
        archive.addfile(_tar_info(MANIFEST, len(text), moment), io.BytesIO(text))
        for entry, part in zip(manifest["tables"], parts, strict=True):
            part.seek(0)
            archive.addfile(_tar_info(_table_member(entry["model"]), entry["size"], moment), part)
            part.close()  # gives its disk space back at once
        for entry in manifest["files"]:
            name = entry["name"]
            try:
                with default_storage.open(name, "rb") as handle:
                    reader = _Hashing(handle)
                    try:
                        archive.addfile(_tar_info(f"media/{name}", entry["size"], moment), reader)
                    except OSError:
                        # tarfile's "unexpected end of data": the file became shorter.
                        if reader.size >= entry["size"] or reader.read(1) != b"":
                            raise
                    changed = (
                        reader.size != entry["size"]
                        or reader.read(1) != b""
                        or reader.digest.hexdigest() != entry["sha256"]
                    )
            except FileNotFoundError:
                changed = True
            if changed:
                raise BackupError(
                    _("The evidence file %(name)s changed while it was copied: back up again.")
                    % {"name": name}
                )


def _table_member(label: str) -> str:
    return f"tables/{label}.jsonl"


# ---------------------------------------------------------------------------------- restore


@contextmanager
def _reading(path: Path) -> Iterator[Iterator[tuple[tarfile.TarInfo, IO[bytes]]]]:
    """The archive's members in order, each with its data (read it before the next one): the
    archive is read as a stream, never unpacked."""
    try:
        archive = tarfile.open(path, "r|gz")  # noqa: SIM115 - closed below
    except (OSError, tarfile.TarError, EOFError, zlib.error):
        raise BackupError(_("%(path)s is not a cchc backup archive.") % {"path": path}) from None

    def members():
        while True:
            try:
                member = archive.next()
            except (OSError, tarfile.TarError, EOFError, zlib.error):
                raise BackupError(
                    _("%(path)s is damaged or incomplete.") % {"path": path}
                ) from None
            if member is None:
                return
            if not _safe_name(member.name):
                raise _refuse_name(member.name)
            if not member.isfile():
                raise BackupError(
                    _("%(name)s in the archive is not a file.") % {"name": member.name}
                )
            yield member, archive.extractfile(member)

    with archive:
        try:
            yield members()
        except (EOFError, zlib.error, tarfile.TarError):  # reading a member's data
            raise BackupError(_("%(path)s is damaged or incomplete.") % {"path": path}) from None


def _damaged(name: str) -> BackupError:
    return BackupError(
        _("%(name)s does not match its checksum: the archive is damaged.") % {"name": name}
    )


def _manifest(data: bytes) -> dict:
    """The manifest, its shape checked: every later step may rely on its keys and types."""
    unreadable = BackupError(_("The manifest of the archive cannot be read."))
    try:
        manifest = json.loads(data)
    except ValueError:
        raise unreadable from None
    if not isinstance(manifest, dict):
        raise unreadable
    if manifest.get("format") != FORMAT or manifest.get("format_version") not in READABLE_VERSIONS:
        raise BackupError(_("This archive is not a cchc backup of a version this code reads."))

    def strings(value):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)

    def counts(value):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    def entries(key, shape):
        value = manifest.get(key)
        return isinstance(value, list) and all(
            isinstance(e, dict) and all(check(e.get(k)) for k, check in shape.items())
            for e in value
        )

    def text(value):
        return isinstance(value, str)

    migrations = manifest.get("migrations")
    ok = (
        isinstance(migrations, dict)
        and all(text(k) and text(v) for k, v in migrations.items())
        and isinstance(manifest.get("counts"), dict)
        and all(text(k) and counts(v) for k, v in manifest["counts"].items())
        and text(manifest.get("created_at"))
        and isinstance(manifest.get("publications"), list)
        and entries("files", {"name": lambda v: v is not None, "sha256": text})
    )
    if manifest["format_version"] == 1:
        ok = ok and text(manifest.get("data_sha256"))
    else:
        ok = ok and entries(
            "tables",
            {
                "model": text,
                "columns": strings,
                "rows": counts,
                "size": counts,
                "sha256": text,
                "natural": lambda v: v is None or strings(v),
            },
        )
    if not ok:
        raise unreadable
    return manifest


def _check_manifest(manifest: dict) -> None:
    """Refuse what this code or this database cannot take, before the archive is read further."""
    here = _migrations()
    newer = {app: name for app, name in manifest["migrations"].items() if name > here.get(app, "")}
    if newer:
        raise BackupError(
            _("The archive was made by a newer version (migrations %(names)s): upgrade first.")
            % {"names": ", ".join(f"{a}.{n}" for a, n in sorted(newer.items()))}
        )
    for entry in manifest["files"]:
        if not _safe_name(entry["name"]):
            raise _refuse_name(entry["name"])
    if manifest["format_version"] >= 2:
        known = {model._meta.label: model for model in _tables()}
        for entry in manifest["tables"]:
            model = known.get(entry["model"])
            if model is None or not _columns_fit(model, entry):
                raise BackupError(
                    _("The table %(model)s in the archive does not fit this version.")
                    % {"model": entry["model"]}
                )
    if not _is_empty():
        raise BackupError(_("The database is not empty: restore into a new, migrated database."))


def _columns_fit(model, entry: dict) -> bool:
    """Every column of the archive exists here (columns added since are given their default);
    permissions are referred to by natural key exactly where this version expects it."""
    columns = [field.column for field in model._meta.concrete_fields]
    return (
        set(entry["columns"]) <= set(columns)
        and len(set(entry["columns"])) == len(entry["columns"])
        and set(entry.get("natural") or []) == set(_natural_columns(model)) & set(entry["columns"])
    )


def _is_empty() -> bool:
    """No project data and no user: the roles' groups of the migrations may exist."""
    return all(
        not model._base_manager.using(DEFAULT_DB_ALIAS).exists()
        for model in _models()
        if model._meta.label != "auth.Group"
    )


def _inspect(path: Path) -> dict:
    """First pass over the archive: read and check the manifest (the first member of format 2),
    then check every part against it. Nothing is written; memory holds only checksums."""
    manifest = None
    seen: dict[str, tuple[int, str]] = {}
    with _reading(path) as members:
        for member, handle in members:
            if member.name in seen:
                raise _damaged(member.name)
            if member.name == MANIFEST:
                data = handle.read()
                manifest = _manifest(data)
                _check_manifest(manifest)
                seen[member.name] = (len(data), _sha256(data))
            else:
                seen[member.name] = _hash_stream(handle)
    if manifest is None:
        raise BackupError(_("The archive has no %(name)s.") % {"name": MANIFEST})
    expected = [(f"media/{e['name']}", e.get("size"), e["sha256"]) for e in manifest["files"]]
    if manifest["format_version"] == 1:
        if "data.xml" not in seen:
            raise BackupError(_("The archive has no %(name)s.") % {"name": "data.xml"})
        if seen["data.xml"][1] != manifest["data_sha256"]:
            raise BackupError(_("data.xml does not match its checksum: the archive is damaged."))
    else:
        expected[:0] = [
            (_table_member(e["model"]), e["size"], e["sha256"]) for e in manifest["tables"]
        ]
    names = [name for name, _size, _digest in expected]
    if len(set(names)) != len(names):
        raise BackupError(_("The manifest of the archive cannot be read."))
    for name, size, digest in expected:
        if name not in seen:  # the manifest promised it: the archive was cut short
            raise BackupError(_("%(path)s is damaged or incomplete.") % {"path": path})
        if seen[name][1] != digest or (size is not None and seen[name][0] != size):
            raise _damaged(name.removeprefix("media/"))
    return manifest


def restore_backup(path: Path) -> dict:
    """Restore an archive into this empty database and storage; returns its manifest.

    The archive is read twice, as a stream: first every part is checked against the manifest
    (nothing is written if one differs), then the tables are loaded in bulk (COPY on
    PostgreSQL, executemany elsewhere) and the evidence files saved, in one transaction. Every
    count and publication checksum is checked afterwards; any difference, error or
    interruption undoes the whole restore, and the evidence files written are deleted. After a
    kill the database rolls back but the files already saved stay in the storage: restoring the
    same archive again keeps them (``_saved_before``)."""
    path = Path(path)
    manifest = _inspect(path)
    kept = _saved_before(manifest)
    written: list[str] = []
    try:
        with transaction.atomic(using=DEFAULT_DB_ALIAS):
            # The archive holds every group, those the migrations made included.
            apps.get_model("auth", "Group")._base_manager.using(DEFAULT_DB_ALIAS).delete()
            try:
                _load(path, manifest, written, kept)
                connection = _connection()
                with connection.cursor() as cursor:
                    for sql in connection.ops.sequence_reset_sql(no_style(), _tables()):
                        cursor.execute(sql)
                connection.check_constraints()  # deferred foreign keys, now, with a message
            except DatabaseError as error:
                raise BackupError(
                    _("The data of the archive cannot be loaded: %(error)s") % {"error": error}
                ) from None
            _verify(manifest)
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise
    # The public answers kept in a shared cache (files or Redis outlive the processes) were
    # built from what the database held before: none of them may be served again.
    from rankings.caching import new_generation

    new_generation()
    return manifest


def _saved_before(manifest: dict) -> set[str]:
    """The archive's evidence files that the storage already holds with the same bytes (the
    SHA-256, and the size where the manifest gives it): those a restore of this archive saved
    before it was killed (the database rolled back and is empty again: ``_inspect``). They are
    kept as they are, never written again nor deleted. A file of the same name with other
    bytes is refused: a restore never overwrites anything."""
    same = set()
    for entry in manifest["files"]:
        name = entry["name"]
        if not default_storage.exists(name):
            continue
        with default_storage.open(name, "rb") as handle:
            size, digest = _hash_stream(handle)
        if digest != entry["sha256"] or entry.get("size", size) != size:
            raise BackupError(
                _("The storage already holds %(name)s: restore into an empty storage.")
                % {"name": name}
            )
        same.add(name)
    return same


def _load(path: Path, manifest: dict, written: list[str], kept: set[str] = frozenset()) -> None:
    """Second pass: load every table and save every file (but those ``kept``: the storage holds
    them with these bytes), each checked again as it is read."""
    tables = {_table_member(e["model"]): e for e in manifest.get("tables", [])}
    files = {f"media/{e['name']}": e for e in manifest["files"]}
    loaded = set()
    with _reading(path) as members:
        for member, handle in members:
            reader = _Hashing(handle)
            if member.name in tables:
                entry = tables[member.name]
                _load_table(apps.get_model(entry["model"]), entry, reader)
            elif member.name == "data.xml" and manifest["format_version"] == 1:
                entry = {"sha256": manifest["data_sha256"]}
                _load_xml(reader)
            elif member.name in files:
                entry = files[member.name]
                if entry["name"] not in kept:
                    _save_file(entry, reader, written)
            else:
                continue
            if reader.drain() != entry["sha256"]:  # changed since the first pass
                raise _damaged(member.name)
            loaded.add(member.name)
    missing = (set(tables) | set(files)) - loaded
    if missing:
        raise BackupError(_("The archive has no %(name)s.") % {"name": sorted(missing)[0]})


def _row_blocks(handle, width: int, member: str) -> Iterator[list[list]]:
    """The rows of a table part, a block of lines at a time, each block parsed by one call
    (JSON escapes every newline inside a value, so a newline byte always ends a row)."""
    rest = b""
    while True:
        block = handle.read(BLOCK)
        data = rest + block
        if block:
            cut = data.rfind(b"\n") + 1
            data, rest = data[:cut], data[cut:]
        if data:
            try:
                rows = json.loads(b"[" + data.rstrip(b"\n").replace(b"\n", b",") + b"]")
            except ValueError:
                raise _damaged(member) from None
            if any(type(row) is not list or len(row) != width for row in rows):
                raise _damaged(member)
            yield rows
        if not block:
            return


def _sqlite_datetime(value: str) -> str:
    """A datetime as Django stores it in SQLite: naive UTC text."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(" ")


def _load_table(model, entry: dict, handle) -> None:
    """Insert every row of one part, about ``PAGE`` rows at a time."""
    connection = _connection()
    columns = list(entry["columns"])
    fields = {field.column: field for field in model._meta.concrete_fields}
    convert = []
    if entry.get("natural"):
        permissions = {key: pk for pk, key in _permission_keys().items()}

        def permission(key):
            try:
                return permissions[tuple(key)]
            except (KeyError, TypeError):
                raise BackupError(
                    _("The permission %(permission)s of the archive does not exist here.")
                    % {"permission": ".".join(map(str, key))}
                ) from None

        convert += [(columns.index(column), permission) for column in entry["natural"]]
    # A JSON column (a result's compared_with) goes to the database as JSON text.
    convert += [
        (i, json.dumps)
        for i, column in enumerate(columns)
        if isinstance(fields[column], models.JSONField)
    ]
    if connection.vendor == "sqlite":
        # PostgreSQL reads ISO 8601 as it is; SQLite keeps what it is given.
        convert += [
            (i, _sqlite_datetime)
            for i, column in enumerate(columns)
            if isinstance(fields[column], models.DateTimeField)
        ]
    # Columns added by a later migration than the archive's: their default, as loaddata would.
    width = len(columns)
    added = [field for column, field in fields.items() if column not in columns]
    defaults = [
        json.dumps(field.get_default())
        if isinstance(field, models.JSONField)
        else field.get_db_prep_save(field.get_default(), connection)
        for field in added
    ]
    columns += [field.column for field in added]
    member = _table_member(entry["model"])
    page: list[list] = []
    rows = 0
    for block in _row_blocks(handle, width, member):
        if convert or defaults:
            for row in block:
                for i, function in convert:
                    if row[i] is not None:
                        row[i] = function(row[i])
                row.extend(defaults)
        page.extend(block)
        if len(page) >= PAGE:
            insert_rows(model, columns, page)
            rows += len(page)
            page = []
    insert_rows(model, columns, page)
    rows += len(page)
    if rows != entry["rows"]:
        raise _damaged(member)


def _load_xml(handle) -> None:
    """Format version 1: Django's XML serialisation, deserialised as a stream (what loaddata
    does, without writing the data to a file)."""
    deferred = []
    for obj in serializers.deserialize(
        "xml", handle, using=DEFAULT_DB_ALIAS, handle_forward_references=True
    ):
        obj.save(using=DEFAULT_DB_ALIAS)
        if obj.deferred_fields:
            deferred.append(obj)
    for obj in deferred:
        obj.save_deferred_fields(using=DEFAULT_DB_ALIAS)


def _save_file(entry: dict, handle, written: list[str]) -> None:
    """Save one evidence file under its own name, streamed."""
    name = entry["name"]
    if default_storage.exists(name):
        raise BackupError(
            _("The storage already holds %(name)s: restore into an empty storage.") % {"name": name}
        )
    content = File(handle, name=name)
    content.size = entry.get("size")
    try:
        saved = default_storage.save(name, content)
    except SuspiciousFileOperation:
        raise _refuse_name(name) from None
    written.append(saved)
    if saved != name:
        raise BackupError(_("The storage renamed %(name)s.") % {"name": name})


def _verify(manifest: dict) -> None:
    from rankings.models import Publication
    from rankings.publishing import publication_checksum

    counts = _counts()
    for label, count in manifest["counts"].items():
        if counts.get(label) != count:
            raise BackupError(
                _("%(model)s: %(found)s rows restored, %(expected)s in the archive.")
                % {"model": label, "found": counts.get(label), "expected": count}
            )
    for publication in Publication.objects.using(DEFAULT_DB_ALIAS).all():
        if publication_checksum(publication) != publication.checksum:
            raise BackupError(
                _("The publication %(publication)s does not match its checksum.")
                % {"publication": publication}
            )
    if _publication_checksums() != manifest["publications"]:
        raise BackupError(_("The publications differ from the archive's."))
