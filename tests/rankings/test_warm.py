"""What a server process loads before its first reader (``rankings.warm``)."""

from django.template import engines
from django.utils import translation

from rankings import card, warm


def test_warm_compiles_every_public_template_and_opens_the_card_fonts():
    card._font.cache_clear()
    done = warm.warm()
    names = warm.public_templates()
    assert "base.html" in names and "rankings/unit.html" in names and "rankings/badge.svg" in names
    assert done["templates"] == len(names)
    assert done["fonts"] == len(card.FACES) == card._font.cache_info().currsize
    # The cached loader now holds them: a worker forked after this compiles none of them.
    loader = engines["django"].engine.template_loaders[0]  # Django's cached loader
    assert set(names) <= set(loader.get_template_cache)


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
