"""Faults driven in this process through the scripted gateway (cases 3, 4, 5, 6 of issue 7):
fast and deterministic, so they also run in `make test`; case 5 at full size (200 changes)
only in `make faults`."""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone

from provisioning import reconcile, tasks, workflow
from provisioning.aws.gateway import GatewayError, Throttled
from provisioning.models import ChangeRequest, Environment, NetworkStack
from tests import fakes
from tests.faults.conftest import request_envs

S = ChangeRequest.Status


class WorkerCrash(BaseException):
    """The worker process dying mid-step: nothing after it runs, no except clause sees it."""


class Crashing:
    """A gateway that kills the worker right after (or before) one method reaches AWS."""

    def __init__(self, fake: fakes.ScriptedGateway, method: str, *, after: bool, times: int = 1):
        self.fake, self.method, self.after, self.times = fake, method, after, times

    def __getattr__(self, name: str):
        real = getattr(self.fake, name)
        if name != self.method:
            return real

        def call(**kwargs):
            if self.times and not self.after:
                self.times -= 1
                raise WorkerCrash(f"killed before {name}")
            result = real(**kwargs)
            if self.times and self.after:
                self.times -= 1
                raise WorkerCrash(f"killed after {name} returned")
            return result

        return call


def ring_again(monkeypatch) -> list[tuple[str, int]]:
    """The reconciler's doorbell, captured; rows look old enough to be rung."""
    rung: list[tuple[str, int]] = []
    monkeypatch.setattr(reconcile, "enqueue", lambda task, pk: rung.append((task, pk)))
    from provisioning.services import changes as change_services

    monkeypatch.setattr(change_services, "enqueue", lambda task, pk: rung.append((task, pk)))
    return rung


def age_rows() -> None:
    ChangeRequest.objects.update(updated_at=timezone.now() - timedelta(minutes=5))


STEPS = {"provisioning_plan": workflow.plan_change, "provisioning_apply": workflow.apply_change}


def run_rung(rung) -> None:
    while rung:
        task, pk = rung.pop(0)
        STEPS[task](pk)


# --- case 3 -------------------------------------------------------------------------------
def test_3_a_lost_doorbell_is_rung_again_by_the_reconciler(
    people, fake_gateway, monkeypatch, settings, record
):
    settings.RECONCILE_AFTER_SECONDS = 60
    rung = ring_again(monkeypatch)
    change = request_envs(people, 1)[0]  # committed; its doorbell never rang
    rung.clear()
    assert reconcile.reconcile()["plan"] == 0  # too fresh to call lost
    age_rows()
    assert reconcile.reconcile()["plan"] == 1
    run_rung(rung)
    workflow.check_change(change.pk)
    change.refresh_from_db()
    assert change.status == S.APPLIED
    record(
        3,
        done="in-process: a create committed with its doorbell dropped; one reconcile pass "
        "after RECONCILE_AFTER_SECONDS",
        changes=1,
        reconcile_passes=1,
        execute_calls=fake_gateway.calls["execute_change_set"],
    )


# --- case 4 -------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["execute_change_set", "create_stack", "delete_stack"])
def test_4_a_crash_after_the_mutating_call_adopts_the_stack(
    people, fake_gateway, monkeypatch, method, record
):
    rung = ring_again(monkeypatch)
    change = request_envs(people, 1)[0]
    rung.clear()
    env = change.environment
    if method == "delete_stack":  # a decommission of a ready environment
        workflow.plan_change(change.pk)
        workflow.apply_change(change.pk)
        workflow.check_change(change.pk)
        from provisioning import services

        change = services.environment_decommission(
            user=people["alice"], environment=Environment.objects.get(pk=env.pk), confirm=env.name
        )
        rung.clear()
    fakes.CURRENT = Crashing(fake_gateway, method, after=True)
    with pytest.raises(WorkerCrash):
        workflow.plan_change(change.pk)
        workflow.apply_change(change.pk)
    fakes.CURRENT = fake_gateway
    # the worker is gone; the reconciler rings again for the row that should be moving
    age_rows()
    reconcile.reconcile()
    outcomes = []
    while rung:
        task, pk = rung.pop(0)
        outcomes.append(STEPS[task](pk).outcome)
    workflow.check_change(change.pk)
    change.refresh_from_db()
    assert change.status == S.APPLIED, change.explanation
    assert "already exists" not in change.explanation.lower()
    mutations = [m for m in fake_gateway.mutations if m[0] == method]
    calls = fake_gateway.calls[method]
    if method == "create_stack":
        assert NetworkStack.objects.get().status == "ready"
        assert len([s for s in fake_gateway.stacks if s.startswith("ladder-net")]) == 1
    else:
        assert "adopted" in outcomes
    assert len(mutations) == 1 and calls == 1, (mutations, calls)
    live = [s for s in fake_gateway.stacks if s == env.stack_name]
    assert len(live) == (0 if method == "delete_stack" else 1)
    record(
        4,
        done=f"in-process: the worker dies right after {method} returned, before the commit; "
        "the reconciler rings again",
        mutating_call=method,
        calls=calls,
        stacks=len(live) if method != "create_stack" else 1,
        outcome=" → ".join(outcomes),
        end=change.status,
    )


# --- case 6 -------------------------------------------------------------------------------
def test_6_a_worker_that_dies_on_every_attempt_ends_errored(
    people, fake_gateway, monkeypatch, settings, record
):
    settings.PROVISIONING_MAX_ATTEMPTS = 3
    rung = ring_again(monkeypatch)
    change = request_envs(people, 1)[0]
    workflow.plan_change(change.pk)
    rung.clear()
    fakes.CURRENT = Crashing(fake_gateway, "execute_change_set", after=False, times=10**6)
    deaths = 0
    for _ in range(10):  # ten reconcile periods: never an endless loop
        try:
            workflow.apply_change(change.pk)
        except WorkerCrash:
            deaths += 1
        age_rows()
        reconcile.reconcile()
        rung.clear()
    change.refresh_from_db()
    assert change.status == S.ERRORED
    assert "gave up after 3 attempts" in change.explanation
    assert deaths == 3 and fake_gateway.calls["execute_change_set"] == 0
    record(
        6,
        done="in-process: the worker dies before ExecuteChangeSet on every attempt; "
        "10 reconcile periods; PROVISIONING_MAX_ATTEMPTS=3",
        changes=1,
        worker_deaths=deaths,
        end=f"errored: {change.explanation}",
    )


# --- case 5 -------------------------------------------------------------------------------
DESCRIBE = frozenset({"describe_stack", "describe_change_set", "list_stacks", "stack_events"})


class HalfThrottled:
    """Half the describe calls (a seeded coin) answer Throttling while ``active``."""

    def __init__(self, fake: fakes.ScriptedGateway) -> None:
        self.fake, self.active, self.seen, self.throttled = fake, True, 0, 0
        self.coin = random.Random(7)

    def __getattr__(self, name: str):
        real = getattr(self.fake, name)
        if name not in DESCRIBE:
            return real

        def call(**kwargs):
            self.seen += 1
            if self.active and self.coin.random() < 0.5:
                self.throttled += 1
                raise Throttled("Rate exceeded")
            return real(**kwargs)

        return call


class Retry(Exception):
    def __init__(self, countdown: float) -> None:
        self.countdown = countdown


@dataclass
class FakeTask:
    """Enough of a bound Celery task for tasks._run_step: its retry count and retry()."""

    retries: int
    request: object = field(init=False)

    def __post_init__(self) -> None:
        self.request = type("Request", (), {"retries": self.retries})()

    def retry(self, *, countdown: float, exc: Exception | None = None, **kwargs) -> Retry:
        return Retry(countdown)


def throttled_storm(people, fake_gateway, settings, *, count: int, throttle_for: float):
    """``count`` changes applying; the check tasks, the sweep (every 5 s) and the notification
    drain (every 2 s) run on a virtual clock while half the describe calls are throttled."""
    settings.PROVISIONING_RETRY_BASE = 2.0
    changes = request_envs(people, count)
    for change in changes:
        env = change.environment
        fake_gateway.script(env.stack_name, *["CREATE_IN_PROGRESS"] * 3, "CREATE_COMPLETE")
        workflow.plan_change(change.pk)
        workflow.apply_change(change.pk)
    throttling = HalfThrottled(fake_gateway)
    fakes.CURRENT = throttling
    queue = [(0.0, c.pk, 0) for c in changes]  # apply rang provisioning_check for each
    heapq.heapify(queue)
    countdowns: list[float] = []
    per_change_retries: dict[int, int] = {}
    sweep_errors = drain_errors = 0
    now, next_sweep, next_drain = 0.0, 5.0, 2.0
    pending = {c.pk for c in changes}
    while pending and now < 900:
        throttling.active = now < throttle_for
        now = min(queue[0][0] if queue else 1e9, next_sweep, next_drain)
        if queue and queue[0][0] == now:
            _, pk, retries = heapq.heappop(queue)
            try:
                tasks._run_step(FakeTask(retries), workflow.check_change, pk)
            except Retry as retry:
                countdowns.append(retry.countdown)
                per_change_retries[pk] = retries + 1
                heapq.heappush(queue, (now + retry.countdown, pk, retries + 1))
        elif now == next_sweep:
            next_sweep += 5.0
            try:
                reconcile.sweep(gateway_factory=fakes.factory)
            except GatewayError:
                sweep_errors += 1
        else:
            next_drain += 2.0
            try:
                reconcile.drain_notifications()
            except GatewayError:
                drain_errors += 1
        pending = set(
            ChangeRequest.objects.filter(pk__in=pending, status=S.APPLYING).values_list(
                "pk", flat=True
            )
        )
    ends = dict.fromkeys(S.values, 0)
    for status in ChangeRequest.objects.filter(pk__in=[c.pk for c in changes]).values_list(
        "status", flat=True
    ):
        ends[status] += 1
    return {
        "changes": count,
        "throttle_seconds": throttle_for,
        "describe_calls": throttling.seen,
        "throttled": throttling.throttled,
        "retries": len(countdowns),
        "max_retries_per_change": max(per_change_retries.values(), default=0),
        "countdowns": sorted(set(countdowns)),
        "sweep_aborted": sweep_errors,
        "drain_aborted": drain_errors,
        "settled_at_virtual_seconds": now,
        "ends": {k: v for k, v in ends.items() if v},
    }


def check_storm(figures) -> None:
    assert figures["ends"] == {S.APPLIED: figures["changes"]}, figures
    assert figures["throttled"] > 0 and figures["retries"] > 0
    assert figures["sweep_aborted"] == 0, "one throttled call must not abort a whole sweep"
    assert figures["countdowns"][:3] == [2.0, 4.0, 8.0]  # exponential backoff
    assert figures["max_retries_per_change"] < tasks.RETRY_LIMIT


def test_5_half_the_describe_calls_throttled_small(people, fake_gateway, settings, record):
    figures = throttled_storm(people, fake_gateway, settings, count=20, throttle_for=30)
    check_storm(figures)
    record(5, done="in-process, virtual clock: 20 changes, half the describe calls (seeded coin) throttled "
           "for 30 s", **figures)  # fmt: skip


@pytest.mark.faults
@pytest.mark.timeout(600)
def test_5_half_the_describe_calls_throttled_200(people, fake_gateway, settings, record):
    figures = throttled_storm(people, fake_gateway, settings, count=200, throttle_for=120)
    check_storm(figures)
    record(5, done="in-process, virtual clock: 200 changes in flight, half the describe calls "
           "(DescribeStacks, DescribeChangeSet, ListStacks, DescribeStackEvents) throttled for "
           "120 s; check tasks retried through tasks._run_step", **figures)  # fmt: skip
