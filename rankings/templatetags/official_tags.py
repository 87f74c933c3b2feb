"""Tags for the shareable side of the public pages: ``{% page_meta as meta %}`` (the page's
description and link-preview fields, from what the page's context holds),
``{% badge_snippet code name %}`` (the HTML another site pastes to embed a unit's badge) and
``{% year_decision year as decision %}`` (the year's decision record, or None).

Every address is absolute from ``SITE_URL``, never from the request: public pages are stored
and served to other readers."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from rankings import card
from rankings.official import absolute, province_title, recorded_decision

register = template.Library()

LOCALES = {"vi": "vi_VN", "en": "en_GB"}


@register.simple_tag(takes_context=True)
def page_meta(context) -> dict:
    """The page's title, description, image, type and address for the description and Open
    Graph tags. A page may set ``og_title``, ``meta_description``, ``og_image`` (a path or an
    address, with ``og_image_size``, (width, height), when known), ``og_image_alt`` and
    ``og_type``; otherwise they follow from a unit's result
    (``chosen`` with ``unit`` or ``unit_code``) or a publication (``publication``) in the
    context, else the site's own."""
    province = province_title()
    chosen = context.get("chosen")
    publication = context.get("publication")
    unit_code = context.get("unit_code") or getattr(context.get("unit"), "code", None)
    image, alt = None, ""
    if chosen is not None and getattr(chosen, "unit_name", None) and unit_code:
        title = chosen.unit_name
        description = card.description(chosen)
        image = reverse("official:unit_card", args=[unit_code])
        alt = description
    elif publication is not None and getattr(publication, "group_name", None):
        title = _("%(group)s: administrative reform index %(year)s") % {
            "group": publication.group_name,
            "year": publication.year,
        }
        description = _(
            "The administrative reform index (PAR Index) of %(count)s units of %(group)s, "
            "%(province)s, %(year)s: ranking, bands and every criterion."
        ) % {
            "count": publication.unit_count,
            "group": publication.group_name,
            "province": province,
            "year": publication.year,
        }
    else:
        title = _("Administrative reform index") + " · " + province
        description = _(
            "The administrative reform index (PAR Index) and the satisfaction index (SIPAS) "
            "of the agencies of %(province)s: rankings, bands and every criterion of every unit."
        ) % {"province": province}
    # The cards are 1200×630; an image a page gives is of a size only it knows (or says).
    size = context.get("og_image_size") if context.get("og_image") else (card.WIDTH, card.HEIGHT)
    image = context.get("og_image") or image or reverse("official:site_card")
    request = context.get("request")
    return {
        "title": context.get("og_title") or title,
        "description": context.get("meta_description") or description,
        "image": image if image.startswith(("http://", "https://")) else absolute(image),
        "image_alt": context.get("og_image_alt") or alt or title,
        "image_size": size,
        "type": context.get("og_type") or "website",
        "url": absolute(request.path) if request is not None else absolute("/"),
        "site_name": _("Administrative reform index") + " · " + province,
        "locale": LOCALES.get((get_language() or "vi")[:2], "vi_VN"),
    }


@register.simple_tag
def badge_snippet(unit_code: str, name: str) -> str:
    """The HTML another site pastes to show the unit's badge, linking to its page (as text: a
    page shows it escaped, to be copied)."""
    return escape(
        format_html(
            '<a href="{}"><img src="{}" alt="{}" height="74"></a>',
            absolute(reverse("rankings:unit", args=[unit_code])),
            absolute(reverse("official:badge", args=[unit_code])),
            _("Administrative reform index of %(unit)s") % {"unit": name},
        )
    )


@register.simple_tag
def year_decision(year: int):
    """The decision record of ``year`` (number, date, signer), or None: one query."""
    return recorded_decision(year)
