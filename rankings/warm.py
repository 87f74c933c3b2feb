"""What a server process loads once, before it answers anybody: the public templates compiled,
both languages' translation catalogues read, the card fonts opened, the URLconf imported and
its patterns compiled, the static files' manifest read.

Django does each of these lazily, on the first request that needs it: in a fresh gunicorn
worker, the first reader of a unit's badge or report paid 10–50 ms for them on top of the
build, and the first request of any kind 70–110 ms. ``cchc/wsgi.py`` calls ``warm()`` when the application is loaded; with gunicorn's
``--preload`` (``make serve``) that is once in the master, and every worker (also one replaced
after ``--max-requests``) is forked with all of it in memory. Nothing here touches the
database: a connection must not cross a fork.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import get_resolver, reverse
from django.utils import formats, translation
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# The templates of the public site (the admin's and the staff pages' are left to their users).
PUBLIC = ("rankings", "")


def public_templates() -> list[str]:
    """Names of the public site's templates: ``templates/*.html`` and ``templates/rankings/*``."""
    root = Path(settings.BASE_DIR) / "templates"
    names = []
    for folder in PUBLIC:
        directory = root / folder
        for path in sorted(directory.glob("*.*")):
            if path.is_file():
                names.append(str(path.relative_to(root)))
    return names


def warm() -> dict:
    """Compile the public templates into the cached loader, read every language's catalogue
    and open the card fonts; returns what was loaded. A template that fails to load is logged,
    never raised: the server must start."""
    from .card import FACES, _font

    loaded = 0
    names = public_templates()
    seen = set(names)
    while names:
        name = names.pop(0)
        try:
            template = get_template(name)
            loaded += 1
        except (TemplateDoesNotExist, TemplateSyntaxError):
            logger.exception("warm: template %s did not load", name)
            continue
        # A template's parent is found when it is first rendered, not when it is compiled: a
        # parent from outside the folders above (django-tables2's table, which every public
        # table extends) would be compiled by the first request that shows a table (11 ms of
        # the first ranking page built on a miss by a process).
        for parent in _parents(template):
            if parent not in seen:
                seen.add(parent)
                names.append(parent)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Administrative reform index")
            formats.get_format("DECIMAL_SEPARATOR")  # imports the language's formats module
    # What the first request of a process imports otherwise: the context processors, the
    # message and session machinery, the cache's backend (13 modules, 10-20 ms).
    engines["django"].engine.template_context_processors  # noqa: B018 (a cached property)
    import_string(settings.MESSAGE_STORAGE)
    import_string(settings.SESSION_SERIALIZER)
    caches["default"]  # noqa: B018 (the backend, made on first use)
    for style, size in FACES:
        _font(style, size)
    # The URLconf is imported, and its patterns compiled, by the first request that resolves
    # or reverses an address (60 ms); the static files' manifest is read by the first page.
    resolver = get_resolver()
    resolver.resolve("/")
    reverse("rankings:home")
    try:
        static("css/cchc.css")
    except ValueError:  # no manifest yet (before collectstatic): the first page reads it
        logger.warning("warm: the static files' manifest is missing (run collectstatic)")
    return {"templates": loaded, "languages": len(settings.LANGUAGES), "fonts": len(FACES)}


def _parents(template) -> list[str]:
    """The templates ``template`` extends by a literal name (``{% extends "name" %}``)."""
    from django.template.loader_tags import ExtendsNode

    names = []
    for node in template.template.nodelist.get_nodes_by_type(ExtendsNode):
        name = getattr(node.parent_name, "var", None)
        if isinstance(name, str) and not node.parent_name.filters:
            names.append(name)
    return names


def warm_database() -> int:
    """Open this process's database connection and run, once, the reads every public answer
    built on a miss makes (the published years, the validators' newest publication, a unit's
    results, fields, leaves, criteria, bands, SIPAS rows, decisions), so that the server
    process behind the connection has read its catalogue for these tables before a reader
    waits on it. Only in a process that will keep the connection (a gunicorn worker after the
    fork: ``cchc/serving.py``), never before a fork. Returns the number of queries run."""
    from django.db import connection, transaction

    from .models import (
        Decision,
        Publication,
        PublishedBand,
        PublishedCriterion,
        PublishedField,
        PublishedLeaf,
        PublishedResult,
        PublishedSipas,
    )

    connection.ensure_connection()
    latest = Publication.objects.latest_versions()
    queries = [
        lambda: Publication.objects.navigation(),
        lambda: Publication.objects.order_by("-pk").values_list("pk").first(),
        lambda: Decision.objects.order_by("-recorded_at").values_list("recorded_at").first(),
        lambda: (
            PublishedResult.objects.filter(unit__code="", publication__in=latest)
            .select_related("publication")
            .first()
        ),
        lambda: PublishedField.objects.filter(result__publication__in=latest, result_id=0).first(),
        lambda: PublishedLeaf.objects.filter(result_id=0).order_by("position").first(),
        lambda: PublishedCriterion.objects.filter(publication_id=0).first(),
        lambda: PublishedBand.objects.filter(publication_id=0).first(),
        lambda: PublishedSipas.objects.filter(unit__code="", publication__in=latest).first(),
    ]
    with transaction.atomic():  # one transaction, not one per query
        for query in queries:
            query()
    return len(queries)
