"""OpenAPI generation: every operation documents the error answers it can give, in the one
error shape, so a client (and Schemathesis) knows what to expect."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field

from portal.api.serializers import ErrorSerializer
from provisioning.filters import IdFilter

# The shared filters know nothing of OpenAPI; say here that an id filter takes an integer.
extend_schema_field(OpenApiTypes.INT)(IdFilter)

ERRORS = {
    "400": "Bad input: `fields` names each field and what is wrong with it",
    "401": "No token, or an unknown, expired or revoked one",
    "403": "A visible object, an action you may not take (the reason is in `detail`)",
    "404": "No such object, or another team's",
    "429": "Too many requests: wait for Retry-After seconds",
}
WRITE_ERRORS = {
    "409": "The environment already has an active change, or the change has moved on",
    "422": "This Idempotency-Key was used with another body",
}


class ApiAutoSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        errors = dict(ERRORS)
        if self.method == "POST":
            errors.update(WRITE_ERRORS)
        responses = operation["responses"]
        for code, description in errors.items():
            if code not in responses:
                answer = OpenApiResponse(response=ErrorSerializer, description=description)
                responses[code] = self._get_response_for_code(answer, code)
        return operation
