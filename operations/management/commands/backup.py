from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from operations.backup import BackupError, make_backup


class Command(BaseCommand):
    help = (
        "Write a complete, versioned archive of the data and the evidence files (.tar.gz). It "
        "holds password hashes and private evidence: store it as safely as the database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            default=None,
            help="archive path (default: backups/cchc-<date and time>.tar.gz)",
        )

    def handle(self, *args, output=None, **options):
        path = Path(output or f"backups/cchc-{datetime.now():%Y%m%d-%H%M%S}.tar.gz")
        try:
            manifest = make_backup(path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        rows = sum(manifest["counts"].values())
        self.stdout.write(
            f"{path}: {rows} rows, {len(manifest['files'])} files, "
            f"{len(manifest['publications'])} publications"
        )
