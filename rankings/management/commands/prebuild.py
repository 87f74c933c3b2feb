from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from rankings.prebuild import prebuild


class Command(BaseCommand):
    help = (
        "Build the public answers of the current publications into the cache (run after each "
        "publication by itself; see settings.PREBUILD)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="share the work among this many processes (default 1: leave cores to readers)",
        )

    def handle(self, *args, processes, **options):
        # A process of its own (settings.PREBUILD "process"): it may wait for a running one.
        done = prebuild(
            progress=lambda line: self.stderr.write(line), processes=max(1, processes), wait=True
        )
        if done["deferred"]:
            self.stdout.write(_("another prebuild is running: it will start over when done"))
            return
        self.stdout.write(
            _("%(built)d public answers built in %(seconds)s s (%(failed)d failed)") % done
        )
