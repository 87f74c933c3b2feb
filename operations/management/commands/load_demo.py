"""Load the Cần Thơ demo: units, 2022 and 2023 published, 2024 in self-assessment (the data
files are made by ``scoring/demo/generate.py`` from ``outline.csv`` and ``targets.csv``).

Every file goes through the same import commands a secretariat would run (files under
``scoring/demo/data/``). Running it again changes nothing.
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
    CriteriaSet,
    Criterion,
    Membership,
    Round,
    Stage,
    Unit,
)
from scoring.roles import APPRAISER, ROLES, SECRETARIAT, UNIT_HEAD, UNIT_STAFF, ensure_roles

DATA = Path(scoring.__file__).resolve().parent / "demo" / "data"
GROUPS = ("departments", "districts")
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
# When each year's results were announced (the 2023 decision: the seed article of 28-02-2024).
PUBLISHED_AT = {
    2022: datetime(2023, 2, 24, 9, 0, tzinfo=HCM),
    2023: datetime(2024, 2, 28, 9, 0, tzinfo=HCM),
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
        for year in (2022, 2023):
            for group in GROUPS:
                folder = DATA / str(year) / group
                self.run("import_criteria", str(folder / "criteria.csv"), year=year, group=group)
                bands = folder / "bands.csv"
                if bands.exists():
                    self.run("import_bands", str(bands), year=year, group=group)
                self.run("import_scores", str(folder / "scores.csv"), year=year, group=group)
                self.run("import_sipas", str(folder / "sipas.csv"), year=year, group=group)
                if Publication.objects.current(year, group) is None:
                    self.run("publish", year=year, group=group, published_at=PUBLISHED_AT[year])
            Round.objects.filter(year=year).update(stage=Stage.FINAL)
            self.stdout.write(f"  {year}: published")

        for group in GROUPS:
            folder = DATA / "2024" / group
            self.run("import_criteria", str(folder / "criteria.csv"), year=2024, group=group)
            if (folder / "bands.csv").exists():
                self.run("import_bands", str(folder / "bands.csv"), year=2024, group=group)
        self.open_2024()
        self.create_accounts()
        self.stdout.write(self.style.SUCCESS("Demo loaded."))

    @transaction.atomic
    def open_2024(self) -> None:
        round_2024 = Round.objects.get(year=2024)
        if round_2024.stage == Stage.SETUP:
            round_2024.stage = Stage.SELF_ASSESSMENT
            # Deadlines from today, so the demo's workflow is open whenever it is loaded.
            today = timezone.localtime().replace(hour=17, minute=0, second=0, microsecond=0)
            round_2024.self_assessment_deadline = today + timedelta(days=30)
            round_2024.appraisal_1_deadline = today + timedelta(days=45)
            round_2024.explanation_deadline = today + timedelta(days=55)
            round_2024.appraisal_2_deadline = today + timedelta(days=65)
            round_2024.save()
        for criteria_set in CriteriaSet.objects.filter(round=round_2024):
            have = set(criteria_set.assessments.values_list("unit_id", flat=True))
            Assessment.objects.bulk_create(
                Assessment(criteria_set=criteria_set, unit=unit)
                for unit in Unit.objects.filter(group=criteria_set.group).exclude(pk__in=have)
            )
        self.stdout.write("  2024: self-assessment open")

    @transaction.atomic
    def create_accounts(self) -> None:
        """Demo accounts, all with the password "demo" (hashed once: it is the same for all)."""
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
        for unit in Unit.objects.all():
            account(f"staff-{unit.code}", role=UNIT_STAFF, unit=unit)
            account(f"head-{unit.code}", role=UNIT_HEAD, unit=unit)
        self.stdout.write("  accounts: see `python manage.py demo_logins` (password: demo)")
