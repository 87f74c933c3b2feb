"""Invisible control characters in text that people read, print and export.

A C0 control character (U+0000–U+001F, U+007F) cannot be stored in an XLSX cell at all, so one
in a unit name would make every export of that unit's publication fail; a bidirectional control
(U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) makes a name display as something else
than it is. Imports (``scoring.importers.base``), the admin and the staff forms refuse both, with
this module as the one definition. Multi-line text (guidance, notes, reasons) may hold line
breaks and tabs, nothing else of those.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_C0 = "".join(chr(code) for code in range(0x20)) + "\x7f"
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Line feed, carriage return (browsers send a textarea's line breaks as CR LF) and tab.
_LINE_BREAKS_AND_TAB = "\n\r\t"

_SINGLE_LINE = re.compile("[" + re.escape(_C0 + _BIDI) + "]")
_MULTI_LINE = re.compile(
    "[" + re.escape("".join(c for c in _C0 if c not in _LINE_BREAKS_AND_TAB) + _BIDI) + "]"
)


def control_character(text: str, *, multiline: bool = False) -> str | None:
    """The first refused character of ``text`` written as ``U+0007``, or None when there is
    none. ``multiline`` admits line breaks (LF, CR) and tabs."""
    match = (_MULTI_LINE if multiline else _SINGLE_LINE).search(text)
    return f"U+{ord(match.group()):04X}" if match else None


def strip_control_characters(text: str) -> str:
    """``text`` without the characters multi-line text refuses (line breaks and tabs kept): the
    exports clean what was stored before these validators existed."""
    return _MULTI_LINE.sub("", text)


def _validate(value, multiline: bool) -> None:
    character = control_character(str(value), multiline=multiline)
    if character:
        raise ValidationError(
            _("The text contains the invisible control character %(character)s; remove it."),
            code="control_character",
            params={"character": character},
        )


def validate_single_line(value) -> None:
    """Model and form validator for names, titles, labels and codes: no control character."""
    _validate(value, multiline=False)


def validate_multi_line(value) -> None:
    """Model and form validator for guidance, notes and reasons: line breaks and tabs only."""
    _validate(value, multiline=True)
