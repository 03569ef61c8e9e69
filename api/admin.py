"""Administrators make and revoke any user's API tokens. A new key is shown once, on the page that answers the
making; the list shows each token's start, expiry and last use, never a key."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import ApiToken
from .tokens import MAX_DAYS, token_create, token_revoke


class ApiTokenAddForm(forms.ModelForm):
    days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=MAX_DAYS, initial=lambda: settings.API_TOKEN_DAYS
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]
    readonly_fields = ["user", "name", "prefix", "created_at", "created_by", "expires_at", "last_used_at", "revoked_at"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return ["user", "name", "days"] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        # A token is made and revoked, never edited; its page is read-only.
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        made = token_create(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            days=form.cleaned_data["days"],
            created_by=request.user,
        )
        obj.pk = made.token.pk
        obj._new_key = made.key

    def response_add(self, request, obj, post_url_continue=None):
        return render(
            request,
            "admin/api/apitoken/made.html",
            {**self.admin_site.each_context(request), "token": obj, "key": obj._new_key, "opts": self.model._meta},
        )

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            token_revoke(token=token, user=request.user)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens)) % {"count": len(tokens)},
            messages.SUCCESS,
        )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")
