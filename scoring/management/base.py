"""The shape every import command shares: read one file, print what was done or every problem."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from scoring.importers import ImportFailed


class ImportCommand(BaseCommand):
    """Subclasses set ``importer`` and ``per_set`` (whether --year and --group are needed)."""

    importer = None
    per_set = True
    reports_progress = False

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV (UTF-8) or XLSX file with a header row")
        if self.per_set:
            parser.add_argument("--year", type=int, required=True)
            parser.add_argument("--group", required=True, help="group code, e.g. departments")

    def handle(self, *args, **options):
        kwargs = {"year": options["year"], "group": options["group"]} if self.per_set else {}
        if self.reports_progress:
            kwargs["progress"] = lambda line: self.stderr.write(line)
        try:
            report = type(self).importer(options["file"], **kwargs)
        except ImportFailed as failure:
            for problem in failure.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                _("%(count)d problem(s) in %(file)s; nothing was written")
                % {"count": len(failure.problems), "file": options["file"]}
            ) from None
        for line in report.lines:
            self.stdout.write(line)
