"""Idempotency keys for API writes: the first answer is kept and replayed on a repeat.

Call ``idempotency_claim`` and ``idempotency_finish`` inside the transaction that does the
work: a repeat that arrives while the first request's transaction is open waits on the
unique index, then finds the finished record. Nothing is kept for a request that failed, so
it can be retried with the same key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from provisioning.models import IdempotencyRecord

# A key may be used again after this long (Stripe keeps keys for 24 hours, so do we).
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyMismatch(Exception):
    """The key was used for a different request (another body, method or path)."""


class IdempotencyInProgress(Exception):
    """The first request with this key has not finished."""


@dataclass(frozen=True)
class Claim:
    record: IdempotencyRecord
    replay: bool  # True: answer with record.status and record.response, do nothing else


def idempotency_claim(*, user: Any, key: str, method: str, path: str, body_hash: str) -> Claim:
    """Claim ``key`` for this request, or return the finished record of its first use."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("claim an idempotency key inside the transaction that does the work")
    now = timezone.now()
    IdempotencyRecord.objects.filter(user=user, created_at__lt=now - KEY_LIFETIME).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user=user, key=key, method=method, path=path, body_hash=body_hash
            )
        return Claim(record=record, replay=False)
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.get(user=user, key=key)
    if (record.method, record.path, record.body_hash) != (method, path, body_hash):
        raise IdempotencyMismatch(
            "this Idempotency-Key was used for a different request; use a new key"
        )
    if record.status is None:
        raise IdempotencyInProgress("a request with this Idempotency-Key is still in progress")
    return Claim(record=record, replay=True)


def idempotency_finish(*, record: IdempotencyRecord, status: int, response: Any) -> None:
    record.status = status
    record.response = response
    record.save(update_fields=["status", "response"])
