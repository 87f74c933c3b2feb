"""Strings of Django's admin and of the libraries it shows (simple-history, axes) that their own
Vietnamese catalogues lack (or translate badly: "History" is "Bản ghi nhớ" there), so that an
admin page read in Vietnamese has no English left.

Their translations are in the project's catalogue (locale/vi), which wins over the libraries'
own (``LOCALE_PATHS``). Listing the msgids here keeps them in it: ``makemessages
--no-obsolete`` (``make messages``) drops any msgid that no source file carries. Nothing imports
this module; tests/test_admin_language.py checks the pages.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

ADMIN_STRINGS = (
    # django.contrib.admin: every page
    _("Skip to main content"),
    _("Toggle theme (current theme: auto)"),
    _("Toggle theme (current theme: light)"),
    _("Toggle theme (current theme: dark)"),
    _("Breadcrumbs"),
    _("Toggle navigation"),
    _("Sidebar"),
    _("Filter navigation items"),
    _("Model name"),
    _("Add link"),
    _("Change or view list link"),
    _("History"),
    # change lists, filters, forms, history
    _("Select all objects on this page for an action"),
    _("Select this object for an action - {}"),
    _("Show counts"),
    _("Hide counts"),
    _("View selected %(model)s"),
    _("Error:"),
    _("Added:"),
    _("Changed:"),
    _("Deleted:"),
    ngettext_lazy("entry", "entries"),
    _("Forgotten your login credentials?"),
    # django.contrib.auth: user pages
    _("After you’ve created a user, you’ll be able to edit more user options."),
    _("Set password"),
    _("Reset password"),
    _("Set password: %s"),
    _("Password-based authentication"),
    _("Password-based authentication was disabled."),
    _("Enable password-based authentication"),
    _("Disable password-based authentication"),
    _("Enable password-based authentication for this user by setting a password."),
    _("Enabled"),
    _("Disabled"),
    _(
        "Whether the user will be able to authenticate using a password or not. If disabled, "
        "they may still be able to authenticate using other backends, such as Single Sign-On "
        "or LDAP."
    ),
    _("Raw passwords are not stored, so there is no way to see the user’s password."),
    _("Conflicting form data submitted. Please try again."),
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
    ),
    # simple-history: history pages (it has no Vietnamese catalogue)
    _("Change history: %s"),
    _("View history: %s"),
    _("View %s"),
    _("Revert %s"),
    _("View %(verbose_name)s"),
    _("Revert %(verbose_name)s"),
    _("Object"),
    _("Comment"),
    _("Changed by"),
    _("Change reason"),
    _("Changes"),
    _("Revert"),
    _("Change History"),
    _("Close"),
    _("This object doesn't have a change history."),
    _("Choose a date from the list below to revert to a previous version of this object."),
    _("Press the 'Revert' button below to revert to this version of the object."),
    _("Press the 'Change History' button below to edit the history."),
    _("You may edit it again below"),
    _('The %(name)s "%(obj)s" was changed successfully.'),
    _("Created"),
    _("Deleted"),
    _("Deleted %(type_name)s"),
    # axes: the login-throttling tables (superusers)
    _("access attempt"),
    _("access attempts"),
    _("access failure"),
    _("access failures"),
    _("access log"),
    _("access logs"),
    _("access attempt expiration"),
    _("access attempt expirations"),
    _("Access Attempt"),
    _("Access lock out"),
    _("Attempt Time"),
    _("Logout Time"),
    _("IP Address"),
    _("User Agent"),
    _("Username"),
    _("Path"),
    _("Failed Logins"),
    _("Attempt Remaining"),
    _("Locked Out"),
    _("Expires At"),
    _("Not set"),
    _("Form Data"),
    _("Meta Data"),
    _("GET Data"),
    _("POST Data"),
    _("Session key hash (sha256)"),
    _("The time when access attempt expires and is no longer valid."),
    _("Clean up expired attempts"),
    _("Account locked: too many login attempts. Please try again later."),
    _("Account locked: too many login attempts. Contact an admin to unlock your account."),
)
