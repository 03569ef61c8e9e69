"""Admin for the totals: the runs are a read-only record; the schedule is django-celery-beat's admin."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import TotalsRun


@admin.register(TotalsRun)
class TotalsRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "status",
        "trigger",
        "from_day",
        "to_day",
        "started_at",
        "finished_at",
        "progress",
        "days_written",
        "rows_written",
        "short_error",
    )
    list_filter = ("status", "trigger", "catch_up")
    date_hierarchy = "created_at"
    search_fields = ("error", "message")
    readonly_fields = [field.name for field in TotalsRun._meta.fields] + ["runs_page"]

    @admin.display(description=_("error"))
    def short_error(self, run: TotalsRun) -> str:
        return run.error.splitlines()[0][:120] if run.error else ""

    @admin.display(description=_("runs page"))
    def runs_page(self, run: TotalsRun) -> str:
        return format_html('<a href="{}">{}</a>', reverse("reports:runs"), _("Start a run and watch its progress"))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
