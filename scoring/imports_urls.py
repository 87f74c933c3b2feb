"""URLs of the council's imports pages (mounted at /council/imports/ in cchc/urls.py)."""

from django.urls import path  # noqa: F401

app_name = "imports"

urlpatterns: list = []
