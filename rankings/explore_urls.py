"""Public URLs of the explore pages (included at the site's root in cchc/urls.py): the list of
units with its search, the comparison of units, the ranking on one field and an older version
of a publication (rankings/explore.py; docs/public-site.md)."""

from django.urls import path

from . import explore

urlpatterns = [
    path("units/", explore.units, name="units"),
    path("compare/<int:year>/<slug:group>/", explore.compare, name="compare"),
    path(
        "compare/<int:year>/<slug:group>/with/<slug:unit>/",
        explore.compare_with,
        name="compare_with",
    ),
    path(
        "rankings/<int:year>/<slug:group>/fields/<str:code>/",
        explore.field_ranking,
        name="field_ranking",
    ),
    path(
        "versions/<int:year>/<slug:group>/<int:number>/",
        explore.version,
        name="version",
    ),
]
