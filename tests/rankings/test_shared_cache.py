"""Public answers prebuilt and shared (issue 14): a copy per publication and documented
parameters only, kept in a cache every worker reads and that survives restarts, compressed when
large, built right after a publication is committed."""

import gzip
import pickle
import re
import threading
import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from cchc.cache import SharedFileCache
from rankings import caching, prebuild
from tests.factories import load_small_province

pytestmark = pytest.mark.django_db

RANKING = "/rankings/2023/departments/"
API = "/api/v1/rankings/2023/departments/"


@pytest.fixture
def published(run, write):
    cache.clear()
    load_small_province(run, write)


def entries() -> int:
    return len(cache._cache)  # the tests' per-process memory cache


@pytest.mark.parametrize("url", [RANKING, API, "/", "/units/so-a/", "/sipas/2023/departments/"])
def test_an_unknown_query_parameter_gets_the_same_copy_with_zero_queries(
    client, published, django_assert_num_queries, url
):
    first = client.get(url)
    assert first.status_code == 200
    stored = entries()
    for query in ("?utm_source=zalo", "?x=1&y=%ff&fbclid=abc", "?sort=&page=", "?" + "z" * 500):
        with django_assert_num_queries(0):
            again = client.get(url + query)
        assert again.status_code == 200
        assert again.content == first.content and again["ETag"] == first["ETag"]
    assert entries() == stored  # no new copy either


def test_large_answers_are_sent_gzipped_to_readers_who_accept_it(client, published):
    plain = client.get(API)
    zipped = client.get(API, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content
    assert "Accept-Encoding" in zipped["Vary"] and "Accept-Encoding" in plain["Vary"]
    assert not plain.has_header("Content-Encoding")
    assert zipped["ETag"] != plain["ETag"]  # two representations, two validators
    again = client.get(API, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=zipped["ETag"])
    assert again.status_code == 304
    # A small answer is not worth it: sent as it is.
    small = client.get("/api/v1/", HTTP_ACCEPT_ENCODING="gzip")
    assert not small.has_header("Content-Encoding")


@pytest.mark.parametrize("url", [API, RANKING])
def test_readers_who_accept_brotli_get_it_smaller_than_gzip(client, published, url):
    """Browsers ask for Brotli over HTTPS: the same bytes, smaller, with their own validator;
    ``q=0`` refuses an encoding."""
    import brotli

    plain = client.get(url)
    zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    br = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br, zstd")
    assert br["Content-Encoding"] == "br"
    assert brotli.decompress(br.content) == plain.content
    assert len(br.content) < len(zipped.content) < len(plain.content)
    assert len({plain["ETag"], zipped["ETag"], br["ETag"]}) == 3
    assert "Accept-Encoding" in br["Vary"]
    again = client.get(url, HTTP_ACCEPT_ENCODING="br", HTTP_IF_NONE_MATCH=br["ETag"])
    assert again.status_code == 304 and again["ETag"] == br["ETag"]
    refused = client.get(url, HTTP_ACCEPT_ENCODING="br;q=0, gzip")
    assert refused["Content-Encoding"] == "gzip"
    assert not client.get(url, HTTP_ACCEPT_ENCODING="identity").has_header("Content-Encoding")


def _stored_bodies(url: str) -> dict[str, bytes]:
    """The quick copies of ``url`` (Vietnamese, as the tests' client asks), by encoding."""
    from django.test import RequestFactory
    from django.utils import translation

    with translation.override("vi"):
        key = caching.quick_key(RequestFactory().get(url))
    found = {name: cache.get(f"{key}:{name}") for name in (*caching.ENCODINGS, "")}
    return {name: value[2] for name, value in found.items() if value is not None}


def test_a_reader_waiting_for_a_build_gets_one_fast_encoding_the_prebuild_all_smallest(
    client, published, django_assert_num_queries
):
    """A page built on a miss is compressed in the reader's encoding only, at the fast
    setting; another encoding is made for its own first reader from the answer's stored copy
    (its validators read again, the page not built again). The prebuild stores every encoding
    at its smallest."""
    import brotli

    client.cookies["django_language"] = "vi"
    plain = client.get(RANKING).content
    cache.clear()
    br = client.get(RANKING, HTTP_ACCEPT_ENCODING="gzip, br")
    assert br["Content-Encoding"] == "br" and brotli.decompress(br.content) == plain
    assert _stored_bodies(RANKING) == {"br": brotli.compress(plain, quality=5)}
    with django_assert_num_queries(2):  # the publication and the newest one (the ETag)
        zipped = client.get(RANKING, HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip" and gzip.decompress(zipped.content) == plain
    assert set(_stored_bodies(RANKING)) == {"br", "gzip"}
    with django_assert_num_queries(0):
        assert client.get(RANKING, HTTP_ACCEPT_ENCODING="gzip").content == zipped.content

    cache.clear()
    with caching.prebuilding():
        client.get(RANKING, HTTP_ACCEPT_ENCODING="gzip")
    stored = _stored_bodies(RANKING)
    assert stored["br"] == brotli.compress(plain, quality=9)
    assert stored["gzip"] == gzip.compress(plain, compresslevel=9, mtime=0)
    assert "" not in stored
    client.get(RANKING)  # outside the prebuild again: readers are back to their own encoding
    assert not caching._PREBUILDING.get()


def test_the_api_is_one_copy_for_every_language(client, published):
    client.cookies["django_language"] = "vi"
    client.get(API)
    stored = entries()
    client.cookies["django_language"] = "en"
    english = client.get(API)
    assert english.status_code == 200 and entries() == stored


def test_a_lost_generation_never_brings_back_an_older_copy(client, published):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(RANKING)
    old_key = caching.quick_key(_request())
    cache.delete(caching.GENERATION_KEY)  # evicted, or a flushed Redis
    assert caching.quick_key(_request()) != old_key  # a new token, never a counter from 0
    with CaptureQueriesContext(connection) as queries:
        assert client.get(RANKING).status_code == 200
    assert len(queries) > 0  # checked against the publications again, not a blind copy


def test_a_shared_cache_keeps_copies_until_the_next_publication(
    client, published, tmp_path, monkeypatch, django_assert_num_queries
):
    kept = []
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "cchc.cache.SharedFileCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        },
        PUBLIC_PAGE_SECONDS=10,
    ):
        assert caching.shared_cache()
        original = SharedFileCache.set

        def spy(self, key, value, timeout=None, *args, **kwargs):
            if ":quick" in key:
                kept.append(timeout)
            return original(self, key, value, timeout, *args, **kwargs)

        monkeypatch.setattr(SharedFileCache, "set", spy)
        first = client.get(RANKING)
        # Not PUBLIC_PAGE_SECONDS: every worker sees the next publication's new generation.
        # One entry per encoding, so a reader reads only what it is sent; a reader who
        # accepts none leaves the gzip copy.
        assert kept == [caching.CACHE_SECONDS]
        client.get(RANKING, HTTP_ACCEPT_ENCODING="br")
        assert kept == [caching.CACHE_SECONDS] * len(caching.ENCODINGS)
        # Another worker, or the same one restarted, reads the copy from the files.
        other = SharedFileCache(str(tmp_path / "cache"), {})
        assert any(
            isinstance(value, tuple) and first.content == _inflated(value[2])
            for value in (other.get(key) for key in _keys(other))
        )
        with django_assert_num_queries(0):
            assert client.get(RANKING).content == first.content


def _inflated(body: bytes) -> bytes:
    """A stored body as built: inflated from gzip or Brotli, or as it is."""
    import brotli

    for inflate in (gzip.decompress, brotli.decompress):
        try:
            return inflate(body)
        except Exception:  # not that encoding
            continue
    return body


def _request():
    from django.test import RequestFactory

    return RequestFactory().get(RANKING)


def _keys(file_cache):
    """The keys of a file cache cannot be listed; the quick key of the page is rebuilt."""
    from django.utils import translation

    with translation.override("vi"):
        key = caching.quick_key(_request())
    return [f"{key}:{encoding}" for encoding in (*caching.ENCODINGS, "")]


def assert_served_a_copy(client, url, django_assert_num_queries):
    """``url`` is answered in both languages from the cache, without a query."""
    for language in ("vi", "en"):
        client.cookies["django_language"] = language
        with django_assert_num_queries(0):
            assert client.get(url).status_code == 200, url


def test_a_publication_prebuilds_its_answers_for_its_first_readers(
    client, run, write, django_assert_num_queries, django_capture_on_commit_callbacks, settings
):
    settings.PREBUILD = "inline"
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        load_small_province(run, write)
        run("publish", year=2023, group="departments", reason="Đính chính")
    for url in (
        RANKING,
        API,
        "/",
        "/units/so-a/",
        "/methodology/2023/departments/",
        # Besides the main pages: each band, the downloads, the comparison, the version an
        # erratum corrects, the year's home page and the site's card.
        RANKING + "?band=tot",
        RANKING + "?_export=csv",
        "/sipas/2023/departments/?_export=xlsx",
        "/compare/2023/departments/",
        "/versions/2023/departments/1/",
        "/?year=2023",
        "/card.png",
    ):
        assert_served_a_copy(client, url, django_assert_num_queries)


def test_the_prebuild_lists_every_page_of_a_long_table(published, monkeypatch):
    """A table longer than a page: its other pages are built too (here 2 of 1 unit each)."""
    from rankings import views

    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    urls = list(prebuild._urls())
    assert RANKING + "?page=2" in urls and RANKING + "?page=3" in urls
    assert RANKING + "?page=4" not in urls
    assert len(urls) == len(set(urls))  # nothing built twice


def test_one_prebuild_at_a_time_the_second_asks_the_first_to_start_over(published):
    cache.add(prebuild.LOCK_KEY, 1)
    assert prebuild.prebuild()["deferred"]
    assert cache.get(prebuild.AGAIN_KEY)
    cache.delete(prebuild.LOCK_KEY)
    done = prebuild.prebuild()
    assert not done["deferred"] and done["built"] > 0 and done["failed"] == 0
    assert cache.get(prebuild.LOCK_KEY) is None


def test_a_waiting_prebuild_leaves_the_request_to_the_running_one_that_takes_it(
    published, monkeypatch
):
    """``manage.py prebuild`` (``wait``) while another runs: it asks that one to start over
    and, once that one has taken the request, ends without building anything itself."""
    from django.test import Client

    asked = []
    monkeypatch.setattr(Client, "get", lambda self, url, *a, **k: asked.append(url))
    monkeypatch.setattr(prebuild, "WAIT_SECONDS", 0.01)
    cache.add(prebuild.LOCK_KEY, 1)  # the running one, alive
    taken = threading.Timer(0.2, cache.delete, [prebuild.AGAIN_KEY])  # it starts over
    taken.start()
    try:
        done = prebuild.prebuild(wait=True)
    finally:
        taken.cancel()
    assert done["deferred"] and asked == []
    assert cache.get(prebuild.LOCK_KEY)  # still the running one's


def test_a_prebuild_whose_process_died_holds_back_the_next_only_until_its_lock_lapses(
    client, run, published, monkeypatch, django_assert_num_queries
):
    """The running prebuild was killed: its lock lapses (``LOCK_SECONDS`` after its last
    renewal) and ``manage.py prebuild``, which waited for it, builds the answers itself."""
    monkeypatch.setattr(prebuild, "WAIT_SECONDS", 0.01)
    cache.add(prebuild.LOCK_KEY, 1, 0.3)  # a dead process's lock: nobody renews it
    outcome = run("prebuild")
    assert outcome.status == 0 and "public answers built" in outcome.out, outcome.out
    assert "(0 failed)" in outcome.out
    assert cache.get(prebuild.LOCK_KEY) is None and cache.get(prebuild.AGAIN_KEY) is None
    assert_served_a_copy(client, RANKING, django_assert_num_queries)


def test_a_long_prebuild_keeps_its_lock_for_as_long_as_it_runs(published, monkeypatch):
    """A prebuild that runs longer than its lock's life renews it: no second prebuild can
    start beside it (a national installation's full prebuild runs over an hour)."""
    from django.test import Client

    held = []
    original = Client.get

    def slow(self, url, *args, **kwargs):
        time.sleep(0.03)
        held.append(bool(cache.get(prebuild.LOCK_KEY)))
        return original(self, url, *args, **kwargs)

    monkeypatch.setattr(Client, "get", slow)
    monkeypatch.setattr(prebuild, "LOCK_SECONDS", 0.5)
    monkeypatch.setattr(prebuild, "_urls", lambda: iter(["/"] * 20))
    started = time.monotonic()
    done = prebuild.prebuild()
    assert time.monotonic() - started > 1.0  # twice the lock's life
    assert done["built"] == 40 and all(held), held
    assert cache.get(prebuild.LOCK_KEY) is None  # released at the end


def test_a_prebuild_larger_than_the_cache_says_so_in_the_log(published, tmp_path, caplog):
    """A full cache drops the copies written longest ago, the prebuild's most read first once
    older generations are gone: the operator is told to raise CACHE_MAX_ENTRIES."""
    addresses = len(list(prebuild._urls()))
    copies = addresses * 2 * 2  # at most: two languages, two encodings

    def warnings_with(limit: int) -> list[str]:
        files = {
            "BACKEND": "cchc.cache.SharedFileCache",
            "LOCATION": str(tmp_path / str(limit)),
            "OPTIONS": {"MAX_ENTRIES": limit},
        }
        caplog.clear()
        with override_settings(CACHES={"default": files}), caplog.at_level("WARNING"):
            prebuild.prebuild()
        return [r.getMessage() for r in caplog.records if "CACHE_MAX_ENTRIES" in r.getMessage()]

    assert warnings_with(copies) == []
    (warning,) = warnings_with(copies - 1)
    assert f"up to {copies} copies ({addresses} addresses)" in warning


def test_the_api_index_links_are_the_sites_own_whatever_the_host_asked(
    client, published, django_assert_num_queries, settings
):
    """The index's links are absolute from ``SITE_URL``, never from the request: the one copy
    serves every reader, with zero queries, and no Host header can put its name in it."""
    settings.SITE_URL = "https://chiso.example.gov.vn"
    settings.ALLOWED_HOSTS = ["a.example", "b.example"]
    first = client.get("/api/v1/", HTTP_HOST="a.example")
    assert first.status_code == 200
    link = first.json()["years"][0]["groups"][0]["rankings"]
    assert link == "https://chiso.example.gov.vn/api/v1/rankings/2023/departments/"
    stored = entries()
    with django_assert_num_queries(0):
        other = client.get("/api/v1/?utm_source=x", HTTP_HOST="b.example")
    assert other.content == first.content and entries() == stored
    # A host outside ALLOWED_HOSTS is refused before anything is built or copied.
    assert client.get("/api/v1/", HTTP_HOST="evil.example").status_code == 400
    assert entries() == stored


def test_the_file_cache_keeps_values_as_pickled_and_still_reads_djangos_own(tmp_path):
    """Copies are compressed already: the file cache stores them as they are (a reader does
    not pay a zlib decompression), and a file Django's own file cache wrote is still read."""
    import pickle
    import zlib

    from django.core.cache.backends.filebased import FileBasedCache

    ours = SharedFileCache(str(tmp_path), {})
    payload = gzip.compress(bytes(range(256)) * 400, mtime=0)  # already compressed
    ours.set("copy", ("etag", {"gzip": payload}), 60)
    assert ours.get("copy") == ("etag", {"gzip": payload})
    with open(ours._key_to_file("copy"), "rb") as f:
        assert payload in f.read()  # kept verbatim, not deflated again
    assert ours.touch("copy", 120) and ours.get("copy") == ("etag", {"gzip": payload})
    djangos = FileBasedCache(str(tmp_path), {})
    djangos.set("old", {"written": "by Django"}, 60)
    with open(djangos._key_to_file("old"), "rb") as f:
        pickle.load(f)  # the expiry
        zlib.decompress(f.read())  # Django's own format: zlib
    assert ours.get("old") == {"written": "by Django"}
    assert ours.get("missing", "default") == "default"


def test_a_province_prebuilds_every_answer_of_a_unit_and_year(
    client, run, write, django_assert_num_queries, django_capture_on_commit_callbacks, settings
):
    """Up to ``PREBUILD_UNIT_ANSWERS`` units, what depends on a unit and a year is prebuilt
    too: its first reader after a publication is served a copy."""
    settings.PREBUILD = "inline"
    settings.PREBUILD_UNIT_ANSWERS = 500  # the default (the tests' settings turn it off)
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        load_small_province(run, write, year=2022)
        load_small_province(run, write)
    for url in (
        "/units/so-a/badge.svg",
        "/units/so-a/card.png",
        "/units/so-a/2023/card.png",
        "/units/so-a/2022/card.png",
        "/units/so-a/2023/report/",
        "/units/so-a/2022/report/",
        "/compare/2023/departments/with/so-a/",
        "/compare/2022/departments/with/so-b/",
        "/units/so-a/?year=2022",
    ):
        assert_served_a_copy(client, url, django_assert_num_queries)


def test_above_the_limit_only_the_newest_years_answers_of_a_unit_are_prebuilt(run, write, settings):
    """A national installation (more units than ``PREBUILD_UNIT_ANSWERS``) prebuilds, for
    each unit of the newest year, its badge and card and that year's report and card; its
    older years and its comparison picker are left to their first readers. 0: none at all."""
    cache.clear()
    load_small_province(run, write, year=2022)
    load_small_province(run, write)
    settings.PREBUILD_UNIT_ANSWERS = 500
    urls = list(prebuild._urls())
    assert "/units/so-a/2023/report/" in urls and "/units/so-a/badge.svg" in urls
    assert "/units/so-a/2022/report/" in urls and "/units/so-a/?year=2022" in urls
    assert "/units/so-a/?year=2023" not in urls  # its newest year is its page without a year
    assert len(urls) == len(set(urls))
    units = len({url.split("/")[2] for url in urls if url.endswith("/badge.svg")})
    assert units > 1

    settings.PREBUILD_UNIT_ANSWERS = units - 1
    fewer = list(prebuild._urls())
    for answer in ("badge.svg", "card.png", "2023/card.png", "2023/report/"):
        assert f"/units/so-a/{answer}" in fewer
        pattern = re.compile(rf"/units/[^/]+/{re.escape(answer)}")
        assert len([u for u in fewer if pattern.fullmatch(u)]) == units
    assert not [u for u in fewer if "/2022/" in u and u.startswith("/units/")]
    assert "/units/so-a/?year=2022" not in fewer
    assert not [u for u in fewer if "/with/" in u]
    assert "/units/so-a/" in fewer  # the unit's own page is always prebuilt

    settings.PREBUILD_UNIT_ANSWERS = 0
    none = list(prebuild._urls())
    assert not [u for u in none if u.endswith((".svg", "card.png", "/report/")) and "/units/" in u]
    assert "/units/so-a/" in none


def test_a_units_card_and_its_newest_years_card_are_one_copy(
    client, published, monkeypatch, django_assert_max_num_queries
):
    """The two addresses show the same result: drawn once, stored once, each with its own
    ETag."""
    from rankings import card

    drawn = []
    original = card.unit_png
    monkeypatch.setattr(card, "unit_png", lambda *a: drawn.append(1) or original(*a))
    latest = client.get("/units/so-a/card.png")
    year = client.get("/units/so-a/2023/card.png")
    assert latest.status_code == year.status_code == 200
    assert latest.content == year.content and latest.content.startswith(b"\x89PNG")
    assert len(drawn) == 1
    assert latest["ETag"] != year["ETag"]
    # Another language is another drawing.
    client.get("/units/so-a/card.png", HTTP_ACCEPT_LANGUAGE="en")
    assert len(drawn) == 2


def test_a_years_card_outlives_the_publication_of_another_year(client, run, write, monkeypatch):
    """A published result never changes: its card, drawn once, is still the copy served after
    a newer year is published, under the same ETag (a reader who has it gets a 304)."""
    from rankings import card

    cache.clear()
    load_small_province(run, write, year=2022)
    first = client.get("/units/so-a/2022/card.png")
    assert first.status_code == 200
    drawn = []
    original = card.unit_png
    monkeypatch.setattr(card, "unit_png", lambda *a: drawn.append(1) or original(*a))
    load_small_province(run, write)  # 2023 published: a new generation, new ETags
    again = client.get("/units/so-a/2022/card.png")
    assert again.status_code == 200 and again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert (
        client.get("/units/so-a/2022/card.png", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    )
    assert drawn == []  # not drawn again
    newest = client.get("/units/so-a/card.png")  # now 2023's result: drawn
    assert newest.status_code == 200 and newest.content != first.content and drawn == [1]


def test_a_newer_publication_makes_a_running_prebuild_start_over(published, monkeypatch, settings):
    """Asked again while it runs (a newer publication), the prebuild stops where it is and
    starts over with the newest publications, instead of finishing answers out of date."""
    from django.test import Client

    asked = []
    original = Client.get

    def get(self, url, *args, **kwargs):
        asked.append(url)
        if len(asked) == 15:  # a publication committed meanwhile (8th address, 1st language)
            cache.set(prebuild.AGAIN_KEY, 1)
        return original(self, url, *args, **kwargs)

    monkeypatch.setattr(Client, "get", get)
    monkeypatch.setattr(prebuild, "CHECK_EVERY", 10)
    settings.PREBUILD_UNIT_ANSWERS = 500  # a longer list, to be stopped part of the way
    addresses = len(list(prebuild._urls()))
    assert addresses > 20  # long enough to be stopped part of the way
    done = prebuild.prebuild()
    languages = 2
    # The first run stopped before its 10th address (the next look), the second ran to the end.
    assert len(asked) == 9 * languages + addresses * languages
    assert done["failed"] == 0 and not cache.get(prebuild.AGAIN_KEY)
    assert asked[-1] == list(prebuild._urls())[-1]


def test_the_prebuild_keeps_a_page_only_as_the_copies_it_serves(
    client, published, django_assert_num_queries, monkeypatch
):
    """A page's copy as built (``conditional``'s) is not kept by the prebuild: every reader
    is served the quick copies (Brotli, gzip; inflated for a reader of neither). Shared answers
    (images, documents) keep theirs, which signed-in readers are served."""
    prebuild.prebuild()
    raw = {
        key.split(":", 2)[2]: pickle.loads(value)
        for key, value in cache._cache.items()
        if ":cchc:page:" in key
    }
    kept = [content for content, headers in raw.values()]
    assert kept  # the shared ones: the site's card, the decision documents
    assert not [c for c in kept if c.lstrip().startswith((b"<!DOCTYPE", b"<!doctype", b"{"))]
    for encoding in ("br", "gzip", "identity"):
        with django_assert_num_queries(0):
            page = client.get(RANKING, HTTP_ACCEPT_ENCODING=encoding)
        assert page.status_code == 200 and page.get("Content-Encoding", "identity") == encoding
    # A reader signed in gets a page of their own; a shared answer from its kept copy.
    from django.contrib.auth import get_user_model

    from rankings import card

    client.force_login(get_user_model().objects.create_user("reader", password="x" * 12))
    assert client.get(RANKING).status_code == 200
    monkeypatch.setattr(card, "site_png", lambda *a: pytest.fail("drawn again"))
    assert client.get("/card.png").status_code == 200


def test_downloads_and_documents_outlive_the_publication_of_another_year(
    client, run, write, monkeypatch
):
    """A year's downloads, open data and decision show that year's publications only: when
    another year is published they keep their ETag (a 304 for a reader who has them) and are
    served from their copy, not built again; its pages, which list the years, change."""
    from rankings import official, views

    cache.clear()
    load_small_province(run, write, year=2022)
    urls = [
        "/rankings/2022/departments/?_export=csv",
        "/rankings/2022/departments/?_export=xlsx",
        "/sipas/2022/departments/?_export=csv",
        "/data/2022/",
        "/decisions/2022.pdf",
        "/decisions/2022.docx",
    ]
    first = {url: client.get(url) for url in urls}
    assert all(response.status_code == 200 for response in first.values())
    page = client.get("/rankings/2022/departments/")
    load_small_province(run, write)  # 2023 published: a new generation

    def built(*args, **kwargs):
        pytest.fail("built again")

    for name in ("download", "open_data_zip"):
        monkeypatch.setattr(views, name, built)
    for name in ("build_pdf", "build_docx"):
        monkeypatch.setattr(official, name, built)
    for url, before in first.items():
        again = client.get(url)
        assert again.status_code == 200, url
        assert again.content == before.content and again["ETag"] == before["ETag"], url
        assert client.get(url, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 304, url
    assert client.get("/rankings/2022/departments/")["ETag"] != page["ETag"]  # lists 2023 now


def test_a_full_file_cache_drops_its_oldest_copies_never_the_generation(tmp_path, monkeypatch):
    """At ``MAX_ENTRIES`` the least recently written third goes (the copies of generations
    no key reaches any more, rather than a random third that takes the prebuild's newest
    copies with it), and never an entry kept for good: the generation token."""
    import os

    monkeypatch.setattr(SharedFileCache, "CHECK_EVERY", 1)
    ours = SharedFileCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 30, "CULL_FREQUENCY": 3}})
    ours.set("generation", "token", None)
    os.utime(ours._key_to_file("generation"), (1, 1))  # the oldest of all
    for number in range(29):
        ours.set(f"copy{number}", number, 3600)
        os.utime(ours._key_to_file(f"copy{number}"), (100 + number, 100 + number))
    ours.set("newest", "x", 3600)  # the 31st entry: the cache is full, a third goes
    assert ours.get("generation") == "token"
    kept = [number for number in range(29) if ours.get(f"copy{number}") is not None]
    assert kept == list(range(10, 29))  # copies 0-9, the ten least recently written, dropped
    assert ours.get("newest") == "x"


def test_a_copy_is_served_days_later_until_a_publication_or_an_upgrade(
    client, published, tmp_path, monkeypatch, django_assert_num_queries, settings
):
    """Copies have no expiry (they expired after a day, and every page's first reader of the
    next day waited for a build); what retires them is a new generation or a new release of
    the code, both part of every key."""
    from django.core.cache import caches
    from django.core.cache.backends import filebased
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "cchc.cache.SharedFileCache",
                "LOCATION": str(tmp_path / "cache"),
                "KEY_PREFIX": settings.RELEASE,
            }
        },
    ):
        first = client.get(RANKING)
        later = time.time() + 30 * 24 * 3600
        monkeypatch.setattr(filebased.time, "time", lambda: later)
        with django_assert_num_queries(0):
            again = client.get(RANKING)
        assert again.status_code == 200 and again.content == first.content
        # An upgrade: another release, other keys; the page is built again, with a new ETag.
        caches["default"].key_prefix = "another"
        try:
            with CaptureQueriesContext(connection) as queries:
                upgraded = client.get(RANKING)
        finally:
            caches["default"].key_prefix = settings.RELEASE
        assert len(queries) > 0 and upgraded.content == first.content


def test_the_release_token_follows_the_code_that_builds_the_answers(tmp_path, settings):
    from cchc.release import release_token

    assert settings.CACHES["default"]["KEY_PREFIX"] == settings.RELEASE
    (tmp_path / "templates").mkdir()
    page = tmp_path / "templates" / "page.html"
    page.write_text("<p>{{ a }}</p>")
    (tmp_path / "rankings").mkdir()
    (tmp_path / "rankings" / "views.py").write_text("x = 1\n")
    (tmp_path / "rankings" / "notes.md").write_text("not code")
    before = release_token(tmp_path)
    assert before == release_token(tmp_path)  # the same files, the same token
    (tmp_path / "rankings" / "notes.md").write_text("changed, but shapes no answer")
    assert release_token(tmp_path) == before
    page.write_text("<p>{{ b }}</p>")
    assert release_token(tmp_path) != before
    static = tmp_path / "staticfiles"
    static.mkdir()
    (static / "staticfiles.json").write_text('{"paths": {"css/cchc.css": "css/cchc.1.css"}}')
    with_manifest = release_token(tmp_path, static)
    (static / "staticfiles.json").write_text('{"paths": {"css/cchc.css": "css/cchc.2.css"}}')
    assert release_token(tmp_path, static) != with_manifest


def test_a_new_worker_does_not_count_the_cache_on_its_first_write(tmp_path, monkeypatch):
    """Counting means listing the directory (100 ms for a national cache's 90,000 files): a
    process counts every ``CHECK_EVERY`` writes, not at its first, which is a reader waiting
    for a page built on a miss in a worker gunicorn has just started."""
    monkeypatch.setattr(SharedFileCache, "CHECK_EVERY", 3)
    listed = []
    original = SharedFileCache._list_cache_files
    monkeypatch.setattr(
        SharedFileCache, "_list_cache_files", lambda self: listed.append(1) or original(self)
    )
    worker = SharedFileCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 1000}})
    worker.set("first", 1, None)
    assert listed == []
    worker.set("second", 2, None)
    worker.set("third", 3, None)
    assert listed == [1]  # counted at its third write
