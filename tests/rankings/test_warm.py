"""What a server process loads before its first reader (``rankings.warm``)."""

from django.template import engines
from django.utils import translation

from rankings import card, warm


def test_warm_compiles_every_public_template_and_opens_the_card_fonts():
    card._font.cache_clear()
    done = warm.warm()
    names = warm.public_templates()
    assert "base.html" in names and "rankings/unit.html" in names and "rankings/badge.svg" in names
    # Every one of them, and the one template they extend from elsewhere: django-tables2's
    # table, the parent of rankings/_table.html.
    assert done["templates"] == len(names) + 1
    assert done["fonts"] == len(card.FACES) == card._font.cache_info().currsize
    # The cached loader now holds them: a worker forked after this compiles none of them.
    loader = engines["django"].engine.template_loaders[0]  # Django's cached loader
    assert set(names) <= set(loader.get_template_cache)


def test_warm_compiles_the_parents_a_public_template_extends_from_elsewhere():
    """A parent is looked up when its child is first rendered, not when the child is
    compiled: the first table a process showed compiled django-tables2's template."""
    loader = engines["django"].engine.template_loaders[0]
    loader.reset()
    warm.warm()
    assert "django_tables2/table.html" in loader.get_template_cache
    assert "base.html" in loader.get_template_cache  # a parent in the folders, loaded once


def test_warm_leaves_the_language_as_it_found_it():
    with translation.override("en"):
        warm.warm()
        assert translation.get_language() == "en"


def test_warm_imports_the_urlconf_before_any_request():
    from django.urls import clear_url_caches, get_resolver

    clear_url_caches()
    assert not get_resolver()._populated
    warm.warm()
    assert get_resolver()._populated  # patterns compiled and the reverse tables filled


def test_a_forked_worker_opens_and_warms_its_connection_before_its_first_reader(db):
    """gunicorn's ``post_fork`` (``cchc/serving.py``, given to gunicorn by ``make serve`` and
    the documented unit) opens the worker's connection and reads, once, the tables a page
    built on a miss reads; a reader then finds the connection open."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cchc import serving

    with CaptureQueriesContext(connection) as captured:
        serving.post_fork(None, None)
    assert connection.connection is not None and connection.is_usable()
    reads = [q for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 9


def test_warm_database_touches_every_table_a_public_answer_reads(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        ran = warm.warm_database()
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert ran == len(reads)
    sql = " ".join(reads)
    for table in (
        "rankings_publication",
        "rankings_decision",
        "rankings_publishedresult",
        "rankings_publishedfield",
        "rankings_publishedleaf",
        "rankings_publishedcriterion",
        "rankings_publishedband",
        "rankings_publishedsipas",
        "scoring_unit",
    ):
        assert f'"{table}"' in sql, table


def test_a_worker_whose_database_is_down_still_starts(monkeypatch, caplog):
    from django.db import OperationalError

    from cchc import serving

    def down():
        raise OperationalError("connection refused")

    monkeypatch.setattr(warm, "warm_database", down)
    serving.post_fork(None, None)  # no exception: the worker starts, its first request connects
    assert "could not be warmed" in caplog.text
