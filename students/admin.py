"""Administrators' view of the ledger.

The ledger's history is written only by students.services, so cases, events and visits are read-only
here; status changes are made on the case page, where the lifecycle rules apply. Students' identity
can be corrected here, through the same checks the forms use.

Children's data (students, cases and what hangs from them, jobs' files and problem reports, the access log)
is shown unmasked here, so it is for superusers and administrators only (ChildDataAdmin): other staff see
none of it, whatever permissions they are given. Each view of students and cases is written to the access
log, like a case page (students.disclosure).
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import SEARCH_VAR
from django.http import QueryDict
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from counties.models import Role

from .disclosure import HIDDEN, log_disclosure
from .ledger_chain import describe
from .models import (
    CaseEvent,
    ClosureReason,
    CountyVerification,
    DisclosurePurpose,
    DropoutCase,
    IdentifierAccess,
    LedgerJob,
    LedgerVerification,
    PersuasionVisit,
    ResponsiblePerson,
    Student,
)
from .services import STUDENT_DATA_FIELDS, StudentData, student_clean, student_update


def sees_children(user) -> bool:
    """Whether the admin may show this user children's data: superusers and administrators only."""
    return user.is_active and (user.is_superuser or user.role == Role.ADMIN)


def _logged_detail(request) -> str:
    """The page and its filters, for the access log; a search term may be a name, so only its presence is."""
    query = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        query.setlist(key, [HIDDEN] * len(values) if key == SEARCH_VAR else values)
    return f"{request.path}?{query.urlencode(safe='*')}" if query else request.path


class ChildDataAdmin:
    """For the admins (and inlines) of models that hold children's data: whatever Django permissions a user
    has, only superusers and administrators get any. With `logs_disclosure`, each list page and each record
    shown is written to the access log."""

    logs_disclosure = False

    def has_module_permission(self, request) -> bool:
        return sees_children(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return sees_children(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:
        return sees_children(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return sees_children(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return sees_children(request.user) and super().has_delete_permission(request, obj)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if self.logs_disclosure and changelist is not None:
            log_disclosure(
                request.user,
                purpose=DisclosurePurpose.ADMIN,
                children=len(changelist.result_list),
                detail=_logged_detail(request),
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        shown = (getattr(response, "context_data", None) or {}).get("original")
        if self.logs_disclosure and shown is not None:
            log_disclosure(
                request.user,
                purpose=DisclosurePurpose.ADMIN,
                case=shown if isinstance(shown, DropoutCase) else None,
                detail=_logged_detail(request),
            )
        return response


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


class ReadOnlyInline(ChildDataAdmin, admin.TabularInline):
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
class DropoutCaseAdmin(ChildDataAdmin, ReadOnlyAdmin):
    logs_disclosure = True
    list_display = ["student", "county", "school", "grade", "dropout_date", "status", "struck_off_on"]
    list_filter = ["status", "reason", "grade"]
    search_fields = ["student__name", "student__id_number", "student__registry_number"]
    list_select_related = ["student", "county", "school"]
    date_hierarchy = "dropout_date"
    show_full_result_count = False
    inlines = [EventInline, VisitInline, ResponsibleInline]
    raw_id_fields = ["student", "county", "school"]


@admin.register(Student)
class StudentAdmin(ChildDataAdmin, admin.ModelAdmin):
    logs_disclosure = True
    list_display = ["name", "gender", "birth_date", "id_number", "registered_poor"]
    search_fields = ["name", "id_number", "registry_number"]
    list_filter = ["gender", "registered_poor", "left_behind", "migrant", "orphan", "disability"]
    # The changelist's own default, given to the autocomplete too, whose pages would otherwise be unordered.
    ordering = ["-pk"]
    show_full_result_count = False
    form = StudentAdminForm

    def has_add_permission(self, request) -> bool:
        # A child enters the ledger with a case, on the new-case form or by import.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        student_update(
            student=obj, changes={name: form.cleaned_data[name] for name in form.changed_data}, user=request.user
        )


@admin.register(ClosureReason)
class ClosureReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "is_exemption", "active"]
    list_editable = ["active"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LedgerJob)
class LedgerJobAdmin(ChildDataAdmin, ReadOnlyAdmin):
    list_display = ["pk", "kind", "status", "county", "requested_by", "progress", "created_at", "finished_at"]
    list_filter = ["kind", "status"]


@admin.register(IdentifierAccess)
class IdentifierAccessAdmin(ChildDataAdmin, ReadOnlyAdmin):
    list_display = ["at", "user", "case", "purpose"]
    list_select_related = ["user", "case"]
    search_fields = ["user__username"]


# Verifications of the hash chains name entries and cases by number and counties by name, no child's data.
@admin.register(LedgerVerification)
class LedgerVerificationAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "trigger", "county", "since", "entries_checked", "broken_count", "ok"]
    list_filter = ["ok", "trigger"]
    list_select_related = ["county"]
    fields = [
        "started_at",
        "finished_at",
        "trigger",
        "county",
        "since",
        "entries_checked",
        "broken_count",
        "ok",
        "broken_links_found",
    ]
    readonly_fields = fields

    @admin.display(description=_("broken links found"))
    def broken_links_found(self, verification: LedgerVerification) -> str:
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((describe(r),) for r in verification.broken_links))
        )


@admin.register(CountyVerification)
class CountyVerificationAdmin(ReadOnlyAdmin):
    """The last verification per county: of every verification that walked a county's chains, the latest."""

    list_display = ["county", "verified_at", "entries_checked", "broken_count", "intact", "verification_link"]
    list_select_related = ["county", "verification"]
    search_fields = ["county__name", "county__code"]

    def get_queryset(self, request):
        latest = CountyVerification.objects.order_by("county_id", "-verification_id").distinct("county_id").values("pk")
        return super().get_queryset(request).filter(pk__in=latest)

    @admin.display(description=_("verified at"), ordering="verification__finished_at")
    def verified_at(self, result: CountyVerification):
        return result.verification.finished_at

    @admin.display(description=_("intact"), boolean=True)
    def intact(self, result: CountyVerification) -> bool:
        return result.ok

    @admin.display(description=_("verification"))
    def verification_link(self, result: CountyVerification) -> str:
        url = reverse("admin:students_ledgerverification_change", args=[result.verification_id])
        return format_html('<a href="{}">{}</a>', url, result.verification)
