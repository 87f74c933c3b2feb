"""The settings the tests run with: the project's own (cchc/settings.py), in development mode
unless the environment says otherwise, so that a bare ``pytest`` works from a fresh clone."""

import os

os.environ.setdefault("DEBUG", "1")
# Each test process its own cache (pytest-xdist runs several against different databases), and
# no prebuilding after a publication unless a test asks for it.
os.environ.setdefault("CACHE_BACKEND", "memory")
os.environ.setdefault("PREBUILD", "off")
# A prebuild a test asks for builds the per-unit answers only where the test says so.
os.environ.setdefault("PREBUILD_UNIT_ANSWERS", "0")

from cchc.settings import *  # noqa: E402, F403
