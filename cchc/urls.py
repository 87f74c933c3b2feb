from django.contrib import admin
from django.urls import include, path

from rankings.urls import api_patterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_patterns)),
    path("", include("rankings.urls")),
]
