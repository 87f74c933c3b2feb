from scoring.importers import import_sipas
from scoring.management.base import ImportCommand


class Command(ImportCommand):
    help = "Import sipas from a CSV or XLSX file (all-or-nothing; see docs/imports.md)."
    importer = import_sipas
    per_set = True
