"""Celery tasks: thin wrappers around services. Queues: see settings.CELERY_TASK_ROUTES."""

from __future__ import annotations

import socket

from celery import shared_task

from provisioning.health import record_beat_heartbeat


@shared_task(name="provisioning.tasks.ping")
def ping(payload: str = "pong") -> dict[str, str]:
    """Proves the wiring: runs in a worker and answers with where it ran."""
    return {"answer": payload, "host": socket.gethostname()}


@shared_task(name="provisioning.tasks.provisioning_ping")
def provisioning_ping(payload: str = "pong") -> dict[str, str]:
    """The same proof on the provisioning queue (routed by name)."""
    return {"answer": payload, "host": socket.gethostname()}


@shared_task(name="provisioning.tasks.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    record_beat_heartbeat()
