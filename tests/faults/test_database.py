"""Case 7: the database connection dropped mid-request and mid-task (pg_terminate_backend on
the connection's own server process, from a second connection)."""

from __future__ import annotations

import psycopg
import pytest
from django import db
from django.db import connection

from provisioning import workflow
from provisioning.models import AuditEvent, ChangeRequest, Environment, StackEvent
from provisioning.services import changes as change_services
from provisioning.tasks import provisioning_apply
from tests import fakes

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/v1/environments/"


def drop_connection() -> None:
    """Kill this process's database connection from outside, as a failover or restart would."""
    from tests.e2e.conftest import database_url

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with psycopg.connect(database_url(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def rows() -> dict[str, int]:
    return {
        "environments": Environment.objects.count(),
        "changes": ChangeRequest.objects.count(),
        "audit": AuditEvent.objects.count(),
        "stack_events": StackEvent.objects.count(),
    }


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend needs PostgreSQL")


def test_7_connection_dropped_mid_request(people, monkeypatch, record, settings):
    from rest_framework.test import APIClient

    from provisioning import services

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    monkeypatch.setattr(change_services, "enqueue", lambda task, pk: None)
    _, key = services.token_create(user=people["alice"], name="faults")
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    original = change_services.audit_record
    dropped = []

    def audit_then_drop(**kwargs):
        if not dropped:  # the environment and change rows are written, not yet committed
            dropped.append(True)
            drop_connection()
        return original(**kwargs)

    monkeypatch.setattr(change_services, "audit_record", audit_then_drop)
    before = rows()
    body = {"team": "web", "name": "shop", "tier": 1, "region": "us-east-1"}
    failed = client.post(URL, body, format="json")
    # What a real server does at the end of every request (the test client skips it).
    db.close_old_connections()
    after_failure = rows()
    retried = client.post(URL, body, format="json")
    after_retry = rows()
    assert dropped and failed.status_code >= 500
    assert b"Traceback" not in failed.content and b"psycopg" not in failed.content
    assert after_failure == before, "nothing written half-way"
    assert retried.status_code == 202, retried.content
    assert after_retry["environments"] == before["environments"] + 1
    assert after_retry["changes"] == before["changes"] + 1
    record(
        7,
        done="mid-request: POST /api/v1/environments/ with the connection terminated between "
        "the environment/change inserts and the audit insert; the client retries",
        first_answer=failed.status_code,
        retry_answer=retried.status_code,
        rows_before=before,
        rows_after_failure=after_failure,
        rows_after_retry=after_retry,
    )


class DropAfter:
    def __init__(self, fake, method: str) -> None:
        self.fake, self.method, self.dropped = fake, method, 0

    def __getattr__(self, name: str):
        real = getattr(self.fake, name)
        if name != self.method or self.dropped:
            return real

        def call(**kwargs):
            result = real(**kwargs)
            self.dropped += 1
            drop_connection()  # AWS took the call; the database is gone before we record it
            return result

        return call


def test_7_connection_dropped_mid_task(people, fake_gateway, monkeypatch, record, settings):
    from worker.celery import app

    monkeypatch.setattr(change_services, "enqueue", lambda task, pk: None)
    change = change_services.environment_request(
        user=people["alice"], team=people["web"], name="shop", tier=1, region="us-east-1"
    )
    workflow.plan_change(change.pk)
    fakes.CURRENT = DropAfter(fake_gateway, "execute_change_set")
    before = rows()
    app.conf.task_always_eager = True
    try:
        provisioning_apply.apply(args=[change.pk])  # retried in place when eager
    finally:
        app.conf.task_always_eager = False
        fakes.CURRENT = fake_gateway
    change.refresh_from_db()
    after = rows()
    executes = [m for m in fake_gateway.mutations if m[0] == "execute_change_set"]
    applying = AuditEvent.objects.filter(action="change.applying", object_id=str(change.pk))
    assert fakes.CURRENT is fake_gateway and change.status == "applied", change.explanation
    assert len(executes) == 1 and fake_gateway.calls["execute_change_set"] == 1
    assert applying.count() == 1
    assert change.attempts == 2  # the first attempt, then the retry that adopted the stack
    record(
        7,
        done="mid-task: provisioning_apply with the connection terminated right after "
        "ExecuteChangeSet returned, before apply_started_at was written",
        task_attempts=change.attempts,
        execute_calls=len(executes),
        end=change.status,
        audit_applying_events=applying.count(),
        rows_before=before,
        rows_after=after,
    )
