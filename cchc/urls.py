from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cchc import health, language, passwords
from rankings.urls import api_patterns
from scoring.start_views import admin_login, start_view

urlpatterns = [
    path("health/", health.ready, name="health"),
    path("health/live/", health.live, name="health_live"),
    # One login page for everybody: the admin's own sends there, keeping where to go next.
    path("admin/login/", admin_login, name="admin_login"),
    # One password page for everybody, throttled like the login (cchc/passwords.py).
    path("admin/password_change/", passwords.admin_password_change),
    path("admin/", admin.site.urls),
    path("work/", start_view, name="start"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", passwords.PasswordChange.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("language/<str:code>/", language.switch, name="language"),
    path("council/imports/", include("scoring.imports_urls")),
    path("council/anomalies/", include("scoring.anomalies_urls")),
    path("council/stages/", include("scoring.stages_urls")),
    path("api/v1/", include(api_patterns)),
    path("", include("scoring.urls")),
    path("", include("rankings.explore_urls")),
    path("", include("rankings.official_urls")),
    path("", include("rankings.urls")),
]
