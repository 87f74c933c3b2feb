"""The public tables (django-tables2): what they show, how they sort and what they export.

Pages show numbers in the reader's language (a decimal comma in Vietnamese); exports carry the
numbers themselves (``value_*``), so a spreadsheet gets numbers, not text.

The ranked value comes first: rank and unit (kept in view while the table scrolls sideways, see
``cchc.css``), then the index, the band and the change, then the rest; a download has the same
order. Unit names and band labels are data, marked ``lang="vi"`` on a page in another language.
"""

from __future__ import annotations

import functools
from decimal import Decimal

import django_tables2 as tables
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import reverse
from django.utils.formats import get_format, number_format
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from scoring.calculation import quantize
from scoring.templatetags.cchc_tags import change_cell

from .language import data_text

CHANGE = pgettext_lazy("difference from last year", "Change")

NUM = {"th": {"class": "num"}, "td": {"class": "num"}}
# The two columns that stay in view while a wide table scrolls sideways.
RANK = {"th": {"class": "num rank"}, "td": {"class": "num rank"}}
UNIT = {"th": {"class": "unit"}, "td": {"class": "unit"}}


CENT = Decimal("0.01")


@functools.lru_cache(maxsize=16)
def _decimal_separator(language: str | None) -> str:
    return get_format("DECIMAL_SEPARATOR", language, use_l10n=True)


@receiver(setting_changed)
def _forget_separators(**kwargs) -> None:  # as Django forgets its own formats (tests)
    _decimal_separator.cache_clear()


def decimal_text(value) -> str:
    """A number in the reader's language, rounded half-up to two decimals first (``number_format``
    alone cuts: 95.255 would read 95.25); None → —.

    What ``number_format(quantized, 2)`` writes, without its general machinery (a national
    ranking page shows 1,200 numbers): the sign, the whole part, the language's decimal mark
    and two digits; anything under a cent reads 0 (no "-0,00"). Grouped thousands, when the
    settings ask for them, are left to ``number_format``."""
    if value is None:
        return "—"
    number = quantize(Decimal(value))
    if settings.USE_THOUSAND_SEPARATOR:
        return number_format(number, 2)
    mark = _decimal_separator(get_language())
    if abs(number) < CENT:
        return f"0{mark}00"
    text = f"{number:f}"
    whole, _dot, cents = text.partition(".")
    return f"{whole}{mark}{(cents + '00')[:2]}"


def band_badge(code: str, label: str):
    return data_text(label or "—", class_=f"badge band-{code or 'none'}")


class NumberColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", NUM)
        super().__init__(*args, **kwargs)

    def render(self, value):
        return decimal_text(value)

    def value(self, value):
        # Exports carry numbers; an annotated subquery may come back unquantized on SQLite.
        return None if value is None else quantize(Decimal(value))


def comparison_columns() -> tuple[tables.Column, ...]:
    """The change from last year, then what it was measured against (hidden on the page, in
    every export): declare them in a table's body, where they stand, as
    ``change, previous_index, change_basis, compared_with = comparison_columns()``."""
    return (
        tables.Column(verbose_name=CHANGE, attrs=NUM),
        NumberColumn(verbose_name="previous_index", visible=False),
        tables.Column(verbose_name="change_basis", visible=False),
        tables.Column(verbose_name="compared_with", visible=False, orderable=False),
    )


class ComparisonCells:
    """How the columns of ``comparison_columns`` show and export, and the unit's name (mix into
    a table)."""

    def render_unit_name(self, value):
        return data_text(value)

    def value_unit_name(self, value):
        return value

    def render_change(self, value, record):
        return change_cell(value, record.change_basis, "vs", record.unit_code)

    def value_change(self, value):
        return value

    def value_compared_with(self, value):
        return ";".join(value or ())


class RankingTable(ComparisonCells, tables.Table):
    rank = tables.Column(verbose_name=_("Rank"), attrs=RANK)
    unit_name = tables.Column(
        verbose_name=_("Unit"),
        linkify=lambda record: reverse("rankings:unit", args=[record.unit_code]),
        attrs=UNIT,
    )
    points = NumberColumn(verbose_name=_("Points"))
    max_points = NumberColumn(verbose_name=_("Maximum"))
    index = NumberColumn(verbose_name=_("Index"))
    band_label = tables.Column(verbose_name=_("Band"), order_by=("index",))
    change, previous_index, change_basis, compared_with = comparison_columns()

    class Meta:
        orderable = True
        order_by_field = "sort"
        attrs = {"class": "ranking"}
        template_name = "rankings/_table.html"
        empty_text = _("No unit in this band.")
        # The field columns (``extra_columns``) take the place of "...".
        sequence = (
            "rank",
            "unit_name",
            "index",
            "band_label",
            "change",
            "points",
            "max_points",
            "...",
            "previous_index",
            "change_basis",
            "compared_with",
        )

    def render_band_label(self, value, record):
        return band_badge(record.band_code, value)

    def value_band_label(self, value):
        return value


def field_columns(fields) -> list[tuple[str, tables.Column]]:
    """One sortable column per field (its component index), named ``field_<n>`` as annotated by
    ``PublishedResult.objects.for_table``."""
    return [
        (
            f"field_{position}",
            NumberColumn(
                verbose_name=_("Field %(code)s") % {"code": field.code},
                attrs={
                    "th": {"class": "num", "title": field.title},
                    "td": {"class": "num"},
                },
            ),
        )
        for position, field in enumerate(fields)
    ]


class SipasTable(ComparisonCells, tables.Table):
    rank = tables.Column(verbose_name=_("Rank"), attrs=RANK)
    unit_name = tables.Column(
        verbose_name=_("Unit"),
        linkify=lambda record: reverse("rankings:unit", args=[record.unit_code]),
        attrs=UNIT,
    )
    index = NumberColumn(verbose_name=_("SIPAS"))
    access = NumberColumn(verbose_name=_("Access"))
    procedure = NumberColumn(verbose_name=_("Procedure"))
    civil_servants = NumberColumn(verbose_name=_("Civil servants"))
    result = NumberColumn(verbose_name=_("Result"))
    feedback = NumberColumn(verbose_name=_("Feedback"))
    change, previous_index, change_basis, compared_with = comparison_columns()

    class Meta:
        orderable = True
        order_by_field = "sort"
        attrs = {"class": "ranking"}
        template_name = "rankings/_table.html"
        sequence = (
            "rank",
            "unit_name",
            "index",
            "change",
            "access",
            "procedure",
            "civil_servants",
            "result",
            "feedback",
            "...",
        )
