"""The filters of the public tables (django-filter)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _

from .models import PublishedResult


class BandFilter(django_filters.FilterSet):
    """A ranking table restricted to one band (``?band=<code>``) of its publication."""

    band = django_filters.ChoiceFilter(field_name="band_code", label="", empty_label=None)

    class Meta:
        model = PublishedResult
        fields = []

    def __init__(self, *args, bands=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["band"].label = _("Band")
        self.filters["band"].extra["choices"] = [(b.code, b.label) for b in bands]
        self.filters["band"].extra["empty_label"] = _("All bands")
