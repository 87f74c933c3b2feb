from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from rankings.management.commands.publish import _day
from rankings.publishing import PublishRefused, record_decision


class Command(BaseCommand):
    help = (
        "Record the People's Committee decision that announces a year's results (its number, "
        "date and signer) without publishing anything: shown on the ranking pages and in "
        "/decisions/<year>.docx and .pdf. Only the options given change; an empty value clears."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument(
            "--number", default=None, help="the decision's number, e.g. 512/QĐ-UBND"
        )
        parser.add_argument(
            "--date", type=_day, default=None, help="the day it was signed, YYYY-MM-DD"
        )
        parser.add_argument("--signed-by", default=None, help="the name of who signed it")

    def handle(self, *args, **options):
        if all(options[name] is None for name in ("number", "date", "signed_by")):
            raise CommandError(_("Give at least one of --number, --date and --signed-by."))
        try:
            decision = record_decision(
                year=options["year"],
                number=options["number"],
                date=options["date"],
                signed_by=options["signed_by"],
            )
        except PublishRefused as refusal:
            for problem in refusal.problems:
                self.stderr.write(problem)
            raise CommandError(
                _("%(count)d problem(s); nothing was recorded") % {"count": len(refusal.problems)}
            ) from None
        self.stdout.write(
            _(
                "recorded the decision of %(year)s: number %(number)s, date %(date)s, signed by %(name)s"
            )
            % {
                "year": decision.year,
                "number": decision.number or "—",
                "date": decision.date.isoformat() if decision.date else "—",
                "name": decision.signed_by or "—",
            }
        )
