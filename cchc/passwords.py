"""Changing one's own password, throttled like logging in.

The page asks for the current password. Without a limit, somebody holding a signed-in session
(a borrowed office PC, a stolen cookie) could try passwords there as fast as the server answers,
and learn the one that opens the account everywhere. Here a wrong current password is a failed
login for django-axes (``cchc.throttling``): it counts against the account from this address and
against the address, with the same limits, and the same successful-login reset. When the limit
is reached, the session is ended and the lockout page shown (429), as a login would be refused;
a locked account or address cannot try again until the cool-off has passed.

The admin's own password page (``/admin/password_change/``) sends to this one: one password page
for everybody, like the one login page.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.contrib.auth import logout
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.shortcuts import redirect


class ThrottledPasswordChangeForm(PasswordChangeForm):
    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def credentials(self) -> dict:
        return {"username": self.user.get_username()}

    def clean_old_password(self):
        try:
            return super().clean_old_password()
        except ValidationError:
            # A failed login for axes: counted, and the request marked when it locks.
            user_login_failed.send(
                sender=__name__, credentials=self.credentials(), request=self.request
            )
            raise


class PasswordChange(PasswordChangeView):
    form_class = ThrottledPasswordChangeForm
    template_name = "registration/password_change.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def post(self, request, *args, **kwargs):
        credentials = {"username": request.user.get_username()}
        if AxesProxyHandler.is_locked(request, credentials):
            return self._locked(request, credentials)
        response = super().post(request, *args, **kwargs)
        if getattr(request, "axes_locked_out", False):
            return self._locked(request, credentials)
        return response

    def _locked(self, request, credentials):
        logout(request)
        request.axes_locked_out = False  # answered here, not again by axes' middleware
        return get_lockout_response(request, None, credentials)


def admin_password_change(request):
    """``/admin/password_change/``: the one password page, for a GET and a POST alike."""
    return redirect("password_change")
