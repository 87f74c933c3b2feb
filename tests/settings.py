"""The settings the tests run with: the project's own (cchc/settings.py), in development mode
unless the environment says otherwise, so that a bare ``pytest`` works from a fresh clone."""

import os

os.environ.setdefault("DEBUG", "1")

from cchc.settings import *  # noqa: E402, F403
