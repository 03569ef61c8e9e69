"""Signing in to the API with a token: `Authorization: Token <key>` (or `Bearer <key>`).

The token acts as its user, with the user's scope and rights exactly (students.access): a token sees what its
user sees on the pages, masked the same way. A revoked or expired token, or one whose user is inactive, is refused
with 401.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from .tokens import token_for_key

SCHEMES = (b"token", b"bearer")


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in SCHEMES:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the token as “Authorization: Token <key>”."))
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("This token is not valid.")) from None
        token = token_for_key(key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This token is not valid: it is unknown, revoked or expired."))
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword
