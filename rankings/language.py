"""Data in Vietnamese on pages in other languages.

Unit names, band labels, group names, criteria titles and the council's notes are data, entered
in Vietnamese and never translated. On a page in another language they are marked
``lang="vi"`` so that a screen reader pronounces them as Vietnamese and a browser hyphenates and
spell-checks them as such; on a Vietnamese page the mark would say nothing and is left out.
"""

from __future__ import annotations

from typing import Any

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from .markup import format_html, format_html_join

DATA_LANGUAGE = "vi"


def page_is_vietnamese() -> bool:
    return (get_language() or DATA_LANGUAGE).split("-")[0] == DATA_LANGUAGE


def data_text(text: Any, tag: str = "span", **attrs: Any) -> SafeString:
    """``text`` (escaped) in a ``tag``, marked ``lang="vi"`` on a page in another language.
    ``class_=`` gives the ``class`` attribute."""
    if not page_is_vietnamese():
        attrs["lang"] = DATA_LANGUAGE
    pairs = format_html_join(
        "", ' {}="{}"', ((key.rstrip("_").replace("_", "-"), v) for key, v in attrs.items())
    )
    return format_html("<{0}{1}>{2}</{0}>", tag, pairs, "" if text is None else text)


def data_format(message: str, **values: Any) -> SafeString:
    """``message`` (an interface text, already translated, with ``%(name)s`` placeholders)
    with its values put in, escaped; text values are data, marked as by ``data_text``.
    ``data_format(_("Index of %(unit)s over the years"), unit=name)``."""
    filled = {
        key: data_text(value) if isinstance(value, str) else conditional_escape(value)
        for key, value in values.items()
    }
    return mark_safe(conditional_escape(message) % filled)
