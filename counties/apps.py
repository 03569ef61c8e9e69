from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CountiesConfig(AppConfig):
    name = "counties"
    verbose_name = _("Places and people")

    def ready(self) -> None:
        # Users sign in here (counties holds the User model): a new session starts its idle clock at once.
        from dropout_ledger import sessions  # noqa: F401 - connects the sign-in signal
        from dropout_ledger.database_roles import grant_after_migrate

        # Once per migrate, when every app's tables exist: the application's role gets its rights on them.
        post_migrate.connect(grant_after_migrate, sender=self, dispatch_uid="grant_application_rights")
