from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "List the demo accounts (all with the password 'demo')."

    def handle(self, *args, **options):
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        for user in users.prefetch_related("groups"):
            roles = ", ".join(group.name for group in user.groups.all())
            if user.is_superuser:
                roles = ", ".join(filter(None, ["superuser", roles]))
            self.stdout.write(f"    {user.username:<48} {roles}")
