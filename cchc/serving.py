"""gunicorn's settings for this application: ``gunicorn cchc.wsgi --config python:cchc.serving``
(``make serve`` and the documented systemd unit). The command line keeps the flags a reader of
the unit file should see (workers, bind, timeout, ``--max-requests``); this module adds what
only a hook can do.

``post_fork``: a worker, just forked from the preloaded master (``rankings/warm.py`` loaded the
templates, catalogues and fonts there), opens its database connection and warms it before it
takes its first request (``rankings.warm.warm_database``). With connections kept for good
(``CONN_MAX_AGE``, settings), the first reader of a page built on a miss, after a publication
or after a quiet night, then finds a connection ready instead of paying for a new one.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def post_fork(server, worker):  # noqa: ARG001 (gunicorn's signature)
    from rankings.warm import warm_database

    try:
        warm_database()
    except Exception:  # the worker must start: its first request connects as usual
        logger.exception("serving: the worker's database connection could not be warmed")
