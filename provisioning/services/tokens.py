"""API tokens: made, checked and revoked here. The key exists in clear only in the answer to
``token_create``; the database keeps its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from provisioning.audit import audit_record
from provisioning.errors import Forbidden, InvalidRequest
from provisioning.models import ApiToken
from provisioning.roles import is_platform_admin

KEY_PREFIX = "ldr_"
DEFAULT_DAYS = 90
MAX_DAYS = 3650
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenInvalid(Exception):
    """The key is unknown, expired or revoked (the API answers 401 with this message)."""


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, user: Any, name: str, days: int = DEFAULT_DAYS, ip: str | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``user``, valid for ``days``; returns the row and the key (shown once)."""
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "give the token a name, such as the pipeline that will use it"
    elif len(name) > 100:
        errors["name"] = "at most 100 characters"
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        errors["days"] = f"a number of days from 1 to {MAX_DAYS}"
    if errors:
        raise InvalidRequest("the token is not valid", fields=errors)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_prefix=key[: ApiToken.PREFIX_LENGTH],
        key_hash=token_hash(key),
        expires_at=timezone.now() + timedelta(days=days),
    )
    expires = token.expires_at.isoformat()
    audit_record(
        actor=user, action="token.created", obj=token, team=None,
        after={"name": name, "prefix": token.key_prefix, "expires_at": expires}, ip=ip,
    )  # fmt: skip
    return token, key


@transaction.atomic
def token_revoke(*, user: Any, token: ApiToken, ip: str | None = None) -> ApiToken:
    """Revoke one of the user's own tokens (a platform admin may revoke anyone's); revoking
    twice changes nothing."""
    if token.user_id != user.pk and not is_platform_admin(user):
        raise Forbidden("you may revoke only your own tokens")
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=user, action="token.revoked", obj=token, team=None,
            after={"name": token.name, "prefix": token.key_prefix}, ip=ip,
        )  # fmt: skip
    return token


def token_authenticate(*, key: str) -> ApiToken:
    """The active token for ``key`` with its user, or TokenInvalid saying why not."""
    try:
        token = ApiToken.objects.select_related("user").get(key_hash=token_hash(key))
    except ApiToken.DoesNotExist:
        raise TokenInvalid("invalid token") from None
    if token.revoked_at is not None:
        raise TokenInvalid("this token has been revoked")
    now = timezone.now()
    if token.expires_at <= now:
        raise TokenInvalid("this token has expired")
    if not token.user.is_active:
        raise TokenInvalid("the token's user is inactive")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
