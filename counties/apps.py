from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CountiesConfig(AppConfig):
    name = "counties"
    verbose_name = _("Places and people")

    def ready(self) -> None:
        # Users sign in here (counties holds the User model): a new session starts its idle clock at once.
        from dropout_ledger import sessions  # noqa: F401 - connects the sign-in signal
