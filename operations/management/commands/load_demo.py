"""Load the Cần Thơ demo: the register of units with its 2025 mergers, 2022 to 2025 published,
2026 in self-assessment (the data files are made by ``scoring/demo/generate.py`` from
``outline.csv`` and ``targets.csv``).

Every file goes through the same import commands a secretariat would run (files under
``scoring/demo/data/``: a year's folder holds a folder per group; a year with scores is
published, the year without is the open round). Running it again changes nothing.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

import scoring
from rankings.models import Publication
from scoring.models import (
    AppraiserAssignment,
    Assessment,
    AssessmentStatus,
    CriteriaSet,
    Criterion,
    Membership,
    Round,
    Stage,
    Unit,
    UnitGroup,
)
from scoring.roles import APPRAISER, ROLES, SECRETARIAT, UNIT_HEAD, UNIT_STAFF, ensure_roles

DATA = Path(scoring.__file__).resolve().parent / "demo" / "data"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
# When each year's results were announced (the 2023 decision: the seed article of 28-02-2024;
# the other days are illustrative).
PUBLISHED_AT = {
    2022: datetime(2023, 2, 24, 9, 0, tzinfo=HCM),
    2023: datetime(2024, 2, 28, 9, 0, tzinfo=HCM),
    2024: datetime(2025, 2, 26, 9, 0, tzinfo=HCM),
    2025: datetime(2026, 2, 25, 9, 0, tzinfo=HCM),
}
DEMO_PASSWORD = "demo"


class Command(BaseCommand):
    help = "Load the Cần Thơ demo data through the import commands (idempotent)."

    def run(self, *args, **kwargs) -> None:
        out = io.StringIO()
        call_command(*args, stdout=out, stderr=out, **kwargs)
        if self.verbosity > 1:
            self.stdout.write(out.getvalue().rstrip())

    def handle(self, *args, verbosity=1, **options):
        self.verbosity = verbosity
        self.stdout.write("Loading the Cần Thơ demo…")
        self.run("import_units", str(DATA / "units.csv"))
        order = {code: i for i, code in enumerate(UnitGroup.objects.values_list("code", flat=True))}
        rounds = {
            int(folder.name): sorted(
                (path for path in folder.iterdir() if path.is_dir()), key=lambda p: order[p.name]
            )
            for folder in sorted(DATA.iterdir())
            if folder.is_dir()
        }
        *published, open_year = rounds
        for year in published:
            for folder in rounds[year]:
                group = folder.name
                self.criteria_and_bands(folder, year)
                self.run("import_scores", str(folder / "scores.csv"), year=year, group=group)
                self.run("import_sipas", str(folder / "sipas.csv"), year=year, group=group)
                if Publication.objects.current(year, group) is None:
                    self.run("publish", year=year, group=group, published_at=PUBLISHED_AT[year])
            Round.objects.filter(year=year).update(stage=Stage.FINAL)
            # Every unit of a past round did submit: its staff page says so, not "Draft".
            Assessment.objects.filter(
                criteria_set__round__year=year, status=AssessmentStatus.DRAFT
            ).update(status=AssessmentStatus.SUBMITTED)
            groups = ", ".join(folder.name for folder in rounds[year])
            self.stdout.write(f"  {year}: published ({groups})")

        for folder in rounds[open_year]:
            self.criteria_and_bands(folder, open_year)
        open_round = self.open_round(open_year)
        self.create_accounts(open_round)
        self.stdout.write(self.style.SUCCESS("Demo loaded."))

    def criteria_and_bands(self, folder: Path, year: int) -> None:
        self.run("import_criteria", str(folder / "criteria.csv"), year=year, group=folder.name)
        if (folder / "bands.csv").exists():
            self.run("import_bands", str(folder / "bands.csv"), year=year, group=folder.name)

    @transaction.atomic
    def open_round(self, year: int) -> Round:
        """The year's round in self-assessment, deadlines from today, an assessment for every
        unit of its groups that has not ceased."""
        round_obj = Round.objects.get(year=year)
        if round_obj.stage == Stage.SETUP:
            round_obj.stage = Stage.SELF_ASSESSMENT
            # Deadlines from today, so the demo's workflow is open whenever it is loaded.
            today = timezone.localtime().replace(hour=17, minute=0, second=0, microsecond=0)
            round_obj.self_assessment_deadline = today + timedelta(days=30)
            round_obj.appraisal_1_deadline = today + timedelta(days=45)
            round_obj.explanation_deadline = today + timedelta(days=55)
            round_obj.appraisal_2_deadline = today + timedelta(days=65)
            round_obj.save()
        for criteria_set in CriteriaSet.objects.filter(round=round_obj):
            have = set(criteria_set.assessments.values_list("unit_id", flat=True))
            Assessment.objects.bulk_create(
                Assessment(criteria_set=criteria_set, unit=unit)
                for unit in Unit.objects.filter(
                    group=criteria_set.group, dissolved_on__isnull=True
                ).exclude(pk__in=have)
            )
        self.stdout.write(f"  {year}: self-assessment open")
        return round_obj

    @transaction.atomic
    def create_accounts(self, open_round: Round) -> None:
        """Demo accounts, all with the password "demo" (hashed once: it is the same for all):
        the council, the secretariat, and two for every unit of the open round."""
        password = make_password(DEMO_PASSWORD)
        ensure_roles()
        roles = {group.name: group for group in Group.objects.filter(name__in=ROLES)}

        def account(username, *, role=None, unit=None, **flags):
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": f"{username}@demo.cantho.invalid",
                    "password": password,
                    **flags,
                },
            )
            if role:
                user.groups.add(roles[role])
            if unit:
                Membership.objects.get_or_create(user=user, defaults={"unit": unit})
            return user

        account("admin", is_staff=True, is_superuser=True)
        account("secretariat", role=SECRETARIAT, is_staff=True, first_name="Tổ giúp việc")
        appraisers = {
            account("appraiser1", role=APPRAISER, is_staff=True): {"1", "2", "3", "4"},
            account("appraiser2", role=APPRAISER, is_staff=True): {"5", "6", "7", "8", "9"},
        }
        fields = Criterion.objects.filter(parent=None)
        AppraiserAssignment.objects.bulk_create(
            [
                AppraiserAssignment(user=user, field=field)
                for field in fields
                for user, codes in appraisers.items()
                if field.code in codes
            ],
            ignore_conflicts=True,
        )
        for unit in Unit.objects.filter(assessments__criteria_set__round=open_round).distinct():
            account(f"staff-{unit.code}", role=UNIT_STAFF, unit=unit)
            account(f"head-{unit.code}", role=UNIT_HEAD, unit=unit)
        self.stdout.write("  accounts: see `python manage.py demo_logins` (password: demo)")
