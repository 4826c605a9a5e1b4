"""API authentication: DRF's token scheme, with the token's lookup compiled once per process."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from explorer.prepared import PLACEHOLDER_TEXT, Prepared


def _user_of_token(key: str) -> QuerySet[Any]:
    return get_user_model().objects.filter(auth_token__key=key)


_USER_OF_TOKEN = Prepared(_user_of_token, key=PLACEHOLDER_TEXT)


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`, answered as DRF answers it (the same messages), from one
    query whose SQL is compiled once (explorer.prepared) instead of on every request.

    `request.auth` is the token's key, not a `Token` object: nothing here reads more of it.
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, str]:
        users = _USER_OF_TOKEN(key=key)
        if not users:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not users[0].is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return users[0], key
