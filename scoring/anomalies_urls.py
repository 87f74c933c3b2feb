"""URLs of the council's anomalies pages (mounted at /council/anomalies/ in cchc/urls.py)."""

from django.contrib import admin
from django.urls import path

from . import anomaly_views

app_name = "anomalies"

urlpatterns: list = [
    path("", admin.site.admin_view(anomaly_views.index), name="index"),
    path("<int:year>/", admin.site.admin_view(anomaly_views.board), name="board"),
]
