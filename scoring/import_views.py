"""The secretariat's imports in the browser: upload a file, see what it would change, confirm.

Every page runs the very importers of the commands (``scoring.importers``), so a file is
checked by the same rules and refused with the same ``row N, column C: …`` problems. The
preview runs the import inside a transaction that is rolled back: the importers write nothing
but rows (no e-mail, no file, no cache; an ``on_commit`` hook registered inside a rolled-back
block is dropped by Django), so rolling back undoes all of it. Confirm runs the import again,
for real, from the same file: its own all-or-nothing transaction, and its own checks against
the database as it is then.

Between preview and confirm the uploaded file waits under ``MEDIA_ROOT/imports-pending/``,
named by a random token that only the uploader's session knows, with its SHA-256 checked again
at confirm; it is deleted after confirm or cancel (and any left behind after a day). No path
ever comes from the client. Only the secretariat (``permissions.is_secretariat``) reaches
these pages; the admin's login guards them first.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .importers import (
    ImportFailed,
    bands,
    criteria,
    import_bands,
    import_criteria,
    import_scores,
    import_sipas,
    import_sipas_answers,
    import_units,
    scores,
    sipas,
    units,
)
from .importers.base import MAX_FILE_BYTES
from .models import SIPAS_ELEMENTS, Band, Criterion, Round, Score, SipasResult, Unit, UnitGroup
from .permissions import is_secretariat

logger = logging.getLogger("cchc.imports")

PENDING_FOLDER = "imports-pending"
SESSION_KEY = "imports_pending"
TOKEN = re.compile(r"^[0-9a-f]{32}$")
EXTENSIONS = (".csv", ".xlsx")
# A file left by a preview nobody confirmed or cancelled is deleted after a day.
PENDING_SECONDS = 24 * 60 * 60
# The preview lists the first changed rows, read from the tables before and after the dry
# run; above this many rows in the part of a table an import touches, only the counts.
SAMPLE_ROWS = 10
SAMPLE_LIMIT = 20_000
# A refused file lists at most this many problems on the page (the count says how many).
PROBLEMS_SHOWN = 500
EXAMPLES = settings.BASE_DIR / "docs" / "examples"


def upload_limit() -> int:
    """The largest file the page accepts: ``IMPORT_UPLOAD_MAX_BYTES`` if set, else 50 MB (a
    national scores file of 300,000 rows is about 15 MB as CSV), never above the importers'."""
    return min(getattr(settings, "IMPORT_UPLOAD_MAX_BYTES", 50 * 1024 * 1024), MAX_FILE_BYTES)


# What the preview compares, per kind of import: the rows it may change, keyed as the file
# keys them, each as {column: text}. None when that part of the table is too large to compare.
Snapshot = dict[str, dict[str, str]] | None


def _text(value) -> str:
    return "" if value is None else str(value)


def _units_snapshot(year, group) -> Snapshot:
    if Unit.objects.count() > SAMPLE_LIMIT:
        return None
    successors: dict[int, list[str]] = {}
    for unit_id, code in Unit.successors.through.objects.values_list(
        "from_unit_id", "to_unit__code"
    ):
        successors.setdefault(unit_id, []).append(code)
    return {
        code: {
            "name": name,
            "group": group_code,
            "short_name": short_name,
            "successor": ";".join(sorted(successors.get(pk, []))),
            "dissolved_on": _text(dissolved_on),
            "dissolved_reason": reason,
        }
        for pk, code, name, group_code, short_name, dissolved_on, reason in (
            Unit.objects.values_list(
                "pk",
                "code",
                "name",
                "group__code",
                "short_name",
                "dissolved_on",
                "dissolved_reason",
            )
        )
    }


def _criteria_snapshot(year, group) -> Snapshot:
    rows = Criterion.objects.filter(
        criteria_set__round__year=year, criteria_set__group__code=group
    ).values_list("code", "parent__code", "title", "max_points", "kind", "previous__code")
    return {
        code: {
            "parent": _text(parent),
            "title": title,
            "max_points": _text(max_points),
            "kind": kind,
            "previous_code": _text(previous),
        }
        for code, parent, title, max_points, kind, previous in rows
    }


def _bands_snapshot(year, group) -> Snapshot:
    rows = Band.objects.filter(
        criteria_set__round__year=year, criteria_set__group__code=group
    ).values_list("code", "label", "min_index")
    return {code: {"label": label, "min_index": _text(bound)} for code, label, bound in rows}


def _scores_snapshot(year, group) -> Snapshot:
    scores_of_set = Score.objects.filter(
        assessment__criteria_set__round__year=year,
        assessment__criteria_set__group__code=group,
    )
    if scores_of_set.count() > SAMPLE_LIMIT:
        return None
    snapshot = {}
    for unit, code, own, first, second, na, own_figure, figure in scores_of_set.values_list(
        "assessment__unit__code",
        "criterion__code",
        "self_score",
        "appraisal_1",
        "appraisal_2",
        "not_applicable",
        "self_figure",
        "figure_1",
    ):
        final = "na" if na else _text(second if second is not None else first)
        snapshot[f"{unit} · {code}"] = {
            "self_score": _text(own),
            "final_score": final,
            "self_figure": _text(own_figure),
            "final_figure": _text(figure),
        }
    return snapshot


def _sipas_snapshot(year, group) -> Snapshot:
    rows = SipasResult.objects.filter(round__year=year, group__code=group).values_list(
        "unit__code", *SIPAS_ELEMENTS, "index"
    )
    return {
        unit: dict(zip((*SIPAS_ELEMENTS, "index"), map(_text, values), strict=True))
        for unit, *values in rows
    }


@dataclass(frozen=True)
class ImportKind:
    """One import as the pages offer it: the same importer and columns as its command."""

    slug: str
    title: str
    summary: str
    importer: Callable
    per_set: bool
    required: tuple[str, ...]
    optional: tuple[str, ...]
    example: str
    snapshot: Callable[[int | None, str | None], Snapshot]
    command: str
    columns_note: str = ""
    warning: str = ""


KINDS = (
    ImportKind(
        slug="units",
        title=gettext_lazy("Units and groups"),
        summary=gettext_lazy(
            "The units and their groups, for every year; mergers and units that ceased."
        ),
        importer=import_units,
        per_set=False,
        required=units.REQUIRED,
        optional=units.OPTIONAL,
        example="units.csv",
        snapshot=_units_snapshot,
        command="import_units",
        warning=gettext_lazy("Units missing from the file are left as they are."),
    ),
    ImportKind(
        slug="criteria",
        title=gettext_lazy("Criteria"),
        summary=gettext_lazy(
            "The criteria tree of one group for one year; creates the round and the set if needed."
        ),
        importer=import_criteria,
        per_set=True,
        required=criteria.REQUIRED,
        optional=criteria.OPTIONAL,
        example="criteria.csv",
        snapshot=_criteria_snapshot,
        command="import_criteria",
        warning=gettext_lazy(
            "The file is the whole tree: criteria of the set that are not in the file are "
            "removed. Refused once the set has scores or a publication."
        ),
    ),
    ImportKind(
        slug="bands",
        title=gettext_lazy("Classification bands"),
        summary=gettext_lazy("The bands (label and lower bound) of one group's set for one year."),
        importer=import_bands,
        per_set=True,
        required=bands.REQUIRED,
        optional=(),
        example="bands.csv",
        snapshot=_bands_snapshot,
        command="import_bands",
        warning=gettext_lazy("The file replaces all the bands of the set."),
    ),
    ImportKind(
        slug="scores",
        title=gettext_lazy("Scores"),
        summary=gettext_lazy(
            "Self and final scores of units on the leaves of a set: past years, or scores "
            "decided outside the software."
        ),
        importer=import_scores,
        per_set=True,
        required=scores.REQUIRED,
        optional=scores.OPTIONAL,
        example="scores.csv",
        snapshot=_scores_snapshot,
        command="import_scores",
        warning=gettext_lazy(
            "The final score is written as the round-1 appraisal and any round-2 appraisal of "
            "these leaves is cleared; the history of each score keeps what was there."
        ),
    ),
    ImportKind(
        slug="survey-points",
        title=gettext_lazy("Survey points"),
        summary=gettext_lazy(
            "Points of the sociological survey on the survey leaves: the scores import, with "
            "the final score only."
        ),
        importer=import_scores,
        per_set=True,
        required=scores.REQUIRED,
        optional=scores.OPTIONAL,
        example="survey-points.csv",
        snapshot=_scores_snapshot,
        command="import_scores",
        warning=gettext_lazy(
            "Survey leaves take no self score: leave self_score empty. A leaf fed from SIPAS "
            "takes no points at all: import SIPAS instead."
        ),
    ),
    ImportKind(
        slug="sipas",
        title=gettext_lazy("SIPAS results"),
        summary=gettext_lazy(
            "The five element percentages of each unit's satisfaction survey (SIPAS)."
        ),
        importer=import_sipas,
        per_set=True,
        required=sipas.REQUIRED,
        optional=(),
        example="sipas.csv",
        snapshot=_sipas_snapshot,
        command="import_sipas",
    ),
    ImportKind(
        slug="sipas-answers",
        title=gettext_lazy("SIPAS questionnaires"),
        summary=gettext_lazy(
            "SIPAS computed from individual questionnaires: one row per questionnaire, answers "
            "1 to 5."
        ),
        importer=import_sipas_answers,
        per_set=True,
        required=("unit",),
        optional=("respondent",),
        example="sipas-answers.csv",
        snapshot=_sipas_snapshot,
        command="import_sipas_answers",
        columns_note=gettext_lazy(
            "and one column per question, named after its element: access, access_2, "
            "procedure_1, civil_servants_1, result_1, feedback_1"
        ),
    ),
)
BY_SLUG = {kind.slug: kind for kind in KINDS}


def _kind(slug: str) -> ImportKind:
    try:
        return BY_SLUG[slug]
    except KeyError:
        raise Http404 from None


def secretariat_view(view):
    """The admin's login and staff check, then the secretariat only (403 for other staff)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_secretariat(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return admin.site.admin_view(wrapped)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (CSV or XLSX)"),
        allow_empty_file=True,  # the importer says "the file is empty", as the command does
        widget=forms.FileInput(attrs={"accept": ",".join(EXTENSIONS)}),
    )
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    group = forms.ChoiceField(label=gettext_lazy("Group"))

    def __init__(self, *args, kind: ImportKind, **kwargs):
        super().__init__(*args, **kwargs)
        if kind.per_set:
            self.fields["group"].choices = [
                ("", "---------"),
                *(
                    (code, f"{name} ({code})")
                    for code, name in UnitGroup.objects.values_list("code", "name")
                ),
            ]
            latest = Round.objects.order_by("-year").values_list("year", flat=True).first()
            self.fields["year"].initial = latest or timezone.localdate().year
        else:
            del self.fields["year"]
            del self.fields["group"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()
        if suffix not in EXTENSIONS:
            raise forms.ValidationError(
                _("unsupported file type %(suffix)r: use .csv or .xlsx")
                % {"suffix": suffix or upload.name}
            )
        limit = upload_limit()
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB, the most this page accepts.")
                % {"size": limit // (1024 * 1024)}
            )
        return upload


# ---------------------------------------------------------------------------------------------
# The waiting file


def _folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / PENDING_FOLDER
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _pending_path(token: str, suffix: str) -> Path:
    """The only place a waiting file can be: the token and suffix were made by the server."""
    if not TOKEN.match(token) or suffix not in EXTENSIONS:
        raise Http404
    return _folder() / f"{token}{suffix}"


def _store(upload) -> tuple[str, str, str]:
    """Write the upload to a new private file; (token, suffix, SHA-256)."""
    token, suffix = secrets.token_hex(16), Path(upload.name).suffix.lower()
    path = _pending_path(token, suffix)
    digest = hashlib.sha256()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as target:
        for chunk in upload.chunks():
            digest.update(chunk)
            target.write(chunk)
    return token, suffix, digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _forget_old_files() -> None:
    limit = time.time() - PENDING_SECONDS
    for path in _folder().iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
        except OSError:  # another request deleted it first
            pass


def _pending(request) -> dict:
    return request.session.get(SESSION_KEY, {})


def _entry(request, kind: ImportKind, token: str) -> dict:
    entry = _pending(request).get(token) if TOKEN.match(token) else None
    if entry is None or entry["kind"] != kind.slug or entry["user"] != request.user.pk:
        raise Http404
    return entry


def _discard(request, token: str) -> None:
    pending = _pending(request)
    entry = pending.pop(token, None)
    request.session[SESSION_KEY] = pending
    if entry is not None:
        _pending_path(token, entry["suffix"]).unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# Running an import


class _DryRun(Exception):
    """Raised after a preview's import, to roll back everything it wrote."""


def _arguments(kind: ImportKind, year, group) -> dict:
    return {"year": year, "group": group} if kind.per_set else {}


def _changes(before: Snapshot, after: Snapshot) -> list[dict] | None:
    """The first changed rows: created, then updated (only the columns that changed), then
    deleted, each in key order."""
    if before is None or after is None:
        return None
    rows = []
    for key in sorted(after.keys() - before.keys()):
        rows.append({"change": "created", "key": key, "before": [], "after": _cells(after[key])})
    for key in sorted(after.keys() & before.keys()):
        old, new = before[key], after[key]
        changed = [column for column in new if old.get(column) != new[column]]
        if changed:
            rows.append(
                {
                    "change": "updated",
                    "key": key,
                    "before": [(column, old.get(column, "")) for column in changed],
                    "after": [(column, new[column]) for column in changed],
                }
            )
    for key in sorted(before.keys() - after.keys()):
        rows.append({"change": "deleted", "key": key, "before": _cells(before[key]), "after": []})
    return rows[:SAMPLE_ROWS]


def _cells(values: dict[str, str]) -> list[tuple[str, str]]:
    return [(column, value) for column, value in values.items() if value != ""]


def dry_run(kind: ImportKind, path: Path, year, group) -> tuple[dict, list[dict] | None]:
    """What the import of ``path`` would do: its report and the first changed rows, with
    everything it wrote rolled back. Raises ``ImportFailed`` like the import."""
    outcome = {}
    try:
        with transaction.atomic():
            before = kind.snapshot(year, group)
            report = kind.importer(str(path), **_arguments(kind, year, group))
            after = kind.snapshot(year, group) if before is not None else None
            outcome = {
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "deleted": report.deleted,
                "lines": [str(line) for line in report.lines],
            }
            sample = _changes(before, after)
            raise _DryRun
    except _DryRun:
        pass
    return outcome, sample


def _problems(failure: ImportFailed) -> dict:
    shown = failure.problems[:PROBLEMS_SHOWN]
    return {
        "problems": [{"row": p.row, "column": p.column, "message": p.message} for p in shown],
        "problem_count": len(failure.problems),
        "more_problems": len(failure.problems) - len(shown),
    }


# ---------------------------------------------------------------------------------------------
# Pages


def _context(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


@require_GET
def index(request):
    pending = {entry["kind"] for entry in _pending(request).values()}
    return TemplateResponse(
        request,
        "admin/scoring/imports/index.html",
        _context(
            request,
            _("Imports"),
            kinds=[(kind, kind.slug in pending) for kind in KINDS],
            limit_mb=upload_limit() // (1024 * 1024),
        ),
    )


@require_http_methods(["GET", "HEAD", "POST"])
def upload(request, slug: str):
    kind = _kind(slug)
    form = UploadForm(request.POST or None, request.FILES or None, kind=kind)
    extra = {}
    if request.method == "POST" and form.is_valid():
        _forget_old_files()
        # A new file replaces this person's waiting file of the same import.
        for token, entry in list(_pending(request).items()):
            if entry["kind"] == kind.slug:
                _discard(request, token)
        upload_file = form.cleaned_data["file"]
        year, group = form.cleaned_data.get("year"), form.cleaned_data.get("group")
        token, suffix, digest = _store(upload_file)
        path = _pending_path(token, suffix)
        try:
            report, sample = dry_run(kind, path, year, group)
        except ImportFailed as failure:
            path.unlink(missing_ok=True)
            extra = _problems(failure)
        else:
            pending = _pending(request)
            pending[token] = {
                "kind": kind.slug,
                "user": request.user.pk,
                "suffix": suffix,
                "sha256": digest,
                "name": Path(upload_file.name).name[:200],
                "size": upload_file.size,
                "year": year,
                "group": group,
                "report": report,
                "sample": sample,
            }
            request.session[SESSION_KEY] = pending
            return redirect("imports:preview", slug=kind.slug, token=token)
    return _upload_page(request, kind, form, **extra)


def _upload_page(request, kind: ImportKind, form, **extra):
    return TemplateResponse(
        request,
        "admin/scoring/imports/upload.html",
        _context(
            request,
            capfirst(kind.title),
            kind=kind,
            form=form,
            limit_mb=upload_limit() // (1024 * 1024),
            **extra,
        ),
    )


@require_GET
def preview(request, slug: str, token: str):
    kind = _kind(slug)
    entry = _entry(request, kind, token)
    group_name = (
        UnitGroup.objects.filter(code=entry["group"]).values_list("name", flat=True).first()
        if kind.per_set
        else None
    )
    return TemplateResponse(
        request,
        "admin/scoring/imports/preview.html",
        _context(
            request,
            _("Check before importing: %(import)s") % {"import": capfirst(kind.title)},
            kind=kind,
            token=token,
            entry=entry,
            group_name=group_name,
            report=entry["report"],
            sample=entry["sample"],
            sample_size=SAMPLE_ROWS,
        ),
    )


@require_POST
def confirm(request, slug: str, token: str):
    kind = _kind(slug)
    entry = _entry(request, kind, token)
    path = _pending_path(token, entry["suffix"])
    if not path.is_file() or _sha256(path) != entry["sha256"]:
        _discard(request, token)
        messages.error(
            request,
            _("The uploaded file is no longer available; nothing was written. Upload it again."),
        )
        return redirect("imports:upload", slug=kind.slug)
    try:
        with transaction.atomic():
            report = kind.importer(str(path), **_arguments(kind, entry["year"], entry["group"]))
    except ImportFailed as failure:
        # The database changed since the preview (another import, a publication...).
        _discard(request, token)
        form = UploadForm(kind=kind, initial={"year": entry["year"], "group": entry["group"]})
        return _upload_page(request, kind, form, changed_since=True, **_problems(failure))
    _discard(request, token)
    logger.info(
        "import %s by %s (%s, year %s, group %s): %s",
        kind.command,
        request.user.get_username(),
        entry["name"],
        entry["year"],
        entry["group"],
        report.lines[0] if report.lines else "",
    )
    messages.success(
        request,
        _("Imported %(file)s: %(summary)s")
        % {"file": entry["name"], "summary": "; ".join(str(line) for line in report.lines)},
    )
    return redirect("imports:index")


@require_POST
def cancel(request, slug: str, token: str):
    kind = _kind(slug)
    entry = _entry(request, kind, token)
    _discard(request, token)
    messages.info(
        request, _("Import of %(file)s cancelled; nothing was written.") % {"file": entry["name"]}
    )
    return redirect("imports:upload", slug=kind.slug)


@require_GET
def example(request, name: str):
    """One of the documented example files (docs/examples/), by its name in ``KINDS``."""
    if name not in {kind.example for kind in KINDS}:
        raise Http404
    path = EXAMPLES / name
    if not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)
