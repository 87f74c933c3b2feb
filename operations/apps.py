from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """Project-wide operations that belong to neither side: backup and restore, loading the
    demo, and the bulk insert used by imports and publishing at national scale. No models."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "operations"
    verbose_name = _("Operations")
