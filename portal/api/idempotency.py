"""``Idempotency-Key`` on POST: a repeat with the same body gets the first answer back and
creates nothing; the same key with another body is refused (422).

The key is claimed in the same transaction as the service call (see
provisioning.services.idempotency), so "did the work" and "kept the answer" commit together.
Only successful answers are kept: an error leaves no record and the key can be used again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from provisioning import services
from provisioning.services.idempotency import MAX_KEY_LENGTH

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

HEADER_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (a UUID): a repeat with the same body returns the first "
    "answer and creates nothing new; the same key with another body answers 422.",
)


def idempotent(request: Request, work: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return work()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise exceptions.ValidationError(
            {HEADER: f"1 to {MAX_KEY_LENGTH} characters, such as a UUID"}
        )
    # The parsed body in a canonical form: the same JSON however it is spaced or ordered.
    canonical = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    body_hash = hashlib.sha256(canonical.encode()).hexdigest()
    with transaction.atomic():
        claim = services.idempotency_claim(
            user=request.user,
            key=key,
            method=request.method or "POST",
            path=request.path,
            body_hash=body_hash,
        )
        if claim.replay:
            record = claim.record
            assert record.status is not None
            return Response(
                record.response, status=record.status, headers={REPLAYED_HEADER: "true"}
            )
        response = work()
        if response.status_code >= 300:
            transaction.set_rollback(True)
            return response
        services.idempotency_finish(
            record=claim.record, status=response.status_code, response=response.data
        )
    return response
