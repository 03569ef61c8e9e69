"""The page for a form refused by the CSRF check (CSRF_FAILURE_VIEW), and the 503 for a database that stopped answering.

Django's own page for it names the check's reason and, with DEBUG on, how the settings should change; it is
drawn outside the product's layout, in English. This one is templates/403_csrf.html in the layout, in the
user's language, and says nothing of why the check failed. The other error pages (400, 403, 404, 500) are
Django's views with the project's templates of the same names.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.shortcuts import render
from django.template import loader
from django.views import defaults

logger = logging.getLogger(__name__)

# What a request meets when PostgreSQL restarts, fails over, or refuses connections for a while. Django's
# CONN_HEALTH_CHECKS (settings) replaces a dead connection at the next request; the requests in flight get this.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def csrf_failure(request, reason: str = ""):
    # The reason stays in the log (django.security.csrf), where Django writes it anyway.
    return render(request, "403_csrf.html", status=403)


def database_unavailable() -> HttpResponse:
    """503 with "try again in a moment": drawn without the request, whose context processors would need the database."""
    response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """A view that lost its database connection answers 503, with DEBUG on or off (the debug page would show a 500)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_UNAVAILABLE):
            logger.warning("Database unavailable for %s %s: %s", request.method, request.path, exception)
            return database_unavailable()
        return None


def server_error(request):
    """handler500: the 503 page when what failed, outside a view (a session or a sign-in), was the database."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable()
    return defaults.server_error(request)
