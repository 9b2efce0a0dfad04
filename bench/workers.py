"""Real Celery worker and beat processes for the bench, making their AWS calls to a scripted
gateway served from the bench process (tests/faults/remote.py), with wall-clock timestamps:
when each mutating call arrived, and when each stack settled (and notified)."""

from __future__ import annotations

import heapq
import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.procs import rss_mb, stop_group
from provisioning.aws.gateway import stack_is_settled
from tests.fakes import MUTATING, FakeStack
from tests.faults.remote import GatewayServer, TimedGateway
from worker.celery import WORKER_QUEUES

BASE_DIR = Path(__file__).resolve().parent.parent
_order = itertools.count()
# `python -m celery ...` that gets SIGTERM when the bench process dies, even by SIGKILL (a
# timeout in bench/run.py): no worker is left behind consuming the bench's Redis database.
LAUNCH = (
    "import ctypes, os, runpy, signal, sys; "
    "ctypes.CDLL(None).prctl(1, signal.SIGTERM); "  # PR_SET_PDEATHSIG
    "os.getppid() == 1 and sys.exit(1); "
    "sys.argv[0] = 'celery'; runpy.run_module('celery', run_name='__main__')"
)
TICK = 0.01  # how often the gateway's clock moves stacks on, as AWS would without a look


class ClockedGateway(TimedGateway):
    """Stacks settle ``duration`` seconds after execute by themselves (the server's ticker),
    not at the next look: the notification is queued at that moment, as on AWS."""

    def __init__(self, *, duration: float) -> None:
        super().__init__(duration=duration)
        self.settled_at: dict[str, float] = {}  # stack name -> time.time() it first settled
        self.due: list[tuple[float, int, FakeStack]] = []  # heap of (ready_at, n, stack)

    def _start(self, stack: FakeStack, in_progress: str, complete: str) -> None:
        super()._start(stack, in_progress, complete)
        heapq.heappush(self.due, (stack.ready_at, next(_order), stack))  # type: ignore[attr-defined]

    def _set(self, stack: FakeStack, status: str) -> None:
        super()._set(stack, status)
        if stack_is_settled(status):
            self.settled_at.setdefault(stack.name, time.time())

    def tick(self) -> None:
        now = time.monotonic()
        while self.due and self.due[0][0] <= now:
            _, _, stack = heapq.heappop(self.due)
            self._advance(stack)  # a no-op for a stack a look already settled


class ClockedServer(GatewayServer):
    """A GatewayServer that stamps each mutating call with the time it arrived and runs the
    gateway's clock in a thread (under the server's lock, like every call)."""

    def __init__(self, gateway: ClockedGateway) -> None:
        super().__init__(gateway)
        self.clocked = gateway
        self.first_mutation: dict[str, tuple[str, float]] = {}  # key -> (method, time.time())
        self.stopping = threading.Event()
        self.ticker = threading.Thread(target=self._tick, daemon=True)

    def __enter__(self) -> ClockedServer:
        super().__enter__()
        self.ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.ticker.join(timeout=5)
        super().__exit__(*exc)

    def call(self, method: str, kwargs: dict[str, Any]) -> tuple[str, Any]:
        arrived = time.time()
        answer = super().call(method, kwargs)
        if method in MUTATING:
            key = kwargs.get("client_request_token") or kwargs.get("client_token") or ""
            with self.lock:
                self.first_mutation.setdefault(f"{method}:{key}", (method, arrived))
        return answer

    def _tick(self) -> None:
        while not self.stopping.wait(TICK):
            with self.lock:
                self.clocked.tick()


class Workers:
    """One Celery worker (as the Procfile starts it) and one beat, in their own sessions."""

    def __init__(self, env: dict[str, str], log_dir: Path, *, concurrency: int) -> None:
        self.env, self.log_dir, self.concurrency = env, log_dir, concurrency
        self.worker: subprocess.Popen[bytes] | None = None
        self.beat: subprocess.Popen[bytes] | None = None

    def _start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return subprocess.Popen(
            [sys.executable, "-c", LAUNCH, "-A", "worker.celery", *args],
            cwd=BASE_DIR, env=self.env, start_new_session=True,
            stdout=(self.log_dir / f"{name}.log").open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    def __enter__(self) -> Workers:
        self.worker = self._start(
            "worker",
            ["worker", "--queues", WORKER_QUEUES, "--concurrency", str(self.concurrency),
             "--loglevel", "INFO", "--hostname", f"bench{os.getpid()}@%h",
             "--without-gossip", "--without-mingle"],
        )  # fmt: skip
        self.beat = self._start(
            "beat", ["beat", "--loglevel", "INFO", "--schedule", str(self.log_dir / "beat")]
        )
        self.wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        for process in (self.beat, self.worker):
            if process is not None:
                stop_group(process, timeout=20)

    def wait_ready(self, timeout: float = 90.0) -> None:
        """A round trip through the worker (the default queue's ping task)."""
        from provisioning.tasks import ping

        deadline = time.monotonic() + timeout
        result = ping.apply_async(args=["bench"])
        while time.monotonic() < deadline:
            self.check_alive()
            if result.ready():
                result.get(timeout=1)
                return
            time.sleep(0.1)
        raise RuntimeError(f"the worker did not answer a ping within {timeout}s:\n{self.logs()}")

    def check_alive(self) -> None:
        for name, process in (("worker", self.worker), ("beat", self.beat)):
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"celery {name} exited ({process.returncode}):\n{self.logs()}")

    def logs(self, tail: int = 3000) -> str:
        out = []
        for name in ("worker", "beat"):
            path = self.log_dir / f"{name}.log"
            if path.exists():
                out.append(f"--- {name} ---\n{path.read_text(errors='replace')[-tail:]}")
        return "\n".join(out)

    def rss(self) -> dict[str, Any]:
        assert self.worker is not None
        return rss_mb(self.worker.pid)
