"""A token of the code that makes the public answers: what a stored copy was built with.

The copies of public answers (``rankings.caching``) are kept until no key reaches them any
more: a publication starts a new generation, and an upgrade of the application must too, or
pages built by the old templates would be served until the next publication. The token is a
digest of the files that shape an answer (the Python code and templates of the project's
packages, the compiled catalogues, the static files' manifest, whose names change with every
stylesheet or script), read once when the settings load (a few milliseconds); it prefixes
every cache key (``CACHES["default"]["KEY_PREFIX"]``) and is part of every ETag. The
application's server processes and the prebuild read the same files, so they agree.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

# What shapes an answer, relative to the project's folder.
SOURCES = ("cchc", "rankings", "scoring", "templates", "locale")
SUFFIXES = {".py", ".html", ".txt", ".svg", ".json", ".mo", ".ttf"}
# Large files that change only with their name or size (fonts): those are hashed, not read.
BY_SIZE = {".ttf"}


def release_token(base: Path, static_root: Path | None = None) -> str:
    """A digest of the files under ``SOURCES`` with a suffix of ``SUFFIXES`` (their paths and
    contents; a font's size) and of the static manifest in ``static_root``; 12 hexadecimal
    digits."""
    digest = hashlib.sha256()
    files = []
    for folder in SOURCES:
        root = base / folder
        if root.is_dir():
            files.extend(
                path
                for path in root.rglob("*")
                if path.suffix in SUFFIXES and "__pycache__" not in path.parts and path.is_file()
            )
    if static_root is not None:
        manifest = static_root / "staticfiles.json"
        if manifest.is_file():
            files.append(manifest)
    for path in sorted(files):
        name = path.relative_to(base) if path.is_relative_to(base) else path
        digest.update(str(name).encode())
        digest.update(b"\0")
        digest.update(
            str(path.stat().st_size).encode() if path.suffix in BY_SIZE else path.read_bytes()
        )
        digest.update(b"\0")
    return digest.hexdigest()[:12]
