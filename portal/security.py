"""Sign-in rate limiting, the sign-in audit and the audit of refused access (docs/security.md).

- ``RateLimitBackend``: django-axes' check, per username *and* address (settings AXES_*).
- ``locked_out``: the "too many attempts" page axes answers with while a pair is locked.
- ``record_*``: sign-ins, failed sign-ins and sign-outs as AuditEvent rows (signals, apps.py).
- ``audit_denial``: one ``access.denied`` AuditEvent per 403, and per 404 on a row that exists
  but is not the user's; called by ``DenialAuditMiddleware`` (web pages) and by the API's
  exception handler (portal/api/exceptions.py). 404s for ids that do not exist are not audited.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import DatabaseError, models
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from provisioning.audit import audit_note
from provisioning.errors import Forbidden

logger = logging.getLogger(__name__)

DENIED = "access.denied"


def client_ip(request: Any) -> str | None:
    """The client's address: REMOTE_ADDR, or behind settings.TRUSTED_PROXY_COUNT proxies the
    address the outermost one saw (an address a client puts in the header itself is never used)."""
    if request is None:
        return None
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count] or None
    return request.META.get("REMOTE_ADDR") or None


_ip = client_ip


# --- sign-in rate limiting ---------------------------------------------------------------
class RateLimitBackend(AxesStandaloneBackend):
    """Axes' lockout check. Every sign-in over the web passes its request; a call without one
    (``Client.login`` in tests, code in a shell) has no remote party to limit, so it is let
    through to the password check instead of failing."""

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


# --- the sign-in audit -------------------------------------------------------------------
def _safe(write: Callable[[], object]) -> None:
    """An audit write that fails never turns the answer into a 500; it is logged instead."""
    try:
        write()
    except DatabaseError:
        logger.warning("could not write a security audit event", exc_info=True)


def record_signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    _safe(
        lambda: audit_note(
            actor=user,
            action="auth.signed_in",
            object_type="user",
            object_id=str(user.pk),
            after={"username": user.get_username()},
            ip=_ip(request),
        )
    )


def record_signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:  # signing out without a session
        return
    _safe(
        lambda: audit_note(
            actor=user,
            action="auth.signed_out",
            object_type="user",
            object_id=str(user.pk),
            after={"username": user.get_username()},
            ip=_ip(request),
        )
    )


def record_signin_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """Object: the user when the name is known; otherwise the name tried (no user is made)."""
    username = str(credentials.get("username") or "")[:150]
    user_model = get_user_model()
    user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
    after: dict[str, Any] = {"username": username}
    if request is not None and getattr(request, "axes_locked_out", False):
        after["locked_out"] = True
    _safe(
        lambda: audit_note(
            actor=None,
            action="auth.sign_in_failed",
            object_type="user" if user else "unknown_username",
            object_id=str(user.pk) if user else username[:64],
            after=after,
            ip=_ip(request),
        )
    )


# --- refused access ----------------------------------------------------------------------
def _model_of(exc: BaseException) -> type[models.Model] | None:
    """The model whose DoesNotExist this is (or caused this Http404), if any."""
    from django.apps import apps

    table = {model.DoesNotExist: model for model in apps.get_models()}
    seen: BaseException | None = exc
    while seen is not None:
        model = table.get(type(seen))
        if model is not None:
            return model
        seen = seen.__cause__ or seen.__context__
    return None


def _row_exists(model: type[models.Model], lookup: dict[str, Any]) -> str | None:
    """The id of the row the URL named, when it exists at all (whoever owns it)."""
    field_names = {f.name for f in model._meta.get_fields()}
    if "pk" in lookup:
        key, value = "pk", lookup["pk"]
    elif "slug" in lookup and "slug" in field_names:
        key, value = "slug", lookup["slug"]
    else:
        return None
    try:
        pk = model._default_manager.filter(**{key: value}).values_list("pk", flat=True).first()
    except (ValueError, TypeError, DatabaseError):
        return None
    return None if pk is None else str(pk)


def audit_denial(request: Any, exc: BaseException, lookup: dict[str, Any]) -> None:
    """Record a refused access: every 403; a 404 only when the named row exists."""
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    after: dict[str, Any] = {"path": request.path[:500], "method": request.method}
    if isinstance(exc, PermissionDenied | Forbidden) or getattr(exc, "status_code", 0) == 403:
        after["status"] = 403
        after["reason"] = str(getattr(exc, "message", None) or exc or "forbidden")[:500]
        model = _model_of(exc)
        object_type = model._meta.model_name if model else "url"
        object_id = str(lookup.get("pk") or lookup.get("slug") or (match and match.url_name) or "")
    elif isinstance(exc, ObjectDoesNotExist | Http404):
        model = _model_of(exc)
        if model is None:
            return
        found = _row_exists(model, lookup)
        if found is None:
            return  # no such row at all: nothing was refused
        after["status"] = 404
        after["reason"] = "belongs to a team the user is not in"
        object_type, object_id = model._meta.model_name or "object", found
    else:
        return
    _safe(
        lambda: audit_note(
            actor=user,
            action=DENIED,
            object_type=object_type,
            object_id=object_id,
            after=after,
            ip=_ip(request),
        )
    )


class PermissionBackend(ModelBackend):
    """Django's ModelBackend with a user's permissions read in one query, not two (the
    user's own, then their groups'): every page and API call asks for the roles."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            from django.contrib.auth.models import Permission

            granted = Permission.objects.all()
            if not user_obj.is_superuser:
                granted = granted.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app}.{codename}"
                for app, codename in granted.values_list("content_type__app_label", "codename")
            }
        return user_obj._perm_cache  # type: ignore[no-any-return]


class DenialAuditMiddleware:
    """Web pages: audits the Http404 / PermissionDenied a view raises (see audit_denial)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, Http404 | PermissionDenied):
            match = request.resolver_match
            audit_denial(request, exception, dict(match.kwargs) if match else {})
        return None
