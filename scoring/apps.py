from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scoring"
    verbose_name = _("Scoring: units, rounds, criteria and appraisal")

    def ready(self):
        from django.db.backends.signals import connection_created

        from cchc.database import without_jit

        connection_created.connect(without_jit, dispatch_uid="cchc-without-jit")
