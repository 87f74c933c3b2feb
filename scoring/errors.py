"""The one family of refusals: every action the project refuses raises a ``Refused``.

A ``Refused`` carries a message for the person who asked (in their language) and means that
nothing was written. Pages show it, commands print it and exit with status 1.
"""

from __future__ import annotations

from django.utils.translation import gettext as _


class Refused(Exception):
    """An action that was not done; the message says why. Nothing was written."""


class NotAllowed(Refused):
    """The user may not do this, or not now (role, unit, field, stage, deadline)."""


class Conflict(Refused):
    """Someone else saved these leaves since the page was loaded; ``codes`` names them."""

    def __init__(self, codes: list[str]):
        self.codes = codes
        super().__init__(
            _(
                "Someone else changed these leaves after you opened the page: %(codes)s. "
                "Nothing was saved: your values are kept in the form and theirs are shown in "
                "red beside them. Save again to replace theirs."
            )
            % {"codes": ", ".join(codes)}
        )


class Invalid(Refused):
    """Values that break a rule; ``errors`` maps what is wrong (a criterion code) to why."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{code}: {message}" for code, message in errors.items()))
