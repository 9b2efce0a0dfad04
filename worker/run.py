"""`make run`: prepare the database, then start every process of the Procfile under honcho.

Decides, before any Django process starts, which Redis to use (REDIS_URL, else the one on
127.0.0.1:6379, else an embedded one) and whether the local cloud runs. Prints the URL and
the demo logins once /healthz answers 200. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
READY_TIMEOUT = 120.0


class RunError(Exception):
    """Start-up cannot go on; the message says what to change."""


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def resolve_redis(environ: Mapping[str, str], *, probe_url: str = DEFAULT_REDIS_URL) -> str | None:
    """The Redis URL to use, or None when an embedded Redis must be started."""
    from portal.config import redis_answers

    if environ.get("REDIS_URL"):
        return environ["REDIS_URL"]
    if environ.get("PORTAL_EMBEDDED_REDIS", "auto") == "always":
        return None
    return probe_url if redis_answers(probe_url) else None


def web_concurrency(environ: Mapping[str, str]) -> int:
    """gunicorn's workers: WEB_CONCURRENCY, else gunicorn's own rule of 2 x cores + 1 on
    PostgreSQL (a sync worker idles while its query runs; measured in `make bench`), and 2
    on the local SQLite file, which takes one writer at a time."""
    if environ.get("WEB_CONCURRENCY"):
        return int(environ["WEB_CONCURRENCY"])
    if not environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return 2
    return 2 * (os.cpu_count() or 1) + 1


def celery_concurrency(environ: Mapping[str, str]) -> int:
    """Celery worker processes: CELERY_CONCURRENCY, else one against the local cloud (moto
    is not safe under parallel calls, LOCALCLOUD.md) and one per core against AWS, where a
    task mostly waits on CloudFormation."""
    if environ.get("CELERY_CONCURRENCY"):
        return int(environ["CELERY_CONCURRENCY"])
    if environ.get("PORTAL_CLOUD", "local").lower() != "aws":
        return 1
    return os.cpu_count() or 1


def plan_processes(environ: dict[str, str]) -> list[str]:
    """Which Procfile processes to start; fills in the environment they need."""
    processes = ["web", "worker", "beat", "rq"]
    environ["WEB_CONCURRENCY"] = str(web_concurrency(environ))
    environ["CELERY_CONCURRENCY"] = str(celery_concurrency(environ))
    port = int(environ.setdefault("PORT", "8000"))
    if not port_is_free(port):
        raise RunError(f"port {port} is in use: stop what uses it or set PORT")

    redis_url = resolve_redis(environ)
    if redis_url is None:
        redis_port = int(environ.get("EMBEDDED_REDIS_PORT") or free_port())
        environ["EMBEDDED_REDIS_PORT"] = str(redis_port)
        environ["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        processes.append("redis")
    else:
        environ["REDIS_URL"] = redis_url

    if environ.get("PORTAL_CLOUD", "local").lower() != "aws":
        cloud_port = int(environ.setdefault("LOCAL_CLOUD_PORT", "4566"))
        if not port_is_free(cloud_port):
            raise RunError(f"port {cloud_port} (local cloud) is in use: set LOCAL_CLOUD_PORT")
        processes += ["cloud", "simulator"]
    return processes


def manage(environ: Mapping[str, str], *args: str) -> None:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=dict(environ))
    if result.returncode != 0:
        raise RunError(f"'manage.py {' '.join(args)}' failed (exit {result.returncode})")


def wait_for_health(url: str, honcho: subprocess.Popen[bytes], timeout: float) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    last: dict = {}  # type: ignore[type-arg]
    while time.monotonic() < deadline and honcho.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - loopback
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            last = json.loads(exc.read() or b"{}")
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    if honcho.poll() is not None:
        raise RunError("stopped before /healthz answered 200")
    raise RunError(f"/healthz did not answer 200 within {timeout:.0f}s: {json.dumps(last)}")


def banner(environ: Mapping[str, str], processes: list[str]) -> str:
    url = f"http://127.0.0.1:{environ['PORT']}/"
    lines = ["", f"Ladder is up: {url}", f"  processes: {', '.join(processes)}"]
    lines.append(
        f"  Redis: {environ['REDIS_URL']}" + (" (embedded)" if "redis" in processes else "")
    )
    if "cloud" in processes:
        lines.append(f"  local cloud (moto): http://127.0.0.1:{environ['LOCAL_CLOUD_PORT']}")
    state_dir = Path(environ.get("PORTAL_STATE_DIR", BASE_DIR / ".local"))
    logins_file = state_dir / "demo-logins.json"
    if logins_file.exists() and environ.get("DJANGO_DEBUG", "1").lower() not in {"0", "false"}:
        lines.append("  demo logins (local mode only):")
        for username, password in sorted(json.loads(logins_file.read_text()).items()):
            lines.append(f"    {username:<6} {password}")
    lines.append("Press Ctrl-C to stop.\n")
    return "\n".join(lines)


def run(environ: dict[str, str]) -> int:
    processes = plan_processes(environ)
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    environ.setdefault("PYTHONUNBUFFERED", "1")
    manage(environ, "migrate", "--noinput")
    local_mode = environ.get("DJANGO_DEBUG", "1").lower() not in {"0", "false", "no", "off"}
    if local_mode:
        manage(environ, "seed_demo", "--quiet-logins")
    else:
        manage(environ, "collectstatic", "--noinput")

    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "-f", str(BASE_DIR / "Procfile"), "start", *processes],
        cwd=BASE_DIR,
        env=environ,
        start_new_session=True,  # Ctrl-C reaches us once; we pass it on.
    )

    def stop(signum: int, frame: object) -> None:
        if honcho.poll() is None:
            honcho.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        health_url = f"http://127.0.0.1:{environ['PORT']}/healthz"
        wait_for_health(health_url, honcho, float(environ.get("READY_TIMEOUT", READY_TIMEOUT)))
        print(banner(environ, processes), flush=True)
    except RunError as exc:
        print(f"ladder: {exc}", file=sys.stderr, flush=True)
        if honcho.poll() is None:
            print("ladder: still running; see the process logs above", file=sys.stderr)
    try:
        return honcho.wait()
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)


def main() -> None:
    try:
        sys.exit(run(dict(os.environ)))
    except RunError as exc:
        sys.stderr.write(f"ladder: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
