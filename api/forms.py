from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .tokens import MAX_DAYS


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("What will use it"),
        max_length=80,
        help_text=_("e.g. the province's data exchange"),
    )
    days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=MAX_DAYS,
        initial=lambda: settings.API_TOKEN_DAYS,
    )
