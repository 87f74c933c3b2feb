"""The council's and the secretariat's admin for the write side.

Status fields are read-only here: stages change through workflow actions only.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Assessment,
    Band,
    CriteriaSet,
    Criterion,
    Evidence,
    Round,
    Score,
    SipasResult,
    Transition,
    Unit,
    UnitGroup,
)


@admin.register(UnitGroup)
class UnitGroupAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "order"]
    search_fields = ["code", "name"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "short_name", "group", "successor"]
    list_filter = ["group"]
    list_select_related = ["group", "successor"]
    search_fields = ["code", "name", "short_name"]
    autocomplete_fields = ["successor"]


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = [
        "year",
        "stage",
        "self_assessment_deadline",
        "appraisal_1_deadline",
        "explanation_deadline",
        "appraisal_2_deadline",
    ]
    readonly_fields = ["stage"]


class BandInline(admin.TabularInline):
    model = Band
    extra = 0


@admin.register(CriteriaSet)
class CriteriaSetAdmin(admin.ModelAdmin):
    list_display = ["__str__", "round", "group", "bonus_cap", "penalty_cap"]
    list_filter = ["round__year", "group"]
    list_select_related = ["round", "group"]
    inlines = [BandInline]


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "max_points", "kind", "criteria_set", "previous"]
    list_filter = ["criteria_set__round__year", "criteria_set__group", "kind"]
    list_select_related = ["criteria_set__round", "criteria_set__group", "previous"]
    search_fields = ["code", "title"]
    raw_id_fields = ["parent", "previous", "criteria_set"]


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["unit", "criteria_set", "status", "submitted_at"]
    list_filter = ["criteria_set__round__year", "criteria_set__group", "status"]
    list_select_related = ["unit", "criteria_set__round", "criteria_set__group"]
    search_fields = ["unit__name", "unit__code"]
    readonly_fields = ["status", "submitted_at", "explanation_submitted_at"]
    raw_id_fields = ["unit", "criteria_set"]


@admin.register(Score)
class ScoreAdmin(SimpleHistoryAdmin):
    list_display = [
        "assessment",
        "criterion",
        "self_score",
        "appraisal_1",
        "appraisal_2",
        "not_applicable",
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
    raw_id_fields = ["assessment", "criterion"]
    readonly_fields = ["version"]


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "score", "document_number", "size", "uploaded_at"]
    list_select_related = ["score__assessment__unit", "score__criterion"]
    readonly_fields = ["sha256", "size", "original_name", "uploaded_by", "uploaded_at"]
    raw_id_fields = ["score"]


@admin.register(Transition)
class TransitionAdmin(admin.ModelAdmin):
    list_display = ["at", "round", "assessment", "from_state", "to_state", "user"]
    list_filter = ["round"]
    list_select_related = ["round", "assessment__unit", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SipasResult)
class SipasResultAdmin(SimpleHistoryAdmin):
    list_display = [
        "unit",
        "round",
        "group",
        "access",
        "procedure",
        "civil_servants",
        "result",
        "feedback",
    ]
    list_filter = ["round", "group"]
    list_select_related = ["unit", "round", "group"]
    search_fields = ["unit__name", "unit__code"]


admin.site.site_header = _("Administrative reform index: council and secretariat")
admin.site.site_title = _("CCHC admin")
