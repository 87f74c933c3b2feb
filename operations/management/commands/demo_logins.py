from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from scoring.models import AppraiserAssignment

# The example units shown: a department and a ward of the demo.
EXAMPLES = ("-so-noi-vu", "-phuong-ninh-kieu")


class Command(BaseCommand):
    help = "List the accounts of the demo (all with the password 'demo')."

    def handle(self, *args, **options):
        users = get_user_model().objects.filter(is_active=True)
        unit_accounts = []
        for user in users.order_by("username").prefetch_related("groups"):
            if user.username.startswith(("staff-", "head-")):
                unit_accounts.append(user.username)
                continue
            roles = [group.name for group in user.groups.all()]
            if user.is_superuser:
                roles.insert(0, "superuser")
            fields = sorted(
                set(
                    AppraiserAssignment.objects.filter(user=user).values_list(
                        "field__code", flat=True
                    )
                ),
                key=lambda code: (len(code), code),
            )
            if fields:
                roles.append("fields " + ", ".join(fields))
            self.stdout.write(f"    {user.username:<14} {'; '.join(roles)}")
        if unit_accounts:
            self.stdout.write(
                "    every unit of the open round has staff-<unit code> (Cán bộ đơn vị)\n"
                "    and head-<unit code> (Lãnh đạo đơn vị), e.g.:"
            )
            for name in [n for n in unit_accounts if n.endswith(EXAMPLES)]:
                self.stdout.write(f"      {name}")
            self.stdout.write(f"    ({len(unit_accounts)} unit accounts in all)")
