"""Administrators' view of the ledger.

The ledger's history is written only by students.services, so cases, events and visits are read-only
here; status changes are made on the case page, where the lifecycle rules apply. Students' identity
can be corrected here, through the same checks the forms use.
"""

from django import forms
from django.contrib import admin

from .models import (
    CaseEvent,
    ClosureReason,
    DropoutCase,
    IdentifierAccess,
    LedgerJob,
    PersuasionVisit,
    ResponsiblePerson,
    Student,
)
from .services import STUDENT_DATA_FIELDS, StudentData, student_clean, student_update


class StudentAdminForm(forms.ModelForm):
    """Runs the ledger's identity checks (ID checksum, birth date and gender agreeing with the ID)."""

    class Meta:
        model = Student
        fields = list(STUDENT_DATA_FIELDS)

    def clean(self):
        cleaned = super().clean()
        fields = {name: cleaned.get(name) for name in STUDENT_DATA_FIELDS if name in cleaned}
        student_clean(
            StudentData(
                **{
                    **fields,
                    "id_number": fields.get("id_number") or "",
                    "registry_number": fields.get("registry_number") or "",
                }
            )
        )
        return cleaned


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class EventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ["effective_date", "from_status", "to_status", "placement", "closure_reason", "recorded_by", "note"]
    readonly_fields = fields


class VisitInline(ReadOnlyInline):
    model = PersuasionVisit
    fields = ["visit_date", "method", "outcome", "visitors", "next_follow_up", "notes"]
    readonly_fields = fields


class ResponsibleInline(ReadOnlyInline):
    model = ResponsiblePerson
    fields = ["line", "role", "name", "phone"]
    readonly_fields = fields


@admin.register(DropoutCase)
class DropoutCaseAdmin(ReadOnlyAdmin):
    list_display = ["student", "county", "school", "grade", "dropout_date", "status", "struck_off_on"]
    list_filter = ["status", "reason", "grade"]
    search_fields = ["student__name", "student__id_number", "student__registry_number"]
    list_select_related = ["student", "county", "school"]
    date_hierarchy = "dropout_date"
    show_full_result_count = False
    inlines = [EventInline, VisitInline, ResponsibleInline]
    raw_id_fields = ["student", "county", "school"]


@admin.register(Student)
class StudentAdmin(admin.ModelAdmin):
    list_display = ["name", "gender", "birth_date", "id_number", "registered_poor"]
    search_fields = ["name", "id_number", "registry_number"]
    list_filter = ["gender", "registered_poor", "left_behind", "migrant", "orphan", "disability"]
    show_full_result_count = False
    form = StudentAdminForm

    def has_add_permission(self, request) -> bool:
        # A child enters the ledger with a case, on the new-case form or by import.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        student_update(student=obj, changes={name: form.cleaned_data[name] for name in form.changed_data})


@admin.register(ClosureReason)
class ClosureReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "is_exemption", "active"]
    list_editable = ["active"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LedgerJob)
class LedgerJobAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "status", "county", "requested_by", "progress", "created_at", "finished_at"]
    list_filter = ["kind", "status"]


@admin.register(IdentifierAccess)
class IdentifierAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "case", "purpose"]
    list_select_related = ["user", "case"]
    search_fields = ["user__username"]
