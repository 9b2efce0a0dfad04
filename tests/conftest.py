from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from worker.embedded_redis import EmbeddedRedis

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], object], *, timeout: float, interval: float = 0.1):
    """Bounded polling: the predicate's first truthy value, or AssertionError at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


class Processes:
    """Child processes started by a test, each in its own session; all stopped at teardown."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.children: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, args: list[str], *, env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
        log = self.tmp_path / f"{name}.log"
        process = subprocess.Popen(
            args,
            cwd=BASE_DIR,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.children.append((process, log))
        return process

    def log(self, process: subprocess.Popen[bytes]) -> str:
        for child, log in self.children:
            if child is process:
                return log.read_text(errors="replace")
        return ""

    def stop_all(self) -> None:
        for process, _ in reversed(self.children):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=5)


@pytest.fixture(autouse=True)
def fresh_aws_clients() -> Iterator[None]:
    """Each test makes its own boto3 sessions and clients: none kept from another test's
    cloud (the process keeps them, provisioning.aws.clients)."""
    from provisioning.aws import clients

    clients.reset()
    yield
    clients.reset()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    group = Processes(tmp_path)
    yield group
    group.stop_all()


@pytest.fixture
def embedded_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(port=free_port(), workdir=tmp_path / "redis") as server:
        yield server


@pytest.fixture
def child_env(tmp_path: Path) -> dict[str, str]:
    """The environment for a child Django process: this test run's settings, a private state dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AWS_"))}
    # Set for the browser tests' own process (Playwright runs an event loop); a child is not
    # inside that loop, and `check --deploy` rightly warns about the variable.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        PYTHONUNBUFFERED="1",
        PORTAL_STATE_DIR=str(tmp_path / "state"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return env
