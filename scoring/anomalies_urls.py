"""URLs of the council's anomalies pages (mounted at /council/anomalies/ in cchc/urls.py)."""

from django.urls import path  # noqa: F401

app_name = "anomalies"

urlpatterns: list = []
