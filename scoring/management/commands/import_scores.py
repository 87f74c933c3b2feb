from scoring.importers import import_scores
from scoring.management.base import ImportCommand


class Command(ImportCommand):
    help = "Import scores from a CSV or XLSX file (all-or-nothing; see docs/imports.md)."
    importer = import_scores
    per_set = True
    reports_progress = True
