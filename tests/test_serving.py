"""How the application is served: ``make serve`` and the documented systemd unit run the same
gunicorn, with the flags the public site relies on."""

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _flags(command: str) -> dict[str, str | None]:
    words = shlex.split(command)
    flags, name = {}, None
    for word in words[words.index("cchc.wsgi") + 1 :]:
        if word.startswith("--"):
            name = word
            flags[name] = None
        elif name is not None:
            flags[name] = word
            name = None
    return flags


def test_make_serve_and_the_documented_unit_run_gunicorn_alike():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    served = re.search(r"^\t\$\(BIN\)/gunicorn (.*)$", makefile, re.MULTILINE).group(0)
    documented = re.search(
        r"ExecStart=\S+/gunicorn (.*)$",
        (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8"),
        re.MULTILINE,
    ).group(0)
    ours, theirs = (
        _flags(served.split("gunicorn", 1)[1]),
        _flags(documented.split("gunicorn", 1)[1]),
    )
    for flags in (ours, theirs):
        # Loaded once and forked (rankings/warm.py); workers replaced now and then; and a
        # download built on a miss (a national decision PDF: 24-35 s on a slow machine) is
        # not killed at gunicorn's default 30 s, answering 500 to every reader.
        assert "--preload" in flags
        # Each worker opens and warms its database connection before its first reader.
        assert flags["--config"] == "python:cchc.serving"
        assert flags["--max-requests"] == "2000"
        assert int(flags["--timeout"]) >= 120
    assert set(ours) == set(theirs)
    assert {k: v for k, v in ours.items() if k not in ("--workers", "--bind")} == {
        k: v for k, v in theirs.items() if k not in ("--workers", "--bind")
    }


def test_the_serving_module_is_a_gunicorn_config_with_a_post_fork_hook():
    from gunicorn.config import Config

    from cchc import serving

    config = Config()
    for name in dir(serving):
        if name in config.settings:
            config.set(name, getattr(serving, name))
    assert config.post_fork is serving.post_fork  # gunicorn accepts it as its hook
