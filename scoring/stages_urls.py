"""URLs of the council's stages pages (mounted at /council/stages/ in cchc/urls.py)."""

from django.contrib import admin
from django.urls import path

from . import stage_views

app_name = "stages"

urlpatterns = [
    path(
        "<int:year>/",
        admin.site.admin_view(stage_views.stage_wizard_view),
        name="wizard",
    ),
]
