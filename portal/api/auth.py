"""``Authorization: Token <key>`` for pipelines (the browser's session works too), and the
per-user throttles whose rates live in settings.REST_FRAMEWORK."""

from __future__ import annotations

import logging
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from redis.exceptions import RedisError
from rest_framework import authentication, exceptions, throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings

from provisioning import services
from provisioning.services.tokens import TokenInvalid

KEYWORD = "Token"
logger = logging.getLogger(__name__)


class TokenAuthentication(authentication.BaseAuthentication):
    """A personal API token (see provisioning.services.tokens); 401 when it is unknown,
    expired or revoked, with a ``WWW-Authenticate`` header."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                f"use the header 'Authorization: {KEYWORD} <key>'"
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed("invalid token") from None
        try:
            token = services.token_authenticate(key=key)
        except TokenInvalid as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{KEYWORD} realm="api"'


class TokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "portal.api.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f"'{KEYWORD} <key>': make a key on /account/tokens/ "
            "or with `manage.py create_token`",
        }


class _SettingsRate(throttling.SimpleRateThrottle):
    """Read the rate when asked, not at import: tests and deployments change settings.

    The counters live in the cache (Redis). Without Redis the API still answers, unthrottled:
    losing Redis must not stop the portal (DESIGN.md: the queue is only a doorbell).
    """

    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            logger.warning("throttling is off: the cache does not answer", exc_info=True)
            return True


class UserRateThrottle(_SettingsRate, throttling.UserRateThrottle):
    scope = "user"


class AnonRateThrottle(_SettingsRate, throttling.AnonRateThrottle):
    scope = "anon"


class WriteRateThrottle(_SettingsRate, throttling.UserRateThrottle):
    """Requests that change something have their own, lower, per-user budget."""

    scope = "write"

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)
