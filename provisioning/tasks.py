"""Celery tasks: thin wrappers around the workflow. Tasks named provisioning_* run on the
`provisioning` queue (settings.CELERY_TASK_ROUTES); the rest on `default`."""

from __future__ import annotations

import socket
from typing import Any

from celery import shared_task
from django import db
from django.conf import settings
from django.db import InterfaceError, OperationalError

from provisioning import notifications, workflow
from provisioning import reconcile as backstops
from provisioning.aws.gateway import GatewayError
from provisioning.health import record_beat_heartbeat
from provisioning.models import ChangeRequest
from provisioning.services import recommendations as advice

RETRY_LIMIT = 8
# The steps' outcomes live in the database. ignore_result also keeps `delay()` from subscribing
# to the result backend: with Redis down that blocked the request ringing the doorbell ~20 s.


def _run_step(task: Any, step_function: Any, change_id: int) -> str:
    """One step; AWS saying "later" (throttling, a pending change set) becomes a timed retry."""
    try:
        step = step_function(change_id)
    except (OperationalError, InterfaceError) as exc:
        # The database connection dropped under the step: every write is in its own
        # transaction and every step re-reads the row, so a fresh connection and the same
        # step again is safe (an apply that reached AWS is adopted on the retry).
        db.close_old_connections()
        if task.request.retries >= RETRY_LIMIT:
            raise
        countdown = min(60, settings.PROVISIONING_RETRY_BASE * 2**task.request.retries)
        raise task.retry(countdown=countdown, exc=exc) from exc
    except GatewayError as exc:
        if not exc.retryable:
            raise
        if task.request.retries >= RETRY_LIMIT:
            change = ChangeRequest.objects.select_related("environment__team").get(pk=change_id)
            workflow.error_change(change, f"gave up after {RETRY_LIMIT} retries: {exc}")
            return "errored"
        countdown = min(60, settings.PROVISIONING_RETRY_BASE * 2**task.request.retries)
        raise task.retry(countdown=countdown, exc=exc) from exc
    if step.retry_in is not None:
        raise task.retry(countdown=step.retry_in, max_retries=120)
    return step.outcome


@shared_task(
    bind=True, name="provisioning.tasks.provisioning_plan", max_retries=None, ignore_result=True
)
def provisioning_plan(self: Any, change_id: int) -> str:
    return _run_step(self, workflow.plan_change, change_id)


@shared_task(
    bind=True, name="provisioning.tasks.provisioning_apply", max_retries=None, ignore_result=True
)
def provisioning_apply(self: Any, change_id: int) -> str:
    outcome = _run_step(self, workflow.apply_change, change_id)
    if outcome in {"execute-started", "delete-started", "adopted"}:
        provisioning_check.delay(change_id)
    return outcome


@shared_task(
    bind=True, name="provisioning.tasks.provisioning_check", max_retries=None, ignore_result=True
)
def provisioning_check(self: Any, change_id: int) -> str:
    return _run_step(self, workflow.check_change, change_id)


@shared_task(name="provisioning.tasks.provisioning_sweep", ignore_result=True)
def provisioning_sweep() -> dict[str, int]:
    return backstops.sweep()


@shared_task(name="provisioning.tasks.provisioning_drain_notifications", ignore_result=True)
def provisioning_drain_notifications() -> int:
    return backstops.drain_notifications()


@shared_task(name="provisioning.tasks.provisioning_reconcile", ignore_result=True)
def provisioning_reconcile() -> dict[str, int]:
    return backstops.reconcile()


@shared_task(name="provisioning.tasks.advise_all", ignore_result=True)
def advise_all() -> dict[str, int]:
    """Refresh every ready environment's recommendations (default queue, beat)."""
    return advice.advise_all()


@shared_task(name="provisioning.tasks.webhooks_redeliver", ignore_result=True)
def webhooks_redeliver() -> int:
    """Ring again for webhook deliveries whose retry job was lost."""
    return notifications.redeliver_due()


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
