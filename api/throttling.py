"""Throttling per token: each token (or signed-in browser) has API_THROTTLE_RATE requests; past it, 429 with
Retry-After. Counted in the "api" cache (Redis), which every web replica shares.

A cache that cannot be reached lets the request through, as if counted: a Redis outage must not take the API down
with it (the ledger's data is in PostgreSQL).
"""

import logging

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

log = logging.getLogger(__name__)


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    @property
    def cache(self):
        return caches["api"]

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        token = request.auth
        if token is not None and hasattr(token, "pk"):
            ident = f"token:{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"address:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except RedisError:
            log.warning("API throttling skipped: the cache cannot be reached")
            return True
