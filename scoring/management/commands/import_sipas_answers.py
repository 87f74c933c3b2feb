from scoring.importers import import_sipas_answers
from scoring.management.base import ImportCommand


class Command(ImportCommand):
    help = (
        "Compute SIPAS from individual questionnaires (one row per questionnaire; columns unit, "
        "optional respondent, and one per question named after its element: access, access_2, "
        "procedure_1...; answers 1-5, empty when not answered). All-or-nothing."
    )
    importer = import_sipas_answers
    per_set = True
