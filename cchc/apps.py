"""App configurations the project gives the libraries it installs."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class ThrottlingConfig(AxesAppConfig):
    """django-axes (login throttling) under a name the admin shows in the reader's language;
    axes gives none, so its section of the admin was headed "Axes" in Vietnamese too. Same app
    label (``axes``): tables, migrations and admin addresses are unchanged."""

    verbose_name = _("Login throttling")
