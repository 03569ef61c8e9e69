"""Sessions end after SESSION_IDLE_MINUTES without a request, at the cost of one write every few minutes.

Django moves a session's expiry on only when the session is saved. Saving it on every request
(SESSION_SAVE_EVERY_REQUEST) would add a write to every page; instead the session is marked changed at most
once per REFRESH_SECONDS, so SessionMiddleware saves it then and the expiry moves on. A session idle for
the whole SESSION_COOKIE_AGE still expires; one in use expires at most REFRESH_SECONDS early.
"""

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

REFRESHED = "_refreshed_at"
REFRESH_SECONDS = 300


class IdleSessionMiddleware:
    """Goes after SessionMiddleware, so that its response step runs before the session is saved."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.accessed and not session.is_empty():
            now = int(time.time())
            if now - session.get(REFRESHED, 0) >= REFRESH_SECONDS:
                session[REFRESHED] = now
        return response


@receiver(user_logged_in)
def _mark_signed_in(sender, request, user, **kwargs) -> None:
    # A new session is saved at sign-in anyway; its first refresh is due REFRESH_SECONDS later.
    if request is not None and hasattr(request, "session"):
        request.session[REFRESHED] = int(time.time())
