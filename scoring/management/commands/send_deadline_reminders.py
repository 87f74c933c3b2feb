from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from scoring.notifications import deadline_reminders


class Command(BaseCommand):
    help = (
        "E-mail those who still have work three days before the current stage's deadline. "
        "Run it once a day (e.g. from cron at 08:00)."
    )

    def handle(self, *args, **options):
        sent = deadline_reminders()
        self.stdout.write(
            ngettext("%(count)d e-mail sent", "%(count)d e-mails sent", sent) % {"count": sent}
        )
