"""URLs of the council's stages pages (mounted at /council/stages/ in cchc/urls.py)."""

from django.urls import path  # noqa: F401

app_name = "stages"

urlpatterns: list = []
