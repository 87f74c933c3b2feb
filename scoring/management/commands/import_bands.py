from scoring.importers import import_bands
from scoring.management.base import ImportCommand


class Command(ImportCommand):
    help = "Import bands from a CSV or XLSX file (all-or-nothing; see docs/imports.md)."
    importer = import_bands
    per_set = True
