"""Every API error has one shape: ``{"detail", "code", "fields"?}``.

Service errors (provisioning.errors) map to their status here, so views only call services.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.security import audit_denial
from provisioning.errors import Conflict, Forbidden, PolicyRefused, ServiceError
from provisioning.services.idempotency import IdempotencyInProgress, IdempotencyMismatch

logger = logging.getLogger(__name__)

SERVICE_STATUS: dict[type[ServiceError], int] = {
    PolicyRefused: status.HTTP_400_BAD_REQUEST,
    Forbidden: status.HTTP_403_FORBIDDEN,
    Conflict: status.HTTP_409_CONFLICT,
}


def error_body(detail: str, code: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail, "code": code}
    if fields:
        body["fields"] = fields
    return body


def flatten_fields(detail: Any, prefix: str = "") -> dict[str, str]:
    """DRF's nested error lists and dicts as one message per dotted field name."""
    if isinstance(detail, dict):
        flat: dict[str, str] = {}
        for key, value in detail.items():
            flat.update(flatten_fields(value, f"{prefix}{key}."))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix.rstrip(".") or "non_field_errors": " ".join(str(i) for i in detail)}
        flat = {}
        for index, item in enumerate(detail):
            flat.update(flatten_fields(item, f"{prefix}{index}."))
        return flat
    return {prefix.rstrip(".") or "non_field_errors": str(detail)}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    denial = Forbidden | ObjectDoesNotExist | Http404 | DjangoPermissionDenied
    if isinstance(exc, denial | exceptions.PermissionDenied):
        request = context.get("request")
        if request is not None:
            audit_denial(request, exc, dict(context.get("kwargs") or {}))
    if isinstance(exc, ServiceError):
        code = SERVICE_STATUS.get(type(exc), status.HTTP_400_BAD_REQUEST)
        return Response(error_body(exc.message, exc.code, exc.fields), status=code)
    if isinstance(exc, IdempotencyMismatch):
        return Response(
            error_body(str(exc), "idempotency_key_reused"),
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, IdempotencyInProgress):
        return Response(
            error_body(str(exc), "idempotency_key_in_progress"), status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body(
                f"the body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes",
                "too_large",
            ),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, ObjectDoesNotExist | Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("unhandled error in %s", type(view).__name__ if view else "the API")
        return Response(
            error_body("internal error: it has been logged", "server_error"),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    assert isinstance(exc, exceptions.APIException)  # DRF answers nothing else
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            "the request is not valid", "invalid", flatten_fields(exc.detail)
        )
    elif isinstance(exc, exceptions.ParseError):
        response.data = error_body(
            "the body is not valid JSON", "parse_error", {"body": str(exc.detail)}
        )
    else:
        code = getattr(exc.detail, "code", None) or exc.default_code
        response.data = error_body(str(exc.detail), str(code))
    return response
