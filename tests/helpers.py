"""Helpers shared by the tests that are not fixtures: snapshots of the database, reading forms
out of pages."""

from __future__ import annotations

from html.parser import HTMLParser

from django.apps import apps


def database_state(include_users: bool = False) -> dict:
    """Every row of every project table (and of users and groups), to prove that a refused
    command wrote nothing, or that a restore brought everything back."""
    state = {}
    models = [
        m for label in ("scoring", "rankings") for m in apps.get_app_config(label).get_models()
    ]
    if include_users:
        models += [apps.get_model("auth", "User"), apps.get_model("auth", "Group")]
    for model in models:
        fields = [f.attname for f in model._meta.concrete_fields]
        state[model._meta.label] = sorted(
            tuple(str(v) for v in row) for row in model.objects.values_list(*fields)
        )
    return state


class _FormReader(HTMLParser):
    """The fields a browser would post from the first ``<form method=post>`` of a page (or the
    one with ``form_id``)."""

    def __init__(self, form_id: str | None = None) -> None:
        super().__init__()
        self.form_id = form_id
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._done = False
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._done:
            return
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._in_form = self.form_id is None or attrs.get("id") == self.form_id
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.append((name, attrs.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._select_value, self._first_option = name, None, None
        elif tag == "option" and self._select:
            value = attrs.get("value") or ""
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                self._select_value = value
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            value = self._select_value if self._select_value is not None else self._first_option
            self.fields.append((self._select, value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def form_fields(html: str, form_id: str | None = None) -> list[tuple[str, str]]:
    """The (name, value) pairs the first POST form of ``html`` (or the form ``form_id``) would
    send as it stands."""
    reader = _FormReader(form_id)
    reader.feed(html)
    return reader.fields
