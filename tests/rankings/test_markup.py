"""``rankings.markup`` writes what Django's ``format_html`` and ``format_html_join`` write, and
the ``decimal`` filter what ``floatformat:2`` writes: they replace them on pages built on a miss
(the national ranking sorted by name, the comparison of units) and must not change a byte."""

import random
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import html as django_html
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from rankings import markup


class Marked:
    """An object that says how it is written in HTML (as forms and widgets do)."""

    def __html__(self):
        return "<b>marked</b>"


class Plain:
    def __str__(self):
        return "Sở \"Nội vụ\" <&> 'x'"


VALUES = [
    "",
    "Xã Phước Thạnh",
    '<script>alert("x")</script>',
    "a & b ' \" < >",
    mark_safe("<em>safe</em>"),
    SafeString("&amp;"),
    gettext_lazy("Index"),
    gettext_lazy("Not ranked in %(group)s in %(year)s: %(units)s. Choose among the units below."),
    0,
    -3,
    Decimal("95.25"),
    2.5,
    None,
    True,
    Marked(),
    Plain(),
]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_markup_escapes_every_kind_of_value_as_django_does(language):
    with translation.override(language):
        for value in VALUES:
            assert markup.escaped(value) == django_html.conditional_escape(value), value
            for template in ("{}", '<a href="{}">{}</a>', "<{0}{1}>{1}</{0}>"):
                count = max(template.count("{}"), 2 if "{1}" in template else 1)
                args = [value] * count
                ours = markup.format_html(template, *args)
                theirs = django_html.format_html(template, *args)
                assert ours == theirs and type(ours) is type(theirs), (template, value)
        rows = [(value, index) for index, value in enumerate(VALUES)]
        for separator in ("", "\n", "<br>", mark_safe("<br>")):
            ours = markup.format_html_join(separator, ' {}="{}"', rows)
            theirs = django_html.format_html_join(separator, ' {}="{}"', rows)
            assert ours == theirs and isinstance(ours, SafeString), separator


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_decimal_filter_writes_what_floatformat_writes(language):
    numbers = random.Random(15)
    values = [None, Decimal("0"), Decimal("-0.004"), Decimal("0.005"), Decimal("95.255")]
    values += [Decimal("100"), Decimal("-12.5"), Decimal("1234567.89")]
    values += [
        Decimal(numbers.randint(-10_000_000, 10_000_000)) / Decimal(numbers.choice([1, 100]))
        for _ in range(1000)
    ]
    ours = Template("{% load readable %}{% for v in values %}{{ v|decimal }};{% endfor %}")
    theirs = Template('{% for v in values %}{{ v|floatformat:2|default:"—" }};{% endfor %}')
    with translation.override(language):
        context = Context({"values": values})
        written = ours.render(context)
        assert written == theirs.render(context)
    assert ("95,26;" if language == "vi" else "95.26;") in written  # half-up, the reader's mark
