from django.urls import path

from . import api, views

app_name = "rankings"

urlpatterns = [
    path("", views.home, name="home"),
]

api_patterns = (
    [
        path("", api.index, name="index"),
        path("rankings/<int:year>/<slug:group>/", api.rankings, name="rankings"),
        path("sipas/<int:year>/<slug:group>/", api.sipas, name="sipas"),
    ],
    "api",
)
