"""URLs of the council's imports pages (mounted at /council/imports/ in cchc/urls.py): the
secretariat's imports in the browser (``scoring.import_views``)."""

from django.urls import path

from . import import_views as views

app_name = "imports"

view = views.secretariat_view

urlpatterns = [
    path("", view(views.index), name="index"),
    path("examples/<str:name>", view(views.example), name="example"),
    path("<slug:slug>/", view(views.upload), name="upload"),
    path("<slug:slug>/<str:token>/", view(views.preview), name="preview"),
    path("<slug:slug>/<str:token>/confirm/", view(views.confirm), name="confirm"),
    path("<slug:slug>/<str:token>/cancel/", view(views.cancel), name="cancel"),
]
