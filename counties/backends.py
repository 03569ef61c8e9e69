"""Signing in: Django's model backend, with the user's area loaded in the same query as the user.

Every request reads the signed-in user's scope (students.access.scope_for), which needs their division
or school; fetching them with the user saves a query on every page and every write.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class AreaModelBackend(ModelBackend):
    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("division", "school").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
