"""Idempotency keys on POSTs: a request retried with the same `Idempotency-Key` is answered as the first one was,
and acts once. A county's network may drop the answer to a visit that was recorded: the retry must not record it
twice.

The key is the client's (a UUID, say), one per user. The first request with it writes a row in the same transaction
as its work; a second one with the same key waits on that row (PostgreSQL's unique index) until the first commits,
then gets the first one's answer. Only a success is kept: a refused request may be corrected and sent again with
its key. The same key sent with another request (another path or body) is refused with 422. A key is remembered
for KEPT (a day): a user's older answers are forgotten as their next key arrives.
"""

import datetime
import functools
import hashlib
import json

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.response import Response

from .errors import IdempotencyKeyReused
from .models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_LENGTH = 255
REPLAYED = "Idempotent-Replayed"
KEPT = datetime.timedelta(days=1)

PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "A key of your own (a UUID) for this request: a retry with the same key is answered as the first one was "
        "and records nothing again. 本请求的唯一键（如 UUID）：使用相同键重试时，返回首次的结果，不会重复记录。"
    ),
)


def _value(value):
    if hasattr(value, "read"):  # an uploaded file: its name and size stand for it
        return {"file": getattr(value, "name", ""), "size": getattr(value, "size", None)}
    return value


def fingerprint(request) -> str:
    data = request.data
    if hasattr(data, "lists"):
        data = {key: [_value(v) for v in values] for key, values in data.lists()}
    body = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(method):
    """Wraps an API view's `post`: with an Idempotency-Key, it acts at most once per key."""

    @functools.wraps(method)
    def wrapped(self, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return method(self, request, *args, **kwargs)
        if len(key) > MAX_LENGTH:
            raise exceptions.ValidationError(
                {HEADER: [_("An idempotency key has at most %(max)d characters.") % {"max": MAX_LENGTH}]}
            )
        digest = fingerprint(request)
        IdempotentRequest.objects.filter(user=request.user, created_at__lt=timezone.now() - KEPT).delete()
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotentRequest.objects.create(user=request.user, key=key, fingerprint=digest)
            except IntegrityError:
                record = IdempotentRequest.objects.get(user=request.user, key=key)
                if record.fingerprint != digest or record.status_code is None:
                    raise IdempotencyKeyReused(
                        _("This idempotency key was used for another request: use a new key for a new request.")
                    ) from None
                replay = Response(record.body, status=record.status_code)
                replay[REPLAYED] = "true"
                return replay
            response = method(self, request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                record.status_code = response.status_code
                record.body = response.data
                record.save(update_fields=["status_code", "body"])
            else:
                record.delete()
            return response

    return wrapped
