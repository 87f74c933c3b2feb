"""Forms of the unit staff's pages: they validate and normalise; the workflow writes."""

from __future__ import annotations

import hashlib
import zipfile
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.formats import get_format, number_format
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .importers.base import number_text
from .models import FIGURE, POINTS, Kind
from .validators import validate_multi_line, validate_single_line

# Extension → what the first bytes must be (and, for Office Open XML, a part the zip must hold).
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EVIDENCE_TYPES = {
    "pdf": ("application/pdf", b"%PDF-", None),
    "png": ("image/png", b"\x89PNG\r\n\x1a\n", None),
    "jpg": ("image/jpeg", b"\xff\xd8\xff", None),
    "jpeg": ("image/jpeg", b"\xff\xd8\xff", None),
    "doc": ("application/msword", OLE2, None),
    "xls": ("application/vnd.ms-excel", OLE2, None),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
        "word/",
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        b"PK\x03\x04",
        "xl/",
    ),
}


def clean_evidence_file(upload) -> None:
    """Refuse a file that is too large, of another type, or whose content is not its type."""
    if upload.size > settings.EVIDENCE_MAX_BYTES:
        raise ValidationError(
            _("The file %(name)s is larger than %(limit)d MB.")
            % {"name": upload.name, "limit": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)}
        )
    if upload.size == 0:
        raise ValidationError(_("The file %(name)s is empty.") % {"name": upload.name})
    try:
        name = get_valid_filename(upload.name.replace("\\", "/").rsplit("/", 1)[-1])[:150]
    except SuspiciousFileOperation:  # nothing usable left of the name ("/", "..")
        name = ""
    name = name or "file"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in EVIDENCE_TYPES:
        raise ValidationError(
            _("%(name)s: only PDF, Word, Excel, JPEG or PNG files are accepted.") % {"name": name}
        )
    _mime, magic, part = EVIDENCE_TYPES[extension]
    head = upload.read(len(magic))
    upload.seek(0)
    ok = head == magic
    if ok and part:
        try:
            with zipfile.ZipFile(upload) as archive:
                ok = any(n.startswith(part) for n in archive.namelist())
        except zipfile.BadZipFile:
            ok = False
        upload.seek(0)
    if not ok:
        raise ValidationError(
            _("%(name)s is not really a .%(ext)s file: its content does not match its name.")
            % {"name": name, "ext": extension}
        )
    upload.name = name


# What the file picker offers: the types ``clean_evidence_file`` accepts, nothing else.
EVIDENCE_ACCEPT = ",".join(f".{extension}" for extension in EVIDENCE_TYPES)


class DecimalTextInput(forms.TextInput):
    """A text box for a decimal, shown the reader's way (0,50 in Vietnamese) and never grouped
    (1234,5, not 1.234,5), so that what the page shows can be saved again as it is. A text box,
    not type=number: a browser's number box refuses the decimal comma."""

    input_type = "text"

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, Decimal):
            return str(value).replace(".", get_format("DECIMAL_SEPARATOR"))
        return super().format_value(value)


class DecimalInput(forms.DecimalField):
    """A decimal with at most two decimals; a decimal comma (1,5) is read as a decimal point."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
            if value:
                # The import files' own reading: "0,5" and "0.5"; a thousands separator is
                # refused with a message, never guessed.
                number = number_text(value)
                if isinstance(number, str):
                    raise ValidationError(number)
                if number is None:
                    raise ValidationError(_("Enter a number."))
                value = value.replace(",", ".")
        try:
            return super().to_python(value)
        except ValidationError:
            raise
        except InvalidOperation:  # pragma: no cover - DecimalField already reports it
            raise ValidationError(_("Enter a number.")) from None


class PointsField(DecimalInput):
    """Points between 0 and the leaf's maximum, typed with a comma or a point."""

    def __init__(self, *, maximum: Decimal, **kwargs):
        super().__init__(
            required=False,
            min_value=Decimal("0"),
            max_value=maximum,
            **POINTS,
            widget=DecimalTextInput(attrs={"size": "7"}),
            **kwargs,
        )
        # One message for both ends, with the maximum written the reader's way (4,00).
        message = _("The score must be between 0 and %(max)s.") % {"max": number_format(maximum, 2)}
        self.validators = [
            validator.__class__(validator.limit_value, message)
            if isinstance(validator, MinValueValidator | MaxValueValidator)
            else validator
            for validator in self.validators
        ]


class FigureField(DecimalInput):
    """A reported figure (a rate, a count): 0 or more."""

    def __init__(self, **kwargs):
        super().__init__(
            required=False,
            min_value=Decimal("0"),
            **FIGURE,
            widget=DecimalTextInput(attrs={"size": "10"}),
            **kwargs,
        )


def _fingerprint(points, figure, method, na, na_reason) -> str:
    def number(value):
        return "" if value is None else format(Decimal(value).normalize(), "f")

    text = "\x1f".join(
        [
            number(points),
            number(figure),
            (method or "").strip(),
            "1" if na else "0",
            (na_reason or "").strip() if na else "",
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


EMPTY_FINGERPRINT = _fingerprint(None, None, "", False, "")


class SeenField(forms.CharField):
    """What the page showed of a row (``version:fingerprint``), hidden. A value that is not of
    that form is read as nothing said (the row is then compared with what is saved)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        version, _sep, fingerprint = value.partition(":")
        return value if version.isdigit() and len(fingerprint) == 16 else ""


def touched_since(seen: str, now: str, saved: str) -> tuple[bool, int | None]:
    """Whether a row was changed on the page: its fingerprint ``now`` differs from the one the
    page showed (``seen``, ``version:fingerprint``), or, when the page said nothing, from the
    ``saved`` one. Returns that and the version the page showed (None: no check)."""
    version, _sep, fingerprint = (seen or saved).partition(":")
    return now != fingerprint, int(version) if seen else None


class SelfAssessmentForm(forms.Form):
    """One form for every leaf the unit scores: score, how it was scored, not applicable."""

    def __init__(self, *args, leaves, scores, **kwargs):
        super().__init__(*args, **kwargs)
        self.leaves = leaves
        for leaf in leaves:
            score = scores.get(leaf.pk)
            if leaf.kind == Kind.TARGET:
                # A target leaf asks for the figure; its points follow from the rule.
                self.fields[f"figure_{leaf.pk}"] = FigureField(label=f"{leaf.code}: {_('figure')}")
            else:
                self.fields[f"score_{leaf.pk}"] = PointsField(
                    maximum=leaf.max_points, label=f"{leaf.code}: {_('score')}"
                )
            self.fields[f"method_{leaf.pk}"] = forms.CharField(
                required=False,
                max_length=5000,
                validators=[validate_multi_line],
                label=f"{leaf.code}: {_('how it was scored')}",
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"na_{leaf.pk}"] = forms.BooleanField(
                required=False, label=f"{leaf.code}: {_('not applicable')}"
            )
            self.fields[f"na_reason_{leaf.pk}"] = forms.CharField(
                required=False,
                max_length=2000,
                validators=[validate_multi_line],
                label=f"{leaf.code}: {_('reason')}",
            )
            # What the page showed (the version and a fingerprint of the values): a row the
            # user did not touch is not written, and a colleague's later save of a row the
            # user changed is never overwritten unseen.
            self.fields[f"seen_{leaf.pk}"] = SeenField()
            # A leaf without its row yet: the row it will get (version 1, empty).
            self.initial.setdefault(
                f"seen_{leaf.pk}",
                self.seen_of(score) if score is not None else f"1:{EMPTY_FINGERPRINT}",
            )
            if score is not None:
                self.initial.setdefault(f"score_{leaf.pk}", score.self_score)
                self.initial.setdefault(f"figure_{leaf.pk}", score.self_figure)
                self.initial.setdefault(f"method_{leaf.pk}", score.self_method)
                self.initial.setdefault(f"na_{leaf.pk}", score.not_applicable_requested)
                self.initial.setdefault(f"na_reason_{leaf.pk}", score.not_applicable_reason)

    @staticmethod
    def seen_of(score) -> str:
        """The hidden ``seen`` value of a saved score: ``version:fingerprint``."""
        figure_leaf = score.criterion.kind == Kind.TARGET
        return f"{score.version}:" + _fingerprint(
            None if figure_leaf else score.self_score,
            score.self_figure,
            score.self_method,
            score.not_applicable_requested,
            score.not_applicable_reason,
        )

    def touched(self, pk: int, score=None) -> tuple[bool, int | None]:
        """Whether the user changed the row since the page showed it, and the version the page
        showed (``touched_since``)."""
        data = self.cleaned_data
        now = _fingerprint(
            data.get(f"score_{pk}"),
            data.get(f"figure_{pk}"),
            data.get(f"method_{pk}", ""),
            data.get(f"na_{pk}", False),
            data.get(f"na_reason_{pk}", ""),
        )
        saved = self.seen_of(score) if score is not None else f"1:{EMPTY_FINGERPRINT}"
        return touched_since(data.get(f"seen_{pk}", ""), now, saved)

    def clean(self):
        data = super().clean()
        for leaf in self.leaves:
            if data.get(f"na_{leaf.pk}") and not (data.get(f"na_reason_{leaf.pk}") or "").strip():
                self.add_error(
                    f"na_reason_{leaf.pk}", _("Give the reason why this leaf does not apply.")
                )
        return data


class EvidenceForm(forms.Form):
    """A file, or a cited document (number, date, page), for one leaf."""

    file = forms.FileField(
        label=gettext_lazy("File"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": EVIDENCE_ACCEPT}),
    )
    document_number = forms.CharField(
        label=gettext_lazy("Document number"),
        required=False,
        max_length=100,
        validators=[validate_single_line],
    )
    document_date = forms.DateField(
        label=gettext_lazy("Document date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    page = forms.CharField(
        label=gettext_lazy("Page"), required=False, max_length=50, validators=[validate_single_line]
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        max_length=500,
        validators=[validate_single_line],
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload:
            clean_evidence_file(upload)
        return upload

    @property
    def is_empty(self) -> bool:
        return not any(self.cleaned_data.get(key) for key in ("file", "document_number"))

    def clean(self):
        data = super().clean()
        if (
            not data.get("file")
            and not data.get("document_number")
            and (data.get("document_date") or data.get("page"))
        ):
            self.add_error("document_number", _("Give the number of the document you cite."))
        return data


class ExplanationForm(forms.Form):
    """The unit's answer to each flagged leaf; like the self-assessment, a row the user did not
    touch is not written, and a colleague's later answer is never overwritten unseen."""

    def __init__(self, *args, flagged, **kwargs):
        super().__init__(*args, **kwargs)
        self.flagged = flagged
        for score in flagged:
            self.fields[f"explanation_{score.criterion_id}"] = forms.CharField(
                required=False,
                max_length=10000,
                validators=[validate_multi_line],
                label=f"{score.criterion.code}: {_('explanation')}",
                initial=score.explanation,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.fields[f"seen_{score.criterion_id}"] = SeenField(initial=self.seen_of(score))

    @staticmethod
    def seen_of(score) -> str:
        return f"{score.version}:" + _text_fingerprint(score.explanation)

    def touched(self, pk: int, score) -> tuple[bool, int | None]:
        now = _text_fingerprint(self.cleaned_data.get(f"explanation_{pk}", ""))
        return touched_since(self.cleaned_data.get(f"seen_{pk}", ""), now, self.seen_of(score))


def _text_fingerprint(text: str) -> str:
    return hashlib.sha256((text or "").strip().encode()).hexdigest()[:16]
