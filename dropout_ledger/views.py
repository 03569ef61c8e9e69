"""Views of the project itself rather than of an app: the icon browsers ask for at /favicon.ico."""

from django.templatetags.static import static
from django.views.generic import RedirectView


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico whatever a page links: send them to the static file (its hashed name in
    production, worked out on the request, since the manifest is not read at import time)."""

    permanent = False

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("img/favicon.ico")
