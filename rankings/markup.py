"""``format_html`` and ``format_html_join`` for the public pages' charts and data marks: the same
output as Django's, without its per-value overhead.

A national ranking page draws a chart of its units and a table of their cells: about 10,000
values escaped per page built on a miss. Django's ``conditional_escape`` goes through
``escape``, which is wrapped by ``keep_lazy`` (a check of every argument for a lazy string on
each call); that wrapper was the largest single cost of such a build (a ranking page sorted by
name: 10,300 calls). Here a value is escaped as ``conditional_escape`` does, by its
``__html__`` when it has one (safe strings), else by ``html.escape`` of its text, which is what
``escape`` returns; a lazy translation is made text first. ``tests/rankings/test_markup.py``
compares the two on every kind of value.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from django.utils.safestring import SafeString, mark_safe


def escaped(value: Any) -> str:
    """``django.utils.html.conditional_escape(value)``, as text."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def format_html(template: str, *args: Any) -> SafeString:
    """``django.utils.html.format_html`` with positional values."""
    return mark_safe(template.format(*map(escaped, args)))


def format_html_join(separator: str, template: str, rows: Iterable[Iterable[Any]]) -> SafeString:
    """``django.utils.html.format_html_join`` with positional values (``separator`` escaped
    too, as there)."""
    return mark_safe(escaped(separator).join(template.format(*map(escaped, row)) for row in rows))
