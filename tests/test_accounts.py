"""Every signed-in user (unit staff especially) changes their own password."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

OLD = "the-old-password-1"
NEW = "a-new-Password-for-2025"


@pytest.fixture
def staff():
    return User.objects.create_user("staff-so-noi-vu", password=OLD)


def log_in(username, password):
    """A browser that tried to log in through the login page."""
    client = Client()
    client.post("/accounts/login/", {"username": username, "password": password})
    return client


def logged_in(username, password):
    client = log_in(username, password)
    assert "_auth_user_id" in client.session
    return client


def can_log_in(username, password):
    return "_auth_user_id" in log_in(username, password).session


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get("/accounts/password/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/password/"
    assert client.get("/accounts/password/done/").status_code == 302


def test_the_header_links_to_the_password_page_for_signed_in_users_only(client, staff):
    assert 'href="/accounts/password/"' not in client.get("/").content.decode()
    client.force_login(staff)
    assert 'href="/accounts/password/"' in client.get("/").content.decode()


def test_the_page_labels_every_field_in_vietnamese(client, staff):
    client.force_login(staff)
    page = client.get("/accounts/password/").content.decode()
    assert "<h1>Đổi mật khẩu</h1>" in page
    for field, label in [
        ("id_old_password", "Mật khẩu cũ"),
        ("id_new_password1", "Mật khẩu mới"),
        ("id_new_password2", "Xác nhận mật khẩu mới"),
    ]:
        assert f'<label for="{field}">{label}</label>' in page
    assert 'aria-describedby="id_new_password1_helptext"' in page  # the password rules
    assert 'id="id_new_password1_helptext"' in page


def test_a_staff_user_changes_their_password(staff):
    client = logged_in(staff.username, OLD)
    elsewhere = logged_in(staff.username, OLD)  # the same account on another device
    response = client.post(
        "/accounts/password/",
        {"old_password": OLD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/done/"
    done = client.get("/accounts/password/done/")
    assert done.status_code == 200
    assert "Mật khẩu của bạn đã được đổi" in done.content.decode()
    assert int(client.session["_auth_user_id"]) == staff.pk  # still signed in here
    assert client.get("/assessments/").status_code == 200
    assert elsewhere.get("/assessments/").status_code == 302  # signed out elsewhere
    assert can_log_in(staff.username, NEW)
    assert not can_log_in(staff.username, OLD)


def test_a_wrong_old_password_changes_nothing(staff):
    client = logged_in(staff.username, OLD)
    hash_before = User.objects.get(pk=staff.pk).password
    response = client.post(
        "/accounts/password/",
        {"old_password": "not-the-old-one", "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Mật khẩu chưa được đổi" in page
    assert '<ul class="errorlist" id="id_old_password_error">' in page  # beside the field
    assert "Mật khẩu cũ không chính xác" in page
    assert 'aria-invalid="true"' in page
    assert User.objects.get(pk=staff.pk).password == hash_before
    assert can_log_in(staff.username, OLD)
    assert not can_log_in(staff.username, NEW)


def test_the_new_password_must_pass_the_validators(staff):
    client = logged_in(staff.username, OLD)
    hash_before = User.objects.get(pk=staff.pk).password
    response = client.post(
        "/accounts/password/",
        {"old_password": OLD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert '<ul class="errorlist" id="id_new_password2_error">' in page
    assert "Mật khẩu này quá phổ biến." in page
    assert User.objects.get(pk=staff.pk).password == hash_before


def test_the_form_needs_its_csrf_token(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.post(
        "/accounts/password/",
        {"old_password": OLD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 403
    assert User.objects.get(pk=staff.pk).check_password(OLD)


def wrong_old_password(client):
    return client.post(
        "/accounts/password/",
        {"old_password": "guess-" + NEW, "new_password1": NEW, "new_password2": NEW},
    )


def test_wrong_old_passwords_are_throttled_like_logins(staff, settings):
    """A signed-in session cannot be used to try passwords: the fifth wrong current password
    ends the session and shows the lockout page; the account cannot log in from that address
    for the cool-off, not even with the right password; nothing was changed."""
    assert settings.AXES_FAILURE_LIMIT == 5
    hash_before = User.objects.get(pk=staff.pk).password
    client = logged_in(staff.username, OLD)
    for _attempt in range(4):
        assert wrong_old_password(client).status_code == 200  # the form, with the error
    locked = wrong_old_password(client)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session  # signed out
    assert User.objects.get(pk=staff.pk).password == hash_before
    assert not can_log_in(staff.username, OLD)
    # Another session of the same account, from the same address: refused before any check,
    # even with the right password.
    assert wrong_old_password(client).status_code == 302  # signed out: to the login page


def test_a_locked_account_cannot_change_its_password_from_another_session(staff, settings):
    """Failures counted at the login page count here too: an account locked from this address
    is refused on the password page even with the right current password."""
    client = logged_in(staff.username, OLD)
    for _attempt in range(5):
        log_in(staff.username, "wrong-" + OLD)
    hash_before = User.objects.get(pk=staff.pk).password
    response = client.post(
        "/accounts/password/",
        {"old_password": OLD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 429
    assert User.objects.get(pk=staff.pk).password == hash_before
    assert "_auth_user_id" not in client.session


def test_the_right_old_password_after_a_few_wrong_ones_still_works(staff):
    client = logged_in(staff.username, OLD)
    for _attempt in range(3):
        wrong_old_password(client)
    response = client.post(
        "/accounts/password/",
        {"old_password": OLD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/password/done/"
    assert can_log_in(staff.username, NEW)


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_admins_password_page_sends_to_the_throttled_one(staff, method):
    """``/admin/password_change/`` is not a second, unthrottled way to try passwords."""
    staff.is_staff = True
    staff.save()
    client = logged_in(staff.username, OLD)
    hash_before = User.objects.get(pk=staff.pk).password
    response = getattr(client, method)(
        "/admin/password_change/",
        {"old_password": OLD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/password/"
    assert User.objects.get(pk=staff.pk).password == hash_before
