"""Public URLs of the official pages (included at the site's root in cchc/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
