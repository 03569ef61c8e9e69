from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        # The schema's descriptions of the token sign-in and of the case list's filters (drf-spectacular's
        # extensions register themselves when their module is imported).
        from . import filtering, schema  # noqa: F401
