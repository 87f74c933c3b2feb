"""Public URLs of the official pages (included at the site's root in cchc/urls.py): the year's
decision, a unit's badge, preview images (its latest and of a year) and report card, and the
site's preview image."""

from django.urls import path

from . import official

app_name = "official"

urlpatterns = [
    path("decisions/<int:year>.docx", official.decision_docx, name="decision_docx"),
    path("decisions/<int:year>.pdf", official.decision_pdf, name="decision_pdf"),
    path("units/<slug:unit>/badge.svg", official.badge, name="badge"),
    path("units/<slug:unit>/card.png", official.unit_card, name="unit_card"),
    path("units/<slug:unit>/<int:year>/card.png", official.unit_year_card, name="unit_year_card"),
    path("units/<slug:unit>/<int:year>/report/", official.report, name="report"),
    path("card.png", official.site_card, name="site_card"),
]
