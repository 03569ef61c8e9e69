"""Making, checking and revoking API tokens. A key is shown once, when it is made, and never stored."""

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from counties.models import Role

from .models import ApiToken

KEY_PREFIX = "dl_"
# A token's last use is written at most this often: a system polling the API does not write on every request.
LAST_USED_EVERY = datetime.timedelta(minutes=1)
MAX_DAYS = 366


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def is_administrator(user) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", None) == Role.ADMIN)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    key: str  # the only time the key exists outside its holder's system


@transaction.atomic
def token_create(*, user, name: str, days: int | None = None, created_by=None) -> NewToken:
    """Make a token for `user`, valid for `days` (default API_TOKEN_DAYS). `created_by` is the user themself or an
    administrator; anyone else is refused."""
    created_by = created_by or user
    if created_by.pk != user.pk and not is_administrator(created_by):
        raise PermissionDenied(_("Only administrators make tokens for other users."))
    name = (name or "").strip()
    days = settings.API_TOKEN_DAYS if days is None else days
    errors = {}
    if not name:
        errors["name"] = [_("Say what will use this token.")]
    if not 1 <= days <= MAX_DAYS:
        errors["days"] = [_("A token is valid for 1 to %(max)d days.") % {"max": MAX_DAYS}]
    if errors:
        raise ValidationError(errors)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        prefix=key[: len(KEY_PREFIX) + 6],
        digest=digest_of(key),
        created_by=created_by,
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )
    token.full_clean(exclude=["user", "created_by"])
    token.save()
    return NewToken(token=token, key=key)


def token_revoke(*, token: ApiToken, user) -> ApiToken:
    """Revoke a token at once: its owner or an administrator may. Revoking twice keeps the first time."""
    if token.user_id != user.pk and not is_administrator(user):
        raise PermissionDenied(_("Only administrators revoke other users' tokens."))
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def token_for_key(key: str) -> ApiToken | None:
    """The usable token with this key, its last use recorded; None for an unknown, revoked or expired key."""
    if not key.startswith(KEY_PREFIX):
        return None
    token = ApiToken.objects.usable().select_related("user").filter(digest=digest_of(key)).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
