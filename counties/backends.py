"""Signing in: Django's model backend, with the user's area loaded in the same query as the user, behind
django-axes' throttling of wrong passwords.

Every request reads the signed-in user's scope (students.access.scope_for), which needs their division
or school; fetching them with the user saves a query on every page and every write.
"""

import math

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.shortcuts import render


class AreaModelBackend(ModelBackend):
    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("division", "school").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class ThrottledBackend(AxesStandaloneBackend):
    """django-axes' check of failed sign-ins, for sign-ins from the web.

    Code that authenticates without a request (a management command, a script) is not a sign-in that can
    be brute-forced from outside: it passes on to the next backend instead of failing.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def locked_out(request, response, credentials):
    """The lockout page, in the product's layout and the user's language, with how long to wait."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return render(request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=429)
