"""Published pages change only with a new publication: answer 304 to a reader who has the page,
and serve anonymous readers a copy built once per publication, language and query.

Two layers. ``conditional`` builds a page at most once per publication (its key is the page's
ETag, made from the publications' checksums). ``published_page`` answers a repeated request
before any database query, from a copy kept a few seconds (``PUBLIC_PAGE_SECONDS``) or until
the next publication: publishing bumps a generation number that is part of every key, at once
for every process sharing the cache (Redis), within those seconds for per-process caches.
"""

from __future__ import annotations

import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, parse_http_date

CACHE_SECONDS = 24 * 3600
KEPT_HEADERS = ("Content-Type", "Content-Disposition", "Access-Control-Allow-Origin")


def validators(request, publications) -> tuple[str, int | None]:
    """An ETag from what the page shows (its publications' checksums, the language, the path
    and query, and the newest publication of all, since pages list the published years) and
    the time of the newest publication shown."""
    from .models import Publication

    newest_anywhere = Publication.objects.order_by("-pk").values_list("pk", flat=True).first()
    digest = hashlib.sha256()
    for part in (
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


def conditional(request, publications, build, headers=None):
    """Answer 304 when the reader already has this page; else serve it from the cache or build
    it, and label it with its ETag and Last-Modified (a 304 carries them too)."""
    headers = headers or {}
    etag, last_modified = validators(request, publications)
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        _label(not_modified, etag, last_modified, headers)
        return not_modified
    # Signed-in people see their name in the header: their pages are built for them alone.
    shared = not request.user.is_authenticated
    key = f"cchc:page:{etag}"
    stored = cache.get(key) if shared else None
    if stored is not None:
        content, headers = stored
        response = HttpResponse(content)
        for name, value in headers.items():
            response[name] = value
    else:
        response = build()
        if shared and response.status_code == 200 and not response.streaming:
            headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
            cache.set(key, (response.content, headers), CACHE_SECONDS)
    if response.status_code == 200:
        _label(response, etag, last_modified, headers)
    return response


GENERATION_KEY = "cchc:generation"


def new_generation() -> None:
    """Forget every quick copy: called when a publication is committed."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)


def published_page(view):
    """Serve anonymous GET and HEAD requests for public pages from a quick copy, before the
    view runs any query; the view's own ``conditional`` builds and validates on a miss."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        seconds = getattr(settings, "PUBLIC_PAGE_SECONDS", 10)
        if request.method not in ("GET", "HEAD") or not seconds or request.user.is_authenticated:
            return view(request, *args, **kwargs)
        generation = cache.get(GENERATION_KEY, 0)
        digest = hashlib.sha256(
            "\0".join(
                (
                    request.path,
                    request.GET.urlencode(),
                    translation.get_language() or "",
                    str(generation),
                )
            ).encode()
        ).hexdigest()
        key = f"cchc:quick:{digest}"
        stored = cache.get(key)
        if stored is not None:
            etag, last_modified, content, headers = stored
            not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
            response = not_modified if not_modified is not None else HttpResponse(content)
            for name, value in headers.items():
                if not_modified is None or name != "Content-Type":
                    response[name] = value
            _label(response, etag, last_modified, {})
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and response.has_header("ETag") and not response.streaming:
            headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
            last_modified = (
                int(parse_http_date(response["Last-Modified"]))
                if response.has_header("Last-Modified")
                else None
            )
            cache.set(key, (response["ETag"], last_modified, response.content, headers), seconds)
        return response

    return wrapper
