"""Publications in the admin: read-only, created only through the publish page."""

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

from .models import Publication
from .publishing import PublishRefused, outdated_by, publish, stage_refusal


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
    # The set whose results were shown: publishing another one needs its own preview first.
    confirmed = forms.IntegerField(required=False, widget=forms.HiddenInput)


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
            "confirmable": preview is not None and confirmable,
        }
        return TemplateResponse(request, "admin/rankings/publish.html", context)
