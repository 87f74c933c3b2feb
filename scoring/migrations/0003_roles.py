"""The four roles of the workflow as groups with their permissions (see scoring/permissions.py)."""

from django.db import migrations

# Role → permissions as "app_label.codename".
ROLES = {
    "Tổ giúp việc": [  # the secretariat: sets up rounds, imports, drives stages, publishes
        *[
            f"scoring.{action}_{model}"
            for model in (
                "unitgroup",
                "unit",
                "round",
                "criteriaset",
                "criterion",
                "band",
                "sipasresult",
                "membership",
                "appraiserassignment",
            )
            for action in ("view", "add", "change")
        ],
        *[
            f"scoring.view_{model}"
            for model in ("assessment", "score", "evidence", "transition")
        ],
        "scoring.drive_stages",
        "rankings.view_publication",
        "rankings.add_publication",
        "auth.view_user",
    ],
    "Hội đồng thẩm định": [  # council members: appraise the fields assigned to them
        "scoring.appraise",
        "scoring.view_assessment",
        "scoring.view_score",
        "scoring.view_evidence",
        "scoring.view_round",
        "scoring.view_criteriaset",
        "scoring.view_criterion",
        "scoring.view_unit",
        "rankings.view_publication",
    ],
    "Cán bộ đơn vị": ["scoring.self_assess"],  # unit staff
    "Lãnh đạo đơn vị": ["scoring.self_assess", "scoring.submit_assessment"],  # unit head
}


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = []
        for code in codes:
            app_label, codename = code.split(".")
            permissions.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0002_workflow"),
        ("rankings", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
