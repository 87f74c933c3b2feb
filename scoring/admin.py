"""The council's and the secretariat's admin for the write side.

Status fields are read-only here: stages change through workflow actions only.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from . import admin_views, calculation, workflow
from .errors import Refused
from .models import (
    LEAF_SOURCE_FIELDS,
    SIPAS_ELEMENTS,
    AppraiserAssignment,
    Assessment,
    AssessmentStatus,
    Band,
    CriteriaSet,
    Criterion,
    Direction,
    Evidence,
    Kind,
    Membership,
    Round,
    Rule,
    Score,
    SipasResult,
    Stage,
    Transition,
    Unit,
    UnitGroup,
)
from .permissions import council_scope, is_secretariat


@admin.register(UnitGroup)
class UnitGroupAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "order"]
    search_fields = ["code", "name"]


class UnitForm(forms.ModelForm):
    """A unit, with the day it ceased and who took it over: a successor needs the day."""

    class Meta:
        model = Unit
        fields = [
            "code",
            "name",
            "short_name",
            "group",
            "dissolved_on",
            "dissolved_reason",
            "successors",
        ]

    def clean(self):
        data = super().clean()
        successors = data.get("successors") or []
        if successors and not data.get("dissolved_on"):
            self.add_error(
                "dissolved_on",
                gettext("Give the day the unit ceased: successors take it over then."),
            )
        if self.instance.pk and any(unit.pk == self.instance.pk for unit in successors):
            self.add_error("successors", gettext("A unit cannot succeed itself."))
        return data


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    form = UnitForm
    list_display = ["name", "code", "short_name", "group", "dissolved_on", "successor_list"]
    list_filter = ["group", "dissolved_on"]
    list_select_related = ["group"]
    search_fields = ["code", "name", "short_name"]
    autocomplete_fields = ["successors"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("successors")

    @admin.display(description=_("successors"))
    def successor_list(self, obj):
        return ", ".join(unit.name for unit in obj.successors.all()) or "—"


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    """Stages move forward through the stage wizard (``stages:wizard``), which shows what is
    left undone and who is told, and asks for the new deadline; not through a bulk action."""

    list_display = ["year", "stage", "current_deadline", "links"]
    readonly_fields = ["stage"]
    actions = ["copy_to_next_year"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:round_id>/progress/",
                view(lambda request, round_id: admin_views.progress_view(self, request, round_id)),
                name="scoring_round_progress",
            ),
            *super().get_urls(),
        ]

    def get_list_display(self, request):
        if is_secretariat(request.user):
            return ["year", "stage", "current_deadline", "secretariat_links"]
        return super().get_list_display(request)

    @admin.display(description=_("deadline of the current stage"))
    def current_deadline(self, obj):
        return obj.current_deadline()

    @admin.display(description=_("follow"))
    def links(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:scoring_round_progress", args=[obj.pk]),
            gettext("progress board"),
        )

    @admin.display(description=_("follow"))
    def secretariat_links(self, obj):
        if workflow.next_stage(obj.stage) is None:
            return self.links(obj)
        return format_html(
            '{} · <a href="{}">{}</a>',
            self.links(obj),
            reverse("stages:wizard", args=[obj.year]),
            gettext("Next stage…"),
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not is_secretariat(request.user):
            actions.pop("copy_to_next_year", None)
        return actions

    def _confirm(self, request, queryset, *, title, question, action):
        """Ask first (an intermediate page); act only on the confirmed POST."""
        if not is_secretariat(request.user):
            raise PermissionDenied
        if request.POST.get("confirmed") == "yes":
            for round_obj in queryset:
                try:
                    message = action(round_obj)
                except Refused as refusal:
                    self.message_user(request, str(refusal), messages.ERROR)
                else:
                    self.message_user(request, message, messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/scoring/confirm_action.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "items": [(obj, question(obj)) for obj in queryset],
                "action": request.POST.get("action"),
                "queryset": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Copy the criteria sets into the next year…"))
    def copy_to_next_year(self, request, queryset):
        def question(obj):
            return gettext(
                "Copy every criteria set of %(year)s (tree, caps, bands) into %(next)s, each "
                "criterion linked to this year's?"
            ) % {"year": obj.year, "next": obj.year + 1}

        def action(obj):
            target = workflow.round_copy_sets(round_id=obj.pk, year=obj.year + 1, user=request.user)
            return gettext("Criteria sets copied into %(year)s.") % {"year": target.year}

        return self._confirm(
            request,
            queryset,
            title=gettext("Copy the criteria sets"),
            question=question,
            action=action,
        )


class BandInline(admin.TabularInline):
    model = Band
    extra = 0


@admin.register(CriteriaSet)
class CriteriaSetAdmin(admin.ModelAdmin):
    list_display = ["__str__", "round", "group", "bonus_cap", "penalty_cap", "links"]
    list_filter = ["round__year", "group"]
    list_select_related = ["round", "group"]
    inlines = [BandInline]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:set_id>/preview/",
                view(lambda request, set_id: admin_views.preview_view(self, request, set_id)),
                name="scoring_criteriaset_preview",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("ranking"))
    def links(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:scoring_criteriaset_preview", args=[obj.pk]),
            gettext("preview (not published)"),
        )

    def get_readonly_fields(self, request, obj=None):
        # Caps change the numbers: frozen once the set has scores or a publication.
        if obj is not None and obj.tree_frozen():
            return ["round", "group", "bonus_cap", "penalty_cap"]
        return []


class CriterionForm(forms.ModelForm):
    """One criterion added or changed by hand. A set whose tree is frozen (scores or a
    publication) is refused, as ``import_criteria`` refuses it; the parent must be of the same
    set and not below the criterion itself. ``is_leaf`` and ``position`` follow from the tree."""

    class Meta:
        model = Criterion
        fields = [
            "criteria_set",
            "code",
            "parent",
            "title",
            "guidance",
            "max_points",
            "kind",
            *LEAF_SOURCE_FIELDS,
        ]

    def clean(self):
        data = super().clean()
        criteria_set, parent = data.get("criteria_set"), data.get("parent")
        sets = {criteria_set, self.instance.criteria_set if self.instance.pk else None} - {None}
        if any(s.tree_frozen() for s in sets):
            raise forms.ValidationError(
                gettext(
                    "This criteria set has scores or has been published: its criteria can no "
                    "longer be changed."
                )
            )
        if parent is not None and criteria_set is not None:
            if parent.criteria_set_id != criteria_set.pk:
                self.add_error("parent", gettext("The parent must belong to the same set."))
            elif self.instance.pk and self._is_below_itself(parent):
                self.add_error(
                    "parent",
                    gettext("A criterion cannot be placed under itself or its own sub-criteria."),
                )
        has_children = bool(self.instance.pk) and self.instance.children.exists()
        if has_children:
            data["kind"] = ""  # a parent has no kind; its maximum is the sum of its children
        elif not data.get("kind"):
            data["kind"] = Kind.SELF
        self._check_rule(data)
        return data

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "direction" in self.fields:  # absent from a read-only view
            self.fields["direction"].required = False  # higher is better unless said otherwise

    def _check_rule(self, data) -> None:
        """A target leaf's rule as import_criteria checks it; nothing of it on other leaves
        (the model's constraints then hold)."""
        data["direction"] = data.get("direction") or Direction.HIGHER
        if data.get("kind") != Kind.TARGET:
            data.update(target=None, rule="", steps="", unit_label="")
        elif not data.get("rule"):
            self.add_error("rule", gettext("A target leaf needs a rule: proportional or steps."))
        elif data["rule"] == Rule.PROPORTIONAL:
            data["steps"] = ""
            if data.get("target") is None:
                self.add_error("target", gettext("A proportional rule needs a target."))
        else:
            try:
                steps = calculation.parse_steps(data.get("steps") or "")
            except calculation.CalculationError:
                self.add_error(
                    "steps",
                    gettext("Write threshold:points pairs separated by ';', e.g. 95:2;90:1.5"),
                )
            else:
                maximum = data.get("max_points")
                if maximum is not None and any(points > maximum for _t, points in steps):
                    self.add_error("steps", gettext("A step is worth more than the leaf."))
        if data.get("kind") != Kind.SURVEY:
            data["sipas_element"] = ""

    def _is_below_itself(self, parent) -> bool:
        node = parent
        while node is not None:
            if node.pk == self.instance.pk:
                return True
            node = node.parent
        return False


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    """Criteria come from import_criteria; one may be added or corrected here while the set has
    neither scores nor a publication. The tree's rules are restored after every change."""

    form = CriterionForm
    list_display = ["code", "title", "max_points", "kind", "criteria_set", "previous"]
    list_filter = ["criteria_set__round__year", "criteria_set__group", "kind"]
    list_select_related = ["criteria_set__round", "criteria_set__group", "previous"]
    search_fields = ["code", "title"]
    raw_id_fields = ["parent", "previous", "criteria_set"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.criteria_set.tree_frozen():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj) and super().has_delete_permission(
            request, obj
        )

    def save_model(self, request, obj, form, change):
        before = Criterion.objects.get(pk=obj.pk).criteria_set if change else None
        super().save_model(request, obj, form, change)
        for criteria_set in {obj.criteria_set, before} - {None}:
            criteria_set.refresh_tree()

    def delete_model(self, request, obj):
        criteria_set = obj.criteria_set
        super().delete_model(request, obj)
        criteria_set.refresh_tree()

    def delete_queryset(self, request, queryset):
        # Each row passed has_delete_permission (the bulk action checks every object).
        sets = list(CriteriaSet.objects.filter(criteria__in=queryset).distinct())
        super().delete_queryset(request, queryset)
        for criteria_set in sets:
            criteria_set.refresh_tree()


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["unit", "criteria_set", "status", "submitted_at", "appraise_link"]
    list_filter = ["criteria_set__round__year", "criteria_set__group", "status"]
    list_select_related = ["unit", "criteria_set__round", "criteria_set__group"]
    search_fields = ["unit__name", "unit__code"]
    readonly_fields = [
        "criteria_set",
        "unit",
        "status",
        "submitted_at",
        "explanation_submitted_at",
        "evidence_fingerprint",
    ]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:assessment_id>/appraise/",
                view(
                    lambda request, assessment_id: admin_views.appraise_view(
                        self, request, assessment_id
                    )
                ),
                name="scoring_assessment_appraise",
            ),
            *super().get_urls(),
        ]

    def get_queryset(self, request):
        return council_scope(request.user, super().get_queryset(request), "criteria_set", "unit")

    actions = ["reopen"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not is_secretariat(request.user):
            actions.pop("reopen", None)
        return actions

    @admin.action(description=_("Reopen the submission (with a reason)…"))
    def reopen(self, request, queryset):
        """Give submitted self-assessments back to their units: ask for the reason first."""
        if not is_secretariat(request.user):
            raise PermissionDenied
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("confirmed") == "yes" and reason:
            for assessment in queryset.select_related("unit"):
                try:
                    workflow.assessment_reopen(
                        assessment_id=assessment.pk, user=request.user, reason=reason
                    )
                except Refused as refusal:
                    self.message_user(request, str(refusal), messages.ERROR)
                else:
                    self.message_user(
                        request,
                        gettext("%(unit)s can change its self-assessment again.")
                        % {"unit": assessment.unit.name},
                        messages.SUCCESS,
                    )
            return None
        if request.POST.get("confirmed") == "yes":
            self.message_user(request, gettext("Give the reason."), messages.ERROR)
        return TemplateResponse(
            request,
            "admin/scoring/reopen.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": gettext("Reopen submitted self-assessments"),
                "queryset": queryset.select_related("unit", "criteria_set__round"),
                "action": request.POST.get("action"),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def has_add_permission(self, request):
        return False  # assessments open with the self-assessment stage or come from imports

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("appraisal"))
    def appraise_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:scoring_assessment_appraise", args=[obj.pk]),
            gettext("open"),
        )


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """simple-history's pages, for reading only.

    Its per-version page is a form that saves whatever is posted ("revert") after checking only
    the *view* permission, bypassing the workflow: a council member could rewrite any score of
    any year that way. Every write of a score goes through ``workflow``, so the page shows the
    version read-only and answers 403 to any POST, for everybody; and the history of an object
    is shown only to those who may see the object in its list (404 otherwise).
    """

    def revert_disabled(self, request, obj=None):
        return True

    def _visible_or_404(self, request, object_id) -> None:
        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        self._visible_or_404(request, object_id)
        request.reading_history = True
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_readonly_fields(self, request, obj=None):
        if getattr(request, "reading_history", False):
            return [field.name for field in self.model._meta.fields]
        return super().get_readonly_fields(request, obj)


@admin.register(Score)
class ScoreAdmin(ReadOnlyHistoryAdmin):
    """Scores are read here; they change through the unit's pages, the appraisal page and the
    import commands, so that every change passes the workflow's checks."""

    list_display = [
        "assessment",
        "criterion",
        "self_score",
        "appraisal_1",
        "appraisal_2",
        "not_applicable",
        "explanation_requested",
    ]
    list_filter = [
        "assessment__criteria_set__round__year",
        "assessment__criteria_set__group",
        "not_applicable",
        "explanation_requested",
    ]
    list_select_related = [
        "assessment__unit",
        "assessment__criteria_set__round",
        "criterion",
    ]
    search_fields = ["assessment__unit__name", "criterion__code"]

    def get_queryset(self, request):
        return council_scope(
            request.user,
            super().get_queryset(request),
            "assessment__criteria_set",
            "assessment__unit",
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "score", "document_number", "size", "uploaded_at", "download"]
    list_select_related = ["score__assessment__unit", "score__criterion"]
    fields = [
        "score",
        "download",
        "original_name",
        "size",
        "sha256",
        "document_number",
        "document_date",
        "page",
        "description",
        "stage",
        "uploaded_by",
        "uploaded_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return council_scope(
            request.user,
            super().get_queryset(request),
            "score__assessment__criteria_set",
            "score__assessment__unit",
        )

    @admin.display(description=_("file"))
    def download(self, obj):
        if not obj.file:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("scoring:evidence", args=[obj.pk]), obj.original_name
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "unit"]
    list_filter = ["unit__group"]
    list_select_related = ["user", "unit"]
    search_fields = ["user__username", "unit__name", "unit__code"]
    autocomplete_fields = ["unit"]
    raw_id_fields = ["user"]


@admin.register(AppraiserAssignment)
class AppraiserAssignmentAdmin(admin.ModelAdmin):
    """Who appraises which field of which set, for every unit of the group or for some units
    only (a department appraising the communes of its area)."""

    list_display = ["user", "field", "criteria_set", "unit_list"]
    list_filter = ["field__criteria_set__round__year", "field__criteria_set__group", "user"]
    list_select_related = ["user", "field__criteria_set__round", "field__criteria_set__group"]
    raw_id_fields = ["user", "field"]
    autocomplete_fields = ["units"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("units")

    @admin.display(description=_("units"))
    def unit_list(self, obj):
        return ", ".join(unit.name for unit in obj.units.all()) or gettext("every unit")

    @admin.display(description=_("set"))
    def criteria_set(self, obj):
        return obj.field.criteria_set


STATE_LABELS = {**dict(Stage.choices), **dict(AssessmentStatus.choices)}


@admin.register(Transition)
class TransitionAdmin(admin.ModelAdmin):
    list_display = ["at", "round", "assessment", "from_label", "to_label", "user", "note"]

    @admin.display(description=_("from"))
    def from_label(self, obj):
        return STATE_LABELS.get(obj.from_state, obj.from_state)

    @admin.display(description=_("to"))
    def to_label(self, obj):
        return STATE_LABELS.get(obj.to_state, obj.to_state)

    list_filter = ["round"]
    list_select_related = ["round", "assessment__unit", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SipasResult)
class SipasResultAdmin(ReadOnlyHistoryAdmin):
    """SIPAS corrected by hand: a changed element makes the unit's SIPAS the mean of its five
    elements again (an index computed from questionnaires no longer matches them)."""

    def save_model(self, request, obj, form, change):
        if set(form.changed_data) & set(SIPAS_ELEMENTS):
            obj.index = None
        super().save_model(request, obj, form, change)

    list_display = ["unit", "round", "group", *SIPAS_ELEMENTS]
    list_filter = ["round", "group"]
    list_select_related = ["unit", "round", "group"]
    search_fields = ["unit__name", "unit__code"]


admin.site.site_header = _("Administrative reform index: council and secretariat")
admin.site.site_title = _("CCHC admin")
