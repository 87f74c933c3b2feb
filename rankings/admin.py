"""Publications in the admin: read-only, created only through the publish page. The year's
decision (``Decision``): recorded by whoever may publish (the secretariat), never deleted."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scoring.models import CriteriaSet
from scoring.results import group_results
from scoring.validators import validate_single_line

from .models import Decision, Publication
from .publishing import PublishRefused, outdated_by, publish, record_decision, stage_refusal


class PublishForm(forms.Form):
    criteria_set = forms.ModelChoiceField(
        label=gettext_lazy("Year and group"),
        queryset=CriteriaSet.objects.select_related("round", "group").order_by(
            "-round__year", "group__order"
        ),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason (required for a new version of a published table)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # The People's Committee decision that announces the year's results (all optional): a
    # detail given replaces the year's recorded one, one left empty keeps it.
    decision_number = forms.CharField(
        label=gettext_lazy("Decision number"),
        required=False,
        max_length=50,
        help_text=gettext_lazy("e.g. 512/QĐ-UBND"),
        validators=[validate_single_line],
    )
    decision_date = forms.DateField(
        label=gettext_lazy("Decision date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    decision_signed_by = forms.CharField(
        label=gettext_lazy("Signed by"),
        required=False,
        max_length=200,
        validators=[validate_single_line],
    )
    # The set whose results were shown: publishing another one needs its own preview first.
    confirmed = forms.IntegerField(required=False, widget=forms.HiddenInput)


# The decision fields of the form: one left empty is not given to publish().
DECISION = ("decision_number", "decision_date", "decision_signed_by")


@admin.register(Publication)
class PublicationAdmin(admin.ModelAdmin):
    list_display = [
        "year",
        "group_name",
        "version",
        "published_at",
        "unit_count",
        "average_index",
        "reason",
    ]
    list_filter = ["year", "group"]
    readonly_fields = [field.name for field in Publication._meta.fields]
    change_list_template = "admin/rankings/publication/change_list.html"

    def get_urls(self):
        custom = [
            path(
                "publish/",
                self.admin_site.admin_view(self.publish_view),
                name="rankings_publication_publish",
            )
        ]
        return custom + super().get_urls()

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:rankings_publication_publish")

    def publish_view(self, request):
        """Choose a year and group, see the results to be published, then confirm."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PublishForm(request.POST or None)
        preview = None
        latest = None
        confirmable = False
        if request.method == "POST" and form.is_valid():
            criteria_set = form.cleaned_data["criteria_set"]
            latest = Publication.objects.current(criteria_set.round.year, criteria_set.group.code)
            refusal = stage_refusal(criteria_set.round)
            confirmable = refusal is None
            if refusal:
                messages.error(request, refusal)
            elif form.cleaned_data["confirmed"] == criteria_set.pk:
                try:
                    publication = publish(
                        year=criteria_set.round.year,
                        group=criteria_set.group.code,
                        reason=form.cleaned_data["reason"],
                        user=request.user,
                        **{name: form.cleaned_data[name] or None for name in DECISION},
                    )
                except PublishRefused as refusal:
                    for problem in refusal.problems:
                        messages.error(request, problem)
                else:
                    messages.success(
                        request,
                        _("Published %(publication)s.") % {"publication": publication},
                    )
                    for later in outdated_by(publication):
                        messages.warning(
                            request,
                            _(
                                "%(later)s compares with an older version of this table: "
                                "re-publish it with a reason to update its changes."
                            )
                            % {"later": later},
                        )
                    return redirect(
                        reverse("admin:rankings_publication_change", args=[publication.pk])
                    )
            preview = group_results(criteria_set)
            form = PublishForm(
                initial={
                    "criteria_set": criteria_set.pk,
                    "reason": form.cleaned_data["reason"],
                    **{name: form.cleaned_data[name] for name in DECISION},
                    "confirmed": criteria_set.pk if confirmable else None,
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Publish results"),
            "form": form,
            "preview": preview,
            "latest": latest,
            "decision": Decision.objects.filter(year=criteria_set.round.year).first()
            if preview is not None
            else None,
            "confirmable": preview is not None and confirmable,
        }
        return TemplateResponse(request, "admin/rankings/publish.html", context)


class DecisionForm(forms.ModelForm):
    class Meta:
        model = Decision
        fields = ["year", "number", "date", "signed_by"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("number", "signed_by"):
            if name in self.fields:
                self.fields[name].validators.append(validate_single_line)


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    """The People's Committee decision of a year, recorded without publishing. Whoever may
    publish (``rankings.add_publication``: the secretariat) views, adds and changes it; nobody
    deletes it; everybody else is refused. Saving goes through ``record_decision`` (checks,
    fresh public pages)."""

    form = DecisionForm
    list_display = ["year", "number", "date", "signed_by", "recorded_at"]
    readonly_fields = ["recorded_at"]

    @staticmethod
    def _publisher(request) -> bool:
        return request.user.is_active and request.user.has_perm("rankings.add_publication")

    def has_module_permission(self, request):
        return self._publisher(request)

    def has_view_permission(self, request, obj=None):
        return self._publisher(request)

    def has_add_permission(self, request):
        return self._publisher(request)

    def has_change_permission(self, request, obj=None):
        return self._publisher(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return ["year", "recorded_at"] if obj is not None else ["recorded_at"]

    def save_model(self, request, obj, form, change):
        try:
            saved = record_decision(
                year=obj.year, number=obj.number, date=obj.date, signed_by=obj.signed_by
            )
        except PublishRefused as refusal:  # the form's own checks come first; kept as a guard
            raise PermissionDenied("; ".join(refusal.problems)) from None
        obj.pk, obj.recorded_at = saved.pk, saved.recorded_at
