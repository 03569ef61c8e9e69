"""Administrators' view of the places and the people who work in them.

Divisions come from the official codes (load_divisions), so only superusers may change them here.
County groups and their dated memberships are maintained here by administrators: a county leaves a
group by getting a "member until" date, not by being deleted, so that earlier figures stay as they were.
"""

import datetime

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import CountyGroup, CountyGroupMembership, Division, School, User


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "kind", "parent", "province"]
    list_filter = ["level", ("province", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "name"]
    list_select_related = ["parent", "province"]
    raw_id_fields = ["parent", "province", "prefecture"]
    list_per_page = 100

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


class MembershipInline(admin.TabularInline):
    """The group's memberships, one row each: administrators correct dates or remove a mistaken row.

    The county is shown, not edited, so that a group of hundreds of counties renders in a few queries;
    counties are added in the inline below.
    """

    model = CountyGroupMembership
    fields = ["county", "county_code", "province", "valid_from", "valid_to"]
    readonly_fields = ["county", "county_code", "province"]
    extra = 0
    ordering = ["county__code", "valid_from"]
    verbose_name_plural = _("memberships")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("group", "county__province")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("code"))
    def county_code(self, membership) -> str:
        return membership.county.code

    @admin.display(description=_("province"))
    def province(self, membership) -> Division:
        return membership.county.province


class NewMembershipInline(admin.TabularInline):
    """Empty rows to add counties to the group, with a county search."""

    model = CountyGroupMembership
    fields = ["county", "valid_from", "valid_to"]
    autocomplete_fields = ["county"]
    extra = 3
    verbose_name = _("new membership")
    verbose_name_plural = _("add counties")

    def get_queryset(self, request):
        return super().get_queryset(request).none()


@admin.register(CountyGroup)
class CountyGroupAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "name_en", "members_today", "members_ever"]
    search_fields = ["slug", "name", "name_en"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [MembershipInline, NewMembershipInline]

    def get_queryset(self, request):
        today = timezone.localdate()
        return (
            super()
            .get_queryset(request)
            .annotate(
                members_ever=Count("memberships__county", distinct=True),
                members_today=Count(
                    "memberships__county",
                    distinct=True,
                    filter=Q(memberships__valid_from__lte=today)
                    & (Q(memberships__valid_to__isnull=True) | Q(memberships__valid_to__gt=today)),
                ),
            )
        )

    @admin.display(description=_("counties today"), ordering="members_today")
    def members_today(self, group) -> int:
        return group.members_today

    @admin.display(description=_("counties ever"), ordering="members_ever")
    def members_ever(self, group) -> int:
        return group.members_ever


class ActiveOnFilter(admin.SimpleListFilter):
    title = _("member today")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        today: datetime.date = timezone.localdate()
        if self.value() == "yes":
            return queryset.active_on(today)
        if self.value() == "no":
            return queryset.exclude(pk__in=queryset.active_on(today).values("pk"))
        return queryset


@admin.register(CountyGroupMembership)
class CountyGroupMembershipAdmin(admin.ModelAdmin):
    """Every membership on one page, to correct dates for many counties at once."""

    list_display = ["county", "county_code", "province", "group", "valid_from", "valid_to"]
    list_editable = ["valid_from", "valid_to"]
    list_filter = ["group", ActiveOnFilter, ("county__province", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["county__name", "county__code", "group__name", "group__slug"]
    list_select_related = ["county__province", "group"]
    autocomplete_fields = ["county"]
    list_per_page = 100

    @admin.display(description=_("code"), ordering="county__code")
    def county_code(self, membership) -> str:
        return membership.county.code

    @admin.display(description=_("province"), ordering="county__province__code")
    def province(self, membership) -> Division:
        return membership.county.province


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "county", "township", "kind"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "county__name", "township"]
    list_select_related = ["county"]
    autocomplete_fields = ["county", "counterpart"]
    show_full_result_count = False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "division", "school", "is_active"]
    list_filter = ["role", "is_active", "is_staff", "is_superuser"]
    list_select_related = ["division", "school"]
    search_fields = ["username", "first_name", "last_name", "email", "division__name", "school__name"]
    autocomplete_fields = ["division", "school"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Role and area"), {"fields": ["role", "division", "school"]}),
    ]
    add_fieldsets = [
        *DjangoUserAdmin.add_fieldsets,
        (_("Role and area"), {"fields": ["role", "division", "school"]}),
    ]
