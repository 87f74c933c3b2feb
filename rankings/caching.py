"""Published pages change only with a new publication: answer 304 to a reader who has the page,
and serve anonymous readers a copy built once per publication, language and query.

Only the documented query parameters (``PARAMETERS``, the contract's "Public URLs") with a
well-formed value reach a view, a cache key or an ETag: any other parameter is dropped before
the view runs, so it neither changes the answer nor makes the server build it again, and a
malformed value answers 400 without building anything. Views refuse a well-formed value that
names nothing (an unknown band or column, a page past the end) with ``BadQuery`` or 404, and
only 200 answers are stored, so the number of stored copies is bounded by the answers that
really exist.

Two layers. ``conditional`` builds a page at most once per publication (its key is the page's
ETag, made from the publications' checksums). ``published_page`` answers a repeated request
before any database query, from a copy kept a few seconds (``PUBLIC_PAGE_SECONDS``) or until
the next publication: publishing bumps a generation number that is part of every key, at once
for every process sharing the cache (Redis), within those seconds for per-process caches.

A copy stored for other readers carries nothing of the request that built it: it is built only
for an anonymous reader with no pending message; everybody else gets a page built for them
alone, marked private, with no validator shared with the anonymous page. The exception is an
answer its view declares ``shared`` (``conditional(..., shared=True)``): bytes that hold nothing
of any reader (the decision documents, the images), built without the request and served from
the one stored copy to everybody, logged in or not.

The year's decision record (``rankings.models.Decision``) is shown on pages without being part
of a publication: the newest time a decision was recorded is part of every ETag, like the newest
publication, so recording one changes every key.
"""

from __future__ import annotations

import contextvars
import gzip
import hashlib
import re
import secrets
from contextlib import contextmanager
from functools import wraps

import brotli
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse, QueryDict
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, parse_http_date
from django.utils.translation import gettext as _

from scoring.errors import Refused

# How long a copy is kept: until no key reaches it (a newer publication, an upgrade: keys
# hold the generation and the release) and the cache drops it to make room (the file cache
# its least recently written, Redis by its maxmemory policy). Copies that expired after a day
# sent the first reader of every page of the next day back to a build.
CACHE_SECONDS = None
KEPT_HEADERS = ("Content-Type", "Content-Disposition", "Access-Control-Allow-Origin")

# A unit code as the importers accept it (scoring/importers/base.py: words of [a-z0-9] joined by
# "-" or "_"), at most 100 characters (the model's field).
_UNIT_CODE = r"(?![a-z0-9_-]{101})[a-z0-9]+(?:[-_][a-z0-9]+)*"

# The documented parameters and the form of a well-formed value (ASCII only: "²" is no digit).
PARAMETERS = {
    "sort": re.compile(r"-?[a-z][a-z0-9_]{0,39}", re.ASCII),
    "page": re.compile(r"[1-9][0-9]{0,5}", re.ASCII),
    "band": re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*", re.ASCII),
    "_export": re.compile(r"csv|xlsx", re.ASCII),
    "year": re.compile(r"[12][0-9]{3}", re.ASCII),
    "q": re.compile(r"[^\x00-\x1f\x7f]{1,100}"),
    "units": re.compile(rf"{_UNIT_CODE}(?:,{_UNIT_CODE}){{1,2}}", re.ASCII),
}


class BadQuery(Refused):
    """A documented parameter with a value that is malformed or names nothing: answered 400."""


def clean_query(query: QueryDict, allowed: tuple[str, ...]) -> QueryDict:
    """Only the ``allowed`` parameters, each given once with a well-formed value; an empty value
    counts as absent. Raises ``BadQuery`` for anything else among them."""
    cleaned = QueryDict(mutable=True)
    for name in allowed:
        values = [value for value in query.getlist(name) if value != ""]
        if not values:
            continue
        if len(values) > 1:
            raise BadQuery(_("The parameter %(name)s is given more than once.") % {"name": name})
        if not PARAMETERS[name].fullmatch(values[0]):
            raise BadQuery(_("The value of %(name)s is not valid.") % {"name": name})
        cleaned[name] = values[0]
    cleaned._mutable = False
    return cleaned


def shareable(request) -> bool:
    """A page built for this request may be stored for and served to other readers: the reader
    is anonymous and has no pending message (which the page would show). Counting messages
    does not consume them."""
    if not hasattr(request, "_cchc_shareable"):
        pending = getattr(request, "_messages", None)
        request._cchc_shareable = not request.user.is_authenticated and not (
            pending is not None and len(messages.get_messages(request))
        )
    return request._cchc_shareable


def validators(request, publications, *, navigation: bool = True) -> tuple[str, int | None]:
    """An ETag from what the page shows (its publications' checksums, the language, the path
    and the cleaned query, the newest publication of all, since pages list the published years,
    and the newest time a year's decision was recorded, since pages show it) and the time of
    the newest publication shown. ``navigation=False``: an answer that shows neither (a
    download, a document, an image): its ETag, and so its copy, stay the same when another
    year or group is published, and no query is made."""
    from django.db.models import Subquery

    from .models import Decision, Publication

    newest_anywhere = None
    if navigation:
        # The newest publication and the newest decision record, in one query.
        newest_anywhere = (
            Publication.objects.order_by("-pk")
            .annotate(
                decided=Subquery(
                    Decision.objects.order_by("-recorded_at").values("recorded_at")[:1]
                )
            )
            .values_list("pk", "decided")
            .first()
        )
    digest = hashlib.sha256()
    for part in (
        settings.RELEASE,  # the code that built it (cchc/release.py)
        request.path,
        request.GET.urlencode(),
        translation.get_language() or "",
        str(newest_anywhere),
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    newest = None
    for publication in publications:
        digest.update(publication.checksum.encode())
        stamp = int(publication.published_at.timestamp())  # HTTP dates have whole seconds
        newest = stamp if newest is None or stamp > newest else newest
    return f'"{digest.hexdigest()[:32]}"', newest


def _label(response, etag, last_modified, headers) -> None:
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=300)
    response["Vary"] = "Cookie, Accept-Language"
    for name, value in headers.items():
        response[name] = value


def _private(response):
    """A page built for one reader: never stored by a shared cache, never validated against
    the anonymous copy."""
    patch_cache_control(response, private=True, no_cache=True)
    response["Vary"] = "Cookie, Accept-Language"
    return response


def conditional(
    request,
    publications,
    build,
    headers=None,
    *,
    shared: bool = False,
    stored_as: str = "",
    navigation: bool = True,
):
    """Answer 304 when the reader already has this page; else serve it from the cache or build
    it, and label it with its ETag and Last-Modified (a 304 carries them too). A reader whose
    page is their own (``shareable``) gets it built, private and without validators, unless the
    answer is ``shared``: ``build`` then makes bytes that say nothing of the reader (it must not
    read the request), stored and served under the same key whoever asks.

    ``publications`` are what the answer shows: anything with a ``checksum`` and a
    ``published_at``. ``stored_as``: the key of a ``shared`` answer's copy, when its bytes
    depend on less than its ETag does (the same bytes under several addresses, or bytes that
    outlive a newer publication elsewhere): what the bytes show, e.g. a published result and
    the language. The ETag stays the address's own. ``navigation=False``: the answer shows
    neither the published years nor a decision other than its ``publications`` (``validators``):
    its copy outlives the publications of other years and groups."""
    headers = headers or {}
    if not shared and not shareable(request):
        response = build()
        for name, value in headers.items():
            response[name] = value
        return _private(response)
    etag, last_modified = validators(request, publications, navigation=navigation)
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        _label(not_modified, etag, last_modified, headers)
        return not_modified
    key = f"cchc:page:{stored_as}" if shared and stored_as else f"cchc:page:{etag}"
    stored = cache.get(key)
    if stored is not None:
        content, headers = stored
        response = HttpResponse(content)
        for name, value in headers.items():
            response[name] = value
    else:
        response = build()
        if response.status_code == 200 and not response.streaming:
            headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
            # The prebuild keeps a page only as the quick copies it serves (``_quick``): its
            # ETag changes with every publication, so a copy as built would only be read by a
            # reader of an encoding not stored (rebuilt then), and it took six times the disk
            # of a national unit page's Brotli and gzip copies together. A ``shared`` answer
            # keeps it (signed-in readers, who pass by the quick copies, are served it), and
            # so does one without ``navigation``, which the next generation's readers reuse.
            if shared or not navigation or not _PREBUILDING.get():
                cache.set(key, (response.content, headers), CACHE_SECONDS)
    if response.status_code == 200:
        _label(response, etag, last_modified, headers)
    return response


GENERATION_KEY = "cchc:generation"


def new_generation() -> None:
    """Forget every quick copy: called when a publication or a decision is committed. The
    generation is a random token, not a counter, so a cache that lost it (evicted, flushed)
    can never fall back on an earlier generation's copies."""
    cache.set(GENERATION_KEY, secrets.token_hex(8), None)


def generation() -> str:
    """The current generation of quick copies (one cache read)."""
    token = cache.get(GENERATION_KEY)
    if token is None:
        cache.add(GENERATION_KEY, secrets.token_hex(8), None)
        token = cache.get(GENERATION_KEY, "")
    return str(token)


def shared_cache() -> bool:
    """Every worker reads the same cache (files or Redis), so a new generation reaches them
    all at once: quick copies may then live until the next publication."""
    return not isinstance(cache, LocMemCache)


def bad_request(request, message: str, *, json: bool = False):
    if json:
        response = JsonResponse({"detail": message}, status=400)
        response["Access-Control-Allow-Origin"] = "*"
        return response
    return HttpResponseBadRequest(
        render_to_string("400.html", {"message": message}, request=request)
    )


def published_page(*parameters: str, json: bool = False):
    """Decorate a public view that reads only published rows.

    ``parameters`` are the documented query parameters the view reads: they alone reach it
    (``request.GET`` and the query string are replaced by the cleaned ones), a malformed one
    answers 400 (in JSON with ``json``), and so does a ``BadQuery`` the view raises. Anonymous
    GET and HEAD requests are then served from a quick copy before the view runs any query; the
    view's own ``conditional`` builds and validates on a miss."""

    unknown = set(parameters) - set(PARAMETERS)
    if unknown:
        raise ValueError(f"undocumented query parameters: {sorted(unknown)}")

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                request.GET = clean_query(request.GET, parameters)
                request.META["QUERY_STRING"] = request.GET.urlencode()
                return _quick(view, request, *args, any_language=json, **kwargs)
            except BadQuery as error:
                return bad_request(request, str(error), json=json)

        return wrapper

    return decorator


# Answers worth compressing (the API's national ranking is 5 MB of JSON: 250 kB gzipped, 180 kB
# with Brotli); images, spreadsheets and documents are compressed already.
COMPRESSED_TYPES = ("text/", "application/json", "image/svg+xml")
COMPRESS_FROM = 1024  # bytes


def _brotli(content: bytes, smallest: bool) -> bytes:
    return brotli.compress(content, quality=9 if smallest else 5)


def _gzip(content: bytes, smallest: bool) -> bytes:
    return gzip.compress(content, compresslevel=9 if smallest else 6, mtime=0)


# The encodings a copy is stored in, the reader's preferred first when it accepts several:
# Brotli (browsers over HTTPS), then gzip (every HTTP client). Each is made at one of two
# settings. The prebuild, which nobody waits for, makes every encoding at its smallest
# (Brotli 9, gzip 9; Brotli 11 is a hundred times slower). A reader who is waiting for a page
# built on a miss gets its own encoding only, at a fast setting (Brotli 5, gzip 6): on this
# project's pages about a tenth of the time for 5–10 % more bytes (a 620 kB comparison page:
# Brotli 9 and gzip 9 together 68 ms, Brotli 5 alone 6 ms, 38 kB instead of 35 kB). Another
# encoding is made when its own first reader comes, from the answer's stored copy.
ENCODINGS = {"br": _brotli, "gzip": _gzip}

# Set while the prebuild requests its answers (``prebuilding``): every encoding, smallest.
_PREBUILDING = contextvars.ContextVar("cchc_prebuilding", default=False)


@contextmanager
def prebuilding():
    """Answers built inside are stored in every encoding at its smallest (``ENCODINGS``).
    Only the prebuild says so (a context variable of the process, which no request can set)."""
    token = _PREBUILDING.set(True)
    try:
        yield
    finally:
        _PREBUILDING.reset(token)


def _encoded(content: bytes, accepted: list[str]) -> dict[str, bytes]:
    """The copies of an answer to store, by encoding (``ENCODINGS``): every one at its
    smallest for the prebuild; else the one the reader prefers, fast, or gzip when the reader
    accepts none (the copy later gzip readers will read; this reader is sent the answer as
    built)."""
    if _PREBUILDING.get():
        return {name: encode(content, True) for name, encode in ENCODINGS.items()}
    name = next((name for name in accepted if name in ENCODINGS), "gzip")
    return {name: ENCODINGS[name](content, False)}


def quick_key(request, *, any_language: bool = False) -> str:
    """The key of a public answer's quick copy: the generation (the publications as they now
    stand), the path, the cleaned query (the documented parameters only: ``published_page``)
    and the language, unless the answer is the same in every language (the JSON API);
    nothing else of the request."""
    digest = hashlib.sha256(
        "\0".join(
            (
                request.path,
                request.GET.urlencode(),
                "" if any_language else translation.get_language() or "",
                generation(),
            )
        ).encode()
    ).hexdigest()
    return f"cchc:quick4:{digest}"


def accepted_encodings(request) -> list[str]:
    """The encodings of ``ENCODINGS`` that the reader's Accept-Encoding names without ``q=0``,
    in the order they are preferred."""
    accepted = set()
    for part in request.META.get("HTTP_ACCEPT_ENCODING", "").lower().split(","):
        token, _sep, params = part.partition(";")
        if params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            accepted.add(token.strip())
    return [name for name in ENCODINGS if name in accepted]


def _serve(request, etag, last_modified, body, headers, compressed, encoding):
    """A response from a stored copy: ``body`` in ``encoding`` (with its own ETag, ``"…-br"``)
    or as built (""); 304 when the reader has that representation. ``compressed``: the answer
    is stored in ``ENCODINGS`` (so the response varies with Accept-Encoding)."""
    if encoding:
        etag = f'{etag[:-1]}-{encoding}"'
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        response = not_modified
    else:
        response = HttpResponse(body)
        if encoding:
            response["Content-Encoding"] = encoding
    for name, value in headers.items():
        if not_modified is None or name != "Content-Type":
            response[name] = value
    _label(response, etag, last_modified, {})
    if compressed:
        patch_vary_headers(response, ["Accept-Encoding"])
    return response


def _stored(key: str, accepted: list[str]):
    """The copy to send this reader: ``_serve``'s arguments, or None when there is none. Each
    encoding of an answer is its own cache entry (``<key>:br``, ``<key>:gzip``; ``<key>:`` for
    an answer kept as built), each with the answer's validators, so that a reader reads only
    the bytes it is sent. ``accepted``: the reader's (``accepted_encodings``). Only the
    reader's preferred encoding is looked for: one not stored yet is made (``_quick``), once,
    rather than every browser being sent gzip because a gzip client came first."""
    for encoding in (*accepted[:1], ""):
        found = cache.get(f"{key}:{encoding}")
        if found is not None:
            return (*found, encoding)
    if not accepted:  # a reader of no encoding: the gzip copy, inflated
        # (One who accepts an encoding not stored yet has it made: ``_quick``.)
        found = cache.get(f"{key}:gzip")
        if found is not None:
            etag, last_modified, body, headers, compressed = found
            return (etag, last_modified, gzip.decompress(body), headers, compressed, "")
    return None


def _quick(view, request, *args, any_language: bool = False, **kwargs):
    seconds = settings.PUBLIC_PAGE_SECONDS
    if request.method not in ("GET", "HEAD") or not seconds or not shareable(request):
        return view(request, *args, **kwargs)
    key = quick_key(request, any_language=any_language)
    accepted = accepted_encodings(request)
    stored = _stored(key, accepted)
    if stored is not None:
        return _serve(request, *stored)
    response = view(request, *args, **kwargs)
    if response.status_code == 200 and response.has_header("ETag") and not response.streaming:
        headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
        last_modified = (
            int(parse_http_date(response["Last-Modified"]))
            if response.has_header("Last-Modified")
            else None
        )
        etag, content = response["ETag"], response.content
        compress = len(content) >= COMPRESS_FROM and response.get("Content-Type", "").startswith(
            COMPRESSED_TYPES
        )
        bodies = _encoded(content, accepted) if compress else {"": content}
        cache.set_many(
            {
                f"{key}:{name}": (etag, last_modified, body, headers, compress)
                for name, body in bodies.items()
            },
            CACHE_SECONDS if shared_cache() else seconds,
        )
        encoding = next((name for name in accepted if name in bodies), "")
        body = bodies.get(encoding, content)
        return _serve(request, etag, last_modified, body, headers, compress, encoding)
    return response
