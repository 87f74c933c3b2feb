from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from rankings.publishing import PublishRefused, outdated_by, publish


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _moment(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if timezone.is_aware(value) else timezone.make_aware(value)


class Command(BaseCommand):
    help = (
        "Freeze the results of a year and group as a new published version. A second version "
        "(an erratum) needs --reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--group", required=True, help="group code, e.g. departments")
        parser.add_argument("--reason", default="", help="why this version (required for errata)")
        parser.add_argument(
            "--published-at",
            type=_moment,
            default=None,
            help="date and time of the decision, ISO 8601 (default: now), e.g. 2024-02-28T09:00",
        )
        # The People's Committee decision that announces the year's results (optional): those
        # given create or update the year's decision (record_decision does it without
        # publishing); shown on the public pages and in /decisions/<year>.docx and .pdf.
        parser.add_argument(
            "--decision-number", default=None, help="the decision's number, e.g. 512/QĐ-UBND"
        )
        parser.add_argument(
            "--decision-date", type=_day, default=None, help="the day it was signed, YYYY-MM-DD"
        )
        parser.add_argument("--signed-by", default=None, help="the name of who signed it")

    def handle(self, *args, **options):
        try:
            publication = publish(
                year=options["year"],
                group=options["group"],
                reason=options["reason"],
                published_at=options["published_at"],
                decision_number=options["decision_number"],
                decision_date=options["decision_date"],
                decision_signed_by=options["signed_by"],
            )
        except PublishRefused as refusal:
            for problem in refusal.problems:
                self.stderr.write(problem)
            raise CommandError(
                _("%(count)d problem(s); nothing was published") % {"count": len(refusal.problems)}
            ) from None
        for later in outdated_by(publication):
            self.stdout.write(
                _(
                    "%(year)s %(group)s (version %(version)d) compares with an older version of "
                    "this table: re-publish it with a reason (--reason) to update its changes."
                )
                % {"year": later.year, "group": later.group_code, "version": later.version}
            )
        self.stdout.write(
            _(
                "published %(year)s %(group)s version %(version)d: %(units)d units, checksum "
                "%(checksum)s"
            )
            % {
                "year": publication.year,
                "group": publication.group_code,
                "version": publication.version,
                "units": publication.unit_count,
                "checksum": publication.checksum[:12],
            }
        )
