from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from operations.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore an archive made by `backup` into an empty, migrated database (run migrate "
        "first). Every part is checked; any difference undoes the whole restore."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive")

    def handle(self, *args, archive, **options):
        try:
            manifest = restore_backup(Path(archive))
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"restored {sum(manifest['counts'].values())} rows, {len(manifest['files'])} files, "
            f"{len(manifest['publications'])} publications (made {manifest['created_at']})"
        )
