"""Building the public answers of the current publications into the cache, right after a
publication (or a year's decision) is committed, so that its first readers are served a copy.

Each answer is requested through Django's own request handling (the test client, in-process,
no network), anonymous, in each language, exactly as a reader would ask for it: the stored copy
is the one ``caching.published_page`` serves (the same key, compressed the same way). What is
built, most read first: the home page, the list of units, the API's index; per current
publication its ranking page and API, SIPAS page and API, methodology, versions, field
rankings, the table's CSV and XLSX, the table's other pages and each band's first page, the
SIPAS table's CSV, XLSX and other pages, the comparison's page, the versions it corrects;
per year its open data, its decision documents and its home page; the site's card; then
every published unit's page and API answer; last, what depends on a unit and a year: each
unit's badge and card and the newest year's report and card, and, where the units are few
enough (``PREBUILD_UNIT_ANSWERS``), its report, card, comparison picker and page of every year.
What depends on what a reader asks (another sort, a search, a comparison of chosen units), and
a national installation's older years and pickers, are built by their first reader. A newer
publication makes a running prebuild start over; one whose process died holds back the next
for at most ``LOCK_SECONDS``.
"""

from __future__ import annotations

import logging
import multiprocessing
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.urls import reverse

from .caching import ENCODINGS, prebuilding

logger = logging.getLogger(__name__)


def _urls() -> Iterator[str]:
    from .models import Publication, PublishedCriterion, PublishedResult, PublishedSipas

    yield reverse("rankings:home")
    yield reverse("units")
    yield reverse("api:index")
    current = list(Publication.objects.latest_versions().order_by("-year", "group__order"))
    for publication in current:
        args = [publication.year, publication.group_code]
        ranking = reverse("rankings:ranking", args=args)
        yield ranking
        yield reverse("api:rankings", args=args)
        sipas = reverse("rankings:sipas", args=args)
        if publication.sipas_average is not None:
            yield sipas
            yield reverse("api:sipas", args=args)
        yield reverse("rankings:methodology", args=args)
        yield reverse("rankings:versions", args=args)
        for code in PublishedCriterion.objects.filter(
            publication=publication, parent_code=""
        ).values_list("code", flat=True):
            yield reverse("field_ranking", args=[*args, code])
        yield ranking + "?_export=csv"
        yield ranking + "?_export=xlsx"
        # The rest of the table in its published order, and each band's first page.
        yield from _pages(ranking, publication.unit_count)
        for band in publication.bands.order_by("-min_index").values_list("code", flat=True):
            yield f"{ranking}?band={band}"
        if publication.sipas_average is not None:
            yield sipas + "?_export=csv"
            yield sipas + "?_export=xlsx"
            yield from _pages(sipas, PublishedSipas.objects.filter(publication=publication).count())
        yield reverse("compare", args=args)
        for number in range(1, publication.version):  # the versions it corrects
            yield reverse("version", args=[*args, number])
    for year in sorted({p.year for p in current}, reverse=True):
        yield reverse("rankings:open_data", args=[year])
        yield reverse("official:decision_pdf", args=[year])
        yield reverse("official:decision_docx", args=[year])
        yield reverse("rankings:home") + f"?year={year}"
    yield reverse("official:site_card")
    units = (
        PublishedResult.objects.filter(publication__in=current)
        .order_by("unit_code")
        .values_list("unit_code", flat=True)
        .distinct()
    )
    count = 0
    for code in units.iterator(chunk_size=2000):
        count += 1  # the units, counted here rather than queried again
        yield reverse("rankings:unit", args=[code])
        yield reverse("api:unit", args=[code])
    if settings.PREBUILD_UNIT_ANSWERS > 0 and current:
        yield from _unit_answers(current, every_year=count <= settings.PREBUILD_UNIT_ANSWERS)


def _unit_answers(current, *, every_year: bool) -> Iterator[str]:
    """What depends on a unit and a year, built last. For every unit of the newest year's
    publications, at any scale: its badge and card, and that year's report and card (the
    card is one copy for both addresses: ``official._unit_png``). Where the units are few
    enough (``every_year``: at most ``PREBUILD_UNIT_ANSWERS``, 500 by default), for every
    unit and every year it is published (newest first) its report, that year's card, the
    comparison's picker with it chosen, and its page in that year (the newest is its page
    without a year, built above): tens of answers a unit, minutes for a province's 130 units,
    hours and gigabytes for a national 3,300, whose older years and pickers are left to their
    first readers."""
    from .models import PublishedResult

    newest_year = max(p.year for p in current)
    rows = (
        PublishedResult.objects.filter(publication__in=current)
        .order_by("unit_code", "-publication__year", "publication__group_code")
        .values_list("unit_code", "publication__year", "publication__group_code")
    )
    if not every_year:
        rows = rows.filter(publication__year=newest_year)
    previous = None
    for code, year, group in rows.iterator(chunk_size=2000):
        if code != previous:
            previous, newest = code, year
            yield reverse("official:badge", args=[code])
            yield reverse("official:unit_card", args=[code])
        yield reverse("official:report", args=[code, year])
        yield reverse("official:unit_year_card", args=[code, year])
        if every_year:
            yield reverse("compare_with", args=[year, group, code])
            if year != newest:
                yield reverse("rankings:unit", args=[code]) + f"?year={year}"


def _pages(address: str, rows: int) -> Iterator[str]:
    """Pages 2 and after of a table of ``rows`` rows, 100 a page (``views.PAGE_SIZE``)."""
    from .views import PAGE_SIZE

    for page in range(2, (rows + PAGE_SIZE - 1) // PAGE_SIZE + 1):
        yield f"{address}?page={page}"


LOCK_KEY = "cchc:prebuild:running"
AGAIN_KEY = "cchc:prebuild:again"
CHECK_EVERY = 100  # addresses between two looks at AGAIN_KEY
# The running prebuild's lock lapses this long after its last sign of life (it renews it every
# ``LOCK_SECONDS / 5`` while it builds), so that a prebuild whose process died (killed, the
# server restarted) holds back the next one for minutes, not for good.
LOCK_SECONDS = 300
WAIT_SECONDS = 5  # between two looks of a prebuild waiting for the running one (``wait``)


def prebuild(
    progress: Callable[[str], None] | None = None, processes: int = 1, *, wait: bool = False
) -> dict:
    """Request every prebuilt answer in every language; returns counts and the time taken.
    An answer that is not 200 is logged and skipped (the page shows its own error to readers).

    One prebuild at a time per cache: one asked for while another runs (publications in quick
    succession) makes the running one start over once it is done, with the newest
    publications, instead of running beside it. With ``wait`` (``manage.py prebuild``, a
    process of its own) it then waits until the running one has taken the request (it starts
    over), and runs itself if that one ends without taking it (it had just finished, or its
    process died and its lock lapsed): a publication is never left without its prebuild.
    ``processes`` > 1 shares the work among that many forked processes (a server with idle
    cores)."""
    while not cache.add(LOCK_KEY, 1, LOCK_SECONDS):
        cache.set(AGAIN_KEY, 1, 3600)
        if not wait:
            return {"built": 0, "failed": 0, "seconds": 0, "deferred": True}
        while cache.get(LOCK_KEY) and cache.get(AGAIN_KEY):
            time.sleep(WAIT_SECONDS)
        if not cache.get(AGAIN_KEY):  # the running prebuild took it and starts over
            return {"built": 0, "failed": 0, "seconds": 0, "deferred": True}
    try:
        totals = {"built": 0, "failed": 0, "seconds": 0.0, "deferred": False}
        while True:
            cache.delete(AGAIN_KEY)
            done = _build_all(progress, processes)
            for name in ("built", "failed", "seconds"):
                totals[name] += done[name]
            if not cache.get(AGAIN_KEY):
                return totals
    finally:
        cache.delete(LOCK_KEY)


def _build_all(progress, processes: int = 1) -> dict:
    started = time.perf_counter()
    urls = list(_urls())
    _warn_when_too_many(len(urls))
    if processes > 1:
        # Forked children, each its own share (round-robin keeps the most read first in each);
        # a connection must not cross a fork.
        connections.close_all()
        context = multiprocessing.get_context("fork")
        with context.Pool(processes) as pool:
            counts = pool.map(_build_apart, [urls[start::processes] for start in range(processes)])
        built, failed = (sum(column) for column in zip(*counts, strict=True))
    else:
        built, failed = _build(urls, progress)
    return {"built": built, "failed": failed, "seconds": round(time.perf_counter() - started, 2)}


def _warn_when_too_many(addresses: int) -> None:
    """Log a warning when this prebuild's copies (up to one per encoding and language of each
    address) may not fit in the cache (``CACHE_MAX_ENTRIES``): a full file cache drops the
    copies written longest ago, and once an older generation's are gone, this prebuild's
    first ones, the most read. A backend without a count (Redis) is not checked."""
    limit = getattr(cache, "_max_entries", None)
    copies = addresses * len(settings.LANGUAGES) * len(ENCODINGS)
    if limit and copies > limit:
        logger.warning(
            "prebuild: up to %s copies (%s addresses) for a cache of at most %s: "
            "raise CACHE_MAX_ENTRIES (docs/deployment.md)",
            copies,
            addresses,
            limit,
        )


def _build(urls: list[str], progress=None) -> tuple[int, int]:
    host = next((h for h in settings.ALLOWED_HOSTS if h and "*" not in h), "localhost")
    host = host.lstrip(".")
    built = failed = 0
    clients = [
        Client(
            HTTP_HOST=host,
            HTTP_ACCEPT_LANGUAGE=code,
            HTTP_ACCEPT_ENCODING="gzip",
            secure=settings.SECURE_SSL_REDIRECT,
        )
        for code, _name in settings.LANGUAGES
    ]
    renewed = time.monotonic()
    for count, url in enumerate(urls, start=1):
        if time.monotonic() - renewed > LOCK_SECONDS / 5:
            cache.touch(LOCK_KEY, LOCK_SECONDS)  # still alive: the lock must not lapse
            renewed = time.monotonic()
        if count % CHECK_EVERY == 0 and cache.get(AGAIN_KEY):
            # A newer publication is waiting: start over with it (``prebuild``) rather than
            # finish answers it has made out of date.
            logger.info("prebuild: a newer publication, starting over after %s addresses", count)
            break
        for client in clients:
            with prebuilding():  # every encoding, at its smallest
                response = client.get(url)
            if response.status_code == 200:
                built += 1
            else:
                failed += 1
                logger.warning("prebuild: %s answered %s", url, response.status_code)
        if progress and count % 500 == 0:
            progress(f"{count} / {len(urls)} addresses")
    return built, failed


def _build_apart(urls: list[str]) -> tuple[int, int]:
    """``_build`` in a forked process, which closes its own connections when done (never the
    caller's: an inline prebuild runs inside a request or a test's transaction)."""
    try:
        return _build(urls)
    finally:
        connections.close_all()


def after_commit() -> None:
    """What a committed publication or decision sets off (``settings.PREBUILD``): a separate
    ``manage.py prebuild`` process that outlives the request or command (``process``), the
    build in this process (``inline``), or nothing (``off``)."""
    mode = settings.PREBUILD
    if mode == "inline":
        prebuild()
    elif mode == "process":
        manage = Path(settings.BASE_DIR) / "manage.py"
        subprocess.Popen(  # noqa: S603 (our own command, no shell)
            [sys.executable, str(manage), "prebuild", f"--processes={settings.PREBUILD_PROCESSES}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
