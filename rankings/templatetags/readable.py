"""Template helpers of the public pages' readability: ``{{ unit.name|vi }}`` marks Vietnamese
data on a page in another language (``rankings.language``)."""

from django import template

from rankings.language import data_text, page_is_vietnamese
from rankings.tables import decimal_text

register = template.Library()


@register.filter
def vi(value):
    """The value as Vietnamese data: ``<span lang="vi">…</span>`` on a page in another language,
    the (escaped) value itself on a Vietnamese page."""
    if page_is_vietnamese():
        return value
    return data_text(value)


@register.simple_tag
def vi_lang():
    """` lang="vi"` for an element that holds only data, on a page in another language."""
    from django.utils.safestring import mark_safe

    return "" if page_is_vietnamese() else mark_safe(' lang="vi"')


@register.filter
def decimal(value):
    """A number as ``|floatformat:2`` writes it (half-up to two decimals, the reader's decimal
    mark), "—" for None, through ``rankings.tables.decimal_text``: a comparison of units built
    on a miss writes about 600 numbers, and ``floatformat`` was a third of its build."""
    return decimal_text(value)
