"""File → validated rows → one transaction. See ``base`` for the reading rules."""

from .bands import import_bands
from .base import ImportFailed, Problem, Report
from .criteria import import_criteria
from .scores import import_scores
from .sipas import import_sipas, import_sipas_answers
from .units import import_units

__all__ = [
    "ImportFailed",
    "Problem",
    "Report",
    "import_bands",
    "import_criteria",
    "import_scores",
    "import_sipas",
    "import_sipas_answers",
    "import_units",
]
