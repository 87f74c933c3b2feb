"""The four roles of the workflow: groups and their permissions (see ``permissions``).

Created by migration 0003; ``ensure_roles`` also repairs them (``load_demo`` calls it, so the
demo loads even into a database whose groups were emptied).
"""

from __future__ import annotations

SECRETARIAT = "Tổ giúp việc"
APPRAISER = "Hội đồng thẩm định"
UNIT_STAFF = "Cán bộ đơn vị"
UNIT_HEAD = "Lãnh đạo đơn vị"
ROLES = (SECRETARIAT, APPRAISER, UNIT_STAFF, UNIT_HEAD)

# Role → permissions as "app_label.codename".
ROLE_PERMISSIONS = {
    SECRETARIAT: [  # sets up rounds, imports, drives stages, publishes
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
        *[f"scoring.view_{model}" for model in ("assessment", "score", "evidence", "transition")],
        "scoring.drive_stages",
        "rankings.view_publication",
        "rankings.add_publication",
        "auth.view_user",
    ],
    APPRAISER: [  # council members: appraise the fields assigned to them
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
    UNIT_STAFF: ["scoring.self_assess"],
    UNIT_HEAD: ["scoring.self_assess", "scoring.submit_assessment"],
}


def ensure_roles(group_model=None, permission_model=None) -> None:
    """Create or repair the role groups (the models may be a migration's historical ones)."""
    if group_model is None:
        from django.contrib.auth.models import Group, Permission

        group_model, permission_model = Group, Permission
    for name, codes in ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=name)
        permissions = []
        for code in codes:
            app_label, codename = code.split(".")
            permissions.append(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(permissions)
