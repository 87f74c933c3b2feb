from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from rankings.prebuild import prebuild


class Command(BaseCommand):
    help = (
        "Build the public answers of the current publications into the cache (run after each "
        "publication by itself; see settings.PREBUILD)."
    )

    def handle(self, *args, **options):
        done = prebuild(progress=lambda line: self.stderr.write(line))
        if done["deferred"]:
            self.stdout.write(_("another prebuild is running: it will start over when done"))
            return
        self.stdout.write(
            _("%(built)d public answers built in %(seconds)s s (%(failed)d failed)") % done
        )
