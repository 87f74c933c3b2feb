from scoring.importers import import_criteria
from scoring.management.base import ImportCommand


class Command(ImportCommand):
    help = "Import criteria from a CSV or XLSX file (all-or-nothing; see docs/imports.md)."
    importer = import_criteria
    per_set = True
