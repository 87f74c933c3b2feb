from django.urls import path

from . import api, views

app_name = "rankings"

urlpatterns = [
    path("", views.home, name="home"),
    path("rankings/<int:year>/<slug:group>/", views.ranking, name="ranking"),
    path("sipas/<int:year>/<slug:group>/", views.sipas, name="sipas"),
    path("units/<slug:unit>/", views.unit, name="unit"),
    path("methodology/<int:year>/<slug:group>/", views.methodology, name="methodology"),
    path("versions/<int:year>/<slug:group>/", views.versions, name="versions"),
    path("data/<int:year>/", views.open_data, name="open_data"),
]

api_patterns = (
    [
        path("", api.index, name="index"),
        path("rankings/<int:year>/<slug:group>/", api.rankings, name="rankings"),
        path("sipas/<int:year>/<slug:group>/", api.sipas, name="sipas"),
        path("units/<slug:unit>/", api.unit, name="unit"),
    ],
    "api",
)
