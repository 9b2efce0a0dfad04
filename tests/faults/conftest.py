"""Fixtures of the fault harness: people, an in-process scripted gateway, and a stack of real
Celery worker and beat processes whose AWS calls go to a scripted gateway served from here."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from provisioning import services
from provisioning.models import ChangeRequest, TeamPolicy
from tests import fakes
from tests.conftest import wait_for
from tests.faults.remote import GatewayServer, TimedGateway
from worker.celery import app as celery_app

PASSWORD = "a-long-test-password-1"
TERMINAL = frozenset(ChangeRequest.TERMINAL)


@pytest.fixture
def record(request):
    """record(case, done=..., **figures): a row for docs/reliability.md (tests/faults/report.py).
    Written only when FAULTS_RESULTS_DIR is set (make faults), with the test's outcome."""
    rows: list[dict] = []

    def add(case: int, *, done: str, **figures: object) -> None:
        rows.append({"case": case, "done": done, "figures": figures, "test": request.node.nodeid})

    yield add
    target = os.environ.get("FAULTS_RESULTS_DIR")
    if target and rows:
        Path(target).mkdir(parents=True, exist_ok=True)
        name = request.node.nodeid.replace("/", "_").replace(":", "_").replace(".", "_")
        (Path(target) / f"{name}.json").write_text(json.dumps(rows, indent=1, default=str))


@pytest.fixture
def fake_gateway(settings):
    settings.STACK_GATEWAY_FACTORY = "tests.fakes.factory"
    settings.STACK_NOTIFICATIONS = True
    fakes.CURRENT = fakes.ScriptedGateway()
    yield fakes.CURRENT
    fakes.CURRENT = None


@pytest.fixture
def people(db):
    web = services.team_ensure(slug="web", name="Web")
    TeamPolicy.objects.update_or_create(
        team=web, defaults={"monthly_budget_usd": Decimal("10000000"), "max_environments": 1000}
    )
    alice, _ = services.user_ensure(username="alice", password=PASSWORD)
    services.membership_ensure(team=web, user=alice)
    return {"web": web, "alice": alice}


def request_envs(people, count: int, *, prefix: str = "env") -> list[ChangeRequest]:
    user, team = people["alice"], people["web"]
    return [
        services.environment_request(
            user=user, team=team, name=f"{prefix}{i}", tier=1, region="us-east-1"
        )
        for i in range(count)
    ]


def statuses(changes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in ChangeRequest.objects.filter(pk__in=[c.pk for c in changes]).values_list(
        "status", flat=True
    ):
        counts[status] = counts.get(status, 0) + 1
    return counts


def all_terminal(changes) -> bool:
    return set(statuses(changes)) <= TERMINAL


class WorkerStack:
    """Worker and beat processes against this test's database, an embedded Redis and the
    scripted gateway server; the worker can be killed and started again."""

    def __init__(self, processes, env: dict[str, str], server: GatewayServer, redis) -> None:
        self.processes, self.env, self.server, self.redis = processes, env, server, redis
        self.worker = None
        self.generation = 0
        self.restarts = 0  # by supervise(), after the worker exited on its own

    def start_worker(self, concurrency: int = 2) -> None:
        self.generation += 1
        self.worker = self.processes.start(
            [sys.executable, "-m", "celery", "-A", "worker.celery", "worker",
             "--queues", "provisioning,tracking,default", "--concurrency", str(concurrency),
             "--hostname", f"faults{self.generation}@%h", "--without-gossip",
             "--without-mingle", "--loglevel", "INFO"],
            env=self.env, name=f"worker{self.generation}",
        )  # fmt: skip

    def kill_worker(self) -> None:
        """SIGKILL to the worker's whole process group: the pool children die with it."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(self.processes.log(p)[-4000:] for p, _ in self.processes.children)

    def supervise(self) -> bool:
        """What systemd or Kubernetes would do: start the worker again if it exited."""
        if self.worker is not None and self.worker.poll() is not None:
            self.restarts += 1
            self.start_worker()
        return True

    def settle(self, changes, *, timeout: float) -> float:
        started = time.monotonic()
        try:
            wait_for(
                lambda: self.supervise() and all_terminal(changes), timeout=timeout, interval=0.2
            )
        except AssertionError:
            raise AssertionError(f"not settled: {statuses(changes)}\n{self.logs()}") from None
        return time.monotonic() - started


def forget_backend() -> None:
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)


RECONCILE_SECONDS = 3
RECONCILE_AFTER_SECONDS = 5


@pytest.fixture
def worker_stack(processes, child_env, embedded_redis, monkeypatch, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("worker processes share the test database only on PostgreSQL")
    from tests.e2e.conftest import database_url

    with GatewayServer(TimedGateway(duration=4.0)) as server:
        env = {
            **child_env,
            "DATABASE_URL": database_url(),
            "REDIS_URL": embedded_redis.url,
            "STACK_GATEWAY_FACTORY": "tests.faults.remote.factory",
            "FAULT_GATEWAY_URL": server.url,
            "SWEEP_SECONDS": "1",
            "NOTIFICATION_DRAIN_SECONDS": "0.5",
            "RECONCILE_SECONDS": str(RECONCILE_SECONDS),
            "RECONCILE_AFTER_SECONDS": str(RECONCILE_AFTER_SECONDS),
            "PROVISIONING_MAX_ATTEMPTS": "3",
            "PROVISIONING_RETRY_BASE": "0.5",
        }
        stack = WorkerStack(processes, env, server, embedded_redis)
        stack.start_worker()
        processes.start(
            [sys.executable, "-m", "celery", "-A", "worker.celery", "beat",
             "--schedule", str(tmp_path / "beat")],
            env=env, name="beat",
        )  # fmt: skip
        # This process rings the doorbell (on commit) on the same Redis as the worker.
        previous = celery_app.conf.broker_url, celery_app.conf.result_backend
        celery_app.close()
        celery_app.conf.broker_url = celery_app.conf.result_backend = embedded_redis.url
        celery_app.amqp._producer_pool = None
        forget_backend()  # the result backend of an earlier test's Redis
        try:
            yield stack
        finally:
            processes.stop_all()
            celery_app.close()
            celery_app.conf.broker_url, celery_app.conf.result_backend = previous
            celery_app.amqp._producer_pool = None
            forget_backend()
