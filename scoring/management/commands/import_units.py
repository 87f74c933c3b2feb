from scoring.importers import import_units
from scoring.management.base import ImportCommand


class Command(ImportCommand):
    help = "Import units from a CSV or XLSX file (all-or-nothing; see docs/imports.md)."
    importer = import_units
    per_set = False
