"""Health of the portal's dependencies, for /healthz and `manage.py healthcheck`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection

from provisioning.aws.clients import caller_identity

WORKER_HEARTBEAT_KEY = "ladder:celery-worker-heartbeat:{hostname}"
WORKER_HEARTBEAT_PATTERN = "ladder:celery-worker-heartbeat:*"
BEAT_HEARTBEAT_KEY = "ladder:celery-beat-heartbeat"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail}


_clients: dict[str, Any] = {}


def _redis() -> Any:
    """One client (and its connection pool) per Redis URL and process, not a new TCP
    connection for every check."""
    from redis import Redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    url = settings.REDIS_URL
    if url not in _clients:
        # One retry on a fresh connection: a pooled one is stale after Redis restarts.
        _clients[url] = Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=2, retry=Retry(NoBackoff(), 1)
        )
    return _clients[url]


def record_worker_heartbeat(*, hostname: str) -> None:
    _redis().set(
        WORKER_HEARTBEAT_KEY.format(hostname=hostname),
        f"{time.time():.3f}",
        ex=settings.WORKER_HEARTBEAT_MAX_AGE * 2,
    )


def record_beat_heartbeat() -> None:
    _redis().set(BEAT_HEARTBEAT_KEY, f"{time.time():.3f}", ex=settings.WORKER_HEARTBEAT_MAX_AGE * 2)


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down", with its reason
        return Check("database", False, f"{type(exc).__name__}: {exc}".strip()[:300])
    return Check("database", True, connection.vendor)


def check_redis() -> Check:
    try:
        _redis().ping()
    except Exception as exc:  # noqa: BLE001
        return Check("redis", False, f"{type(exc).__name__}: {exc}"[:300])
    return Check("redis", True, "PONG")


def check_worker() -> Check:
    try:
        client = _redis()
        keys = list(client.scan_iter(match=WORKER_HEARTBEAT_PATTERN, count=100))
        beats = [float(v) for v in client.mget(keys) if v] if keys else []
    except Exception as exc:  # noqa: BLE001
        return Check("celery_worker", False, f"heartbeat unreadable: {type(exc).__name__}")
    if not beats:
        return Check("celery_worker", False, "no Celery worker heartbeat")
    age = time.time() - max(beats)
    if age > settings.WORKER_HEARTBEAT_MAX_AGE:
        return Check("celery_worker", False, f"last Celery worker heartbeat {age:.0f}s ago")
    return Check("celery_worker", True, f"{len(beats)} worker(s), last heartbeat {age:.0f}s ago")


def check_beat() -> Check:
    try:
        value = _redis().get(BEAT_HEARTBEAT_KEY)
    except Exception as exc:  # noqa: BLE001
        return Check("celery_beat", False, f"heartbeat unreadable: {type(exc).__name__}")
    if not value:
        return Check("celery_beat", False, "no Celery beat heartbeat")
    age = time.time() - float(value)
    if age > settings.WORKER_HEARTBEAT_MAX_AGE:
        return Check("celery_beat", False, f"last Celery beat heartbeat {age:.0f}s ago")
    return Check("celery_beat", True, f"last beat {age:.0f}s ago")


def check_cloud() -> Check:
    where = settings.AWS_ENDPOINT_URL or f"AWS ({settings.AWS_REGION})"
    try:
        identity = caller_identity(region=settings.AWS_REGION)
    except Exception as exc:  # noqa: BLE001
        return Check("cloud", False, f"{where}: {type(exc).__name__}"[:300])
    return Check("cloud", True, f"{settings.PORTAL_CLOUD} {where} account {identity['account']}")


def health_report() -> tuple[bool, dict[str, Any]]:
    checks = [check_database(), check_redis(), check_worker(), check_beat(), check_cloud()]
    down = [c.name for c in checks if not c.ok]
    return not down, {
        "status": "ok" if not down else "down",
        "down": down,
        "checks": {c.name: c.as_dict() for c in checks},
    }
