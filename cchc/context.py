"""What every page may show about the installation itself."""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext

CITY = "thành phố"


class Province(NamedTuple):
    """The province whose index this is (``PROVINCE_NAME``, ``PROVINCE_KIND``)."""

    name: str  # "Cần Thơ"; empty when none is configured
    kind: str  # "thành phố" or "tỉnh", as configured
    is_city: bool
    title: str  # in the reader's language, evaluated when shown: "Cần Thơ City"
    label: str  # in Vietnamese, as documents name it: "thành phố Cần Thơ" ("thành phố" alone)


def _title(name: str, kind: str) -> str:
    """The province as the reader's language names it: "thành phố Cần Thơ" / "Cần Thơ City",
    "tỉnh Hậu Giang" / "Hậu Giang Province"; without a name, the kind alone ("thành phố" /
    "the city")."""
    city = kind == CITY
    if not name:
        return gettext("the city") if city else gettext("the province")
    if city:
        return gettext("%(name)s City") % {"name": name}
    return gettext("%(name)s Province") % {"name": name}


def _province_title() -> str:
    """The configured province's ``title``, evaluated now."""
    return _title(settings.PROVINCE_NAME, settings.PROVINCE_KIND)


def province(name: str | None = None, kind: str | None = None) -> Province:
    """The province of the settings (or the given ``name`` and ``kind``): the one place that
    names it, for the pages, the images and the decision documents."""
    name = settings.PROVINCE_NAME if name is None else name
    kind = settings.PROVINCE_KIND if kind is None else kind
    return Province(
        name=name,
        kind=kind,
        is_city=kind == CITY,
        title=lazy(_title, str)(name, kind),
        label=f"{kind} {name}".strip(),
    )


def site(request) -> dict:
    """``demo_mode``: the installation runs the demo (``DEMO_MODE``), and pages say that its
    scores are illustrative. ``province``: the province whose index this is (``province()``):
    ``name`` ("Cần Thơ", may be empty), ``kind`` ("tỉnh" or "thành phố", as configured),
    ``is_city``, ``title``, the name with its kind in the reader's language (evaluated when the
    page is rendered, so in the page's language) and ``label``, its Vietnamese name."""
    return {"demo_mode": settings.DEMO_MODE, "province": province()._asdict()}
