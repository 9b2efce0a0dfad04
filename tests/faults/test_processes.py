"""Faults with real Celery worker and beat processes (cases 1, 2, 3, 6 of issue 7).

The AWS side is the scripted gateway served from this process (tests/faults/remote.py): it
counts every call a worker makes, even one made just before the worker was killed."""

from __future__ import annotations

import time

import pytest

from provisioning import tasks
from provisioning.models import ChangeRequest, Environment
from tests.conftest import wait_for
from tests.faults.conftest import (
    RECONCILE_AFTER_SECONDS,
    RECONCILE_SECONDS,
    request_envs,
    statuses,
)

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.django_db(transaction=True),
]
S = ChangeRequest.Status
# The reconciler rings rows untouched for RECONCILE_AFTER_SECONDS, every RECONCILE_SECONDS;
# a worker that just reconnected to Redis needs a few seconds more.
ONE_PERIOD = RECONCILE_AFTER_SECONDS + RECONCILE_SECONDS


def check_against_stacks(stack, changes) -> None:
    """Every change's status is what its stack says; every mutating call once per change."""
    fake = stack.server.gateway
    for change in ChangeRequest.objects.filter(pk__in=[c.pk for c in changes]):
        env = Environment.objects.get(pk=change.environment_id)
        live = fake.stacks.get(env.stack_name)
        assert change.status == S.APPLIED, (change.pk, change.status, change.explanation)
        assert live is not None and live.status == "CREATE_COMPLETE"
        assert env.status == "ready" and env.tier == 1
    executes = stack.server.per_change("execute_change_set")
    tokens = {c.client_token for c in changes}
    assert {t: executes[t] for t in tokens} == dict.fromkeys(tokens, 1)
    effective = [m for m in fake.mutations if m[0] == "execute_change_set"]
    assert len(effective) == len(changes)


def test_1_kill_the_worker_while_20_changes_apply(worker_stack, people, record):
    server = worker_stack.server
    server.delay["execute_change_set"] = 0.2  # a window to be killed in
    changes = request_envs(people, 20)
    wait_for(lambda: statuses(changes).get(S.APPLYING, 0) >= 8, timeout=90, interval=0.1)
    in_flight = statuses(changes)
    worker_stack.kill_worker()
    killed_at = time.monotonic()
    at_kill = statuses(changes)
    worker_stack.start_worker()
    worker_stack.settle(changes, timeout=120)
    recovered = time.monotonic() - killed_at
    check_against_stacks(worker_stack, changes)
    assert not ChangeRequest.objects.filter(status=S.APPLYING).exists()
    executes = server.per_change("execute_change_set")
    record(
        1,
        done="kill -9 of the Celery worker's process group with 20 creates in flight "
        f"({at_kill}); worker restarted",
        changes=len(changes),
        in_flight_at_kill=sum(v for k, v in in_flight.items() if k not in ChangeRequest.TERMINAL),
        execute_calls_per_change=max(executes.values()),
        create_change_set_calls_per_change=max(server.per_change("create_change_set").values()),
        recover_seconds=round(recovered, 1),
        end=statuses(changes),
    )


def test_2_restart_redis_with_changes_queued_and_applying(worker_stack, people, record):
    redis = worker_stack.redis
    first = request_envs(people, 10, prefix="a")
    wait_for(lambda: statuses(first).get(S.APPLYING, 0) >= 3, timeout=90, interval=0.1)
    redis.stop()
    down_at = time.monotonic()
    # Requests while Redis is down: committed, their doorbell cannot ring.
    before = time.monotonic()
    queued = request_envs(people, 5, prefix="b")
    request_seconds = (time.monotonic() - before) / len(queued)
    time.sleep(max(0.0, RECONCILE_AFTER_SECONDS + 1 - (time.monotonic() - down_at)))
    during = statuses(first + queued)
    redis.start()
    back_at = time.monotonic()
    recovered = worker_stack.settle(first + queued, timeout=120)
    check_against_stacks(worker_stack, first + queued)
    record(
        2,
        done=f"embedded Redis stopped for {back_at - down_at:.0f} s with 10 creates in flight "
        "and 5 requested while it was down, then started on the same port",
        changes=len(first + queued),
        in_flight_at_outage=sum(v for k, v in during.items() if k not in ChangeRequest.TERMINAL),
        execute_calls_per_change=max(worker_stack.server.per_change("execute_change_set").values()),
        request_seconds_while_down=round(request_seconds, 2),
        worker_exits_restarted_by_supervisor=worker_stack.restarts,
        recover_seconds=round(recovered, 1),
        period_seconds=ONE_PERIOD,
    )
    assert recovered <= ONE_PERIOD + 10, recovered


def test_3_lost_doorbell_with_real_worker_and_beat(worker_stack, people, record, monkeypatch):
    monkeypatch.setattr(tasks.provisioning_plan, "delay", lambda *args: None)
    changes = request_envs(people, 3, prefix="lost")
    recovered = worker_stack.settle(changes, timeout=60)
    check_against_stacks(worker_stack, changes)
    record(
        3,
        done="3 creates committed with the doorbell (Celery publish) suppressed; real worker "
        "and beat",
        changes=len(changes),
        execute_calls_per_change=max(worker_stack.server.per_change("execute_change_set").values()),
        recover_seconds=round(recovered, 1),
        period_seconds=ONE_PERIOD,
        stack_seconds=4,
    )
    # picked up within one period, plus the stack's own 4 s and the sweep
    assert recovered <= ONE_PERIOD + 4 + 5, recovered


def test_6_a_worker_that_dies_on_every_attempt(worker_stack, people, record):
    server = worker_stack.server
    doomed, fine = request_envs(people, 2, prefix="d")
    doomed_env = Environment.objects.get(pk=doomed.environment_id)
    server.die_before["execute_change_set"] = {doomed_env.stack_name}
    started = time.monotonic()
    worker_stack.settle([doomed, fine], timeout=120)
    took = time.monotonic() - started
    doomed.refresh_from_db()
    fine.refresh_from_db()
    assert doomed.status == S.ERRORED, doomed.explanation
    assert "gave up after 3 attempts" in doomed.explanation
    assert fine.status == S.APPLIED
    deaths = server.calls["died:execute_change_set"]
    time.sleep(RECONCILE_SECONDS + 1)  # no endless loop: nothing rings again
    assert server.calls["died:execute_change_set"] == deaths
    assert deaths == 3
    record(
        6,
        done="the worker process exits (os._exit) just before ExecuteChangeSet for one change, "
        "on every attempt; PROVISIONING_MAX_ATTEMPTS=3",
        changes=2,
        worker_deaths=deaths,
        end=f"errored: {doomed.explanation}",
        seconds_to_errored=round(took, 1),
        other_change=fine.status,
    )
