"""Latency under load: gunicorn as `make run` starts it (the Procfile's web line) against
the bench database, 50 concurrent clients for a fixed time over the budgeted pages and API
lists, signed in, each endpoint's p50/p95/p99 also as a ratio to /healthz in the same run.

Two runs, one after the other, both reported:
- ``users``: 50 clients as locust runs users: each waits 1-5 s (locust's documented
  ``between(1, 5)``) after each answer before its next request, started spread over the
  first 5 s. The latency budgets are judged here: what a person waits at this load.
- ``saturation``: the same 50 clients with no pause (wrk's closed loop). This measures the
  capacity in requests/s; its latency is 50 / capacity by Little's law, whatever a request
  costs, so it is reported but not judged against a latency budget.

The client is a small asyncio HTTP/1.1 client (one connection per request: gunicorn's sync
workers close each one) so one mixed run gives per-endpoint percentiles.
``python -m bench.load --seconds 60 --clients 50 --out FILE`` (DATABASE_URL = bench db)."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import psycopg

from bench.procs import rss_mb, stop_group
from worker.run import web_concurrency

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
BASE_DIR = Path(__file__).resolve().parent.parent
PAGE_P95_MS, API_P95_MS = 150.0, 100.0
THINK_SECONDS = (1.0, 5.0)  # locust's between(1, 5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _web_command(port: int) -> list[str]:
    """The Procfile's ``web:`` line, with the port filled in and gunicorn from the venv."""
    line = next(
        raw.split(":", 1)[1]
        for raw in (BASE_DIR / "Procfile").read_text().splitlines()
        if raw.startswith("web:")
    )
    line = line.replace("${PORT:-8000}", str(port))
    line = line.replace("${WEB_CONCURRENCY:-2}", str(web_concurrency(os.environ)))
    args = shlex.split(line)
    args[0] = str(Path(sys.executable).with_name(args[0]))
    return [a for a in args if a not in {"--access-logfile", "-"}]  # no per-request log


def _credentials() -> dict[str, Any]:
    """A session cookie (the platform admin, signed in) and an API token; the heartbeats
    /healthz asks for, recorded by hand (no Celery worker runs in the bench)."""
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from bench.seed import people
    from provisioning import services
    from provisioning.models import ChangeRequest, Environment

    who = people()
    client = Client()
    client.force_login(who["admin"])
    _, token = services.token_create(user=who["admin"], name="bench")
    env = Environment.objects.filter(team=who["team"]).order_by("pk").first()
    assert env is not None
    change = ChangeRequest.objects.filter(environment=env).order_by("-created_at", "-pk")[0]
    cookie = settings.SESSION_COOKIE_NAME
    _heartbeats()
    return {
        "cookie": f"{cookie}={client.cookies[cookie].value}",
        "token": token,
        "environment_id": env.pk,
        "change_id": change.pk,
    }


async def _get(port: int, path: str, headers: str) -> tuple[int, float]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n".encode()
        )
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()  # to the end: the server closes
    finally:
        writer.close()
    status = int(status_line.split()[1]) if status_line else 0
    return status, (time.perf_counter() - started) * 1000


def _heartbeats() -> None:
    """What a running Celery worker and beat would record (none runs in the bench)."""
    from provisioning.health import record_beat_heartbeat, record_worker_heartbeat

    record_worker_heartbeat(hostname="bench")
    record_beat_heartbeat()


async def _drive(
    port: int,
    targets: list[tuple[str, str, str]],
    clients: int,
    seconds: float,
    think: tuple[float, float] | None,
) -> dict[str, list[tuple[int, float]]]:
    """Each client: a request, its answer, then (with ``think``) a pause, until the time is up."""
    results: dict[str, list[tuple[int, float]]] = {name: [] for name, _, _ in targets}
    order = itertools.cycle(targets)
    deadline = time.monotonic() + seconds
    rng = random.Random(8)  # noqa: S311 - the same pauses in every run, not a secret

    async def pause(low: float, high: float) -> None:
        await asyncio.sleep(min(rng.uniform(low, high), max(0.0, deadline - time.monotonic())))

    async def one_client() -> None:
        if think:
            await pause(0.0, think[1])  # users arrive spread out, not all at once
        while time.monotonic() < deadline:
            name, path, headers = next(order)
            try:
                results[name].append(await asyncio.wait_for(_get(port, path, headers), 30))
            except (OSError, TimeoutError, ValueError, IndexError):
                results[name].append((0, 30_000.0))
            if think:
                await pause(*think)

    async def keep_heartbeats() -> None:
        while time.monotonic() < deadline:
            await asyncio.to_thread(_heartbeats)
            await asyncio.sleep(min(10.0, max(0.0, deadline - time.monotonic())))

    await asyncio.gather(keep_heartbeats(), *(one_client() for _ in range(clients)))
    return results


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _wait_ready(port: int, timeout: float = 60) -> None:
    """Until /healthz answers 200 (the local cloud starts more slowly than gunicorn)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return
        except OSError as exc:
            body = exc.read() if hasattr(exc, "read") else b""  # type: ignore[attr-defined]
            last = f"{exc} {body[:300]!r}"
            time.sleep(0.5)
    raise RuntimeError(f"/healthz on port {port} not healthy within {timeout}s: {last}")


def run(*, seconds: float, clients: int, log_dir: Path) -> dict[str, Any]:
    from bench.pages import is_api, page_urls

    web_port, cloud_port = free_port(), free_port()
    server_env = {
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "LOCAL_CLOUD_PORT": str(cloud_port),
        # django.setup() above put the default port's endpoint into this process's env
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{cloud_port}",
        "API_THROTTLE_USER": "1000000/minute",  # the bench measures latency, not the throttle
        "PYTHONUNBUFFERED": "1",
    }
    # As pgbench does before each run: what the earlier parts wrote is vacuumed now, not by
    # an autovacuum in the middle of the measurement.
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    # The same settings here as in gunicorn: the session is signed with its SECRET_KEY.
    os.environ.update(server_env)
    creds = _credentials()
    env = {**os.environ, **server_env}
    children = []
    log_dir.mkdir(parents=True, exist_ok=True)
    # As `make run` does before production mode serves pages (worker/run.py).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR, env=env, check=True,
    )  # fmt: skip
    try:
        for name, args in (
            ("cloud", [sys.executable, "-m", "worker.localcloud", "--port", str(cloud_port)]),
            ("web", _web_command(web_port)),
        ):
            children.append(
                subprocess.Popen(
                    args, cwd=BASE_DIR, env=env, start_new_session=True,
                    stdout=(log_dir / f"{name}.log").open("wb"), stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        _wait_ready(web_port)
        page_headers = f"Cookie: {creds['cookie']}\r\n"
        api_headers = f"Authorization: Token {creds['token']}\r\nAccept: application/json\r\n"
        urls = page_urls(environment_id=creds["environment_id"], change_id=creds["change_id"])
        targets = [("healthz", "/healthz", "")] + [
            (name, url, api_headers if is_api(name) else page_headers) for name, url in urls.items()
        ]
        for name, path, headers in targets:  # warm each worker's first request
            for _ in range(2):
                status, _ = asyncio.run(_get(web_port, path, headers))
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status} before the run ({name})")
        unloaded = {}  # one request at a time: the service time, without queueing
        for name, path, headers in targets:
            unloaded[name] = statistics.median(
                asyncio.run(_get(web_port, path, headers))[1] for _ in range(5)
            )
        _heartbeats()
        rss_before = rss_mb(children[-1].pid)["children"]
        phases = {}
        for phase, think in (("users", THINK_SECONDS), ("saturation", None)):
            started = time.monotonic()
            results = asyncio.run(_drive(web_port, targets, clients, seconds, think))
            phases[phase] = _figures(results, unloaded, time.monotonic() - started)
        rss_after = rss_mb(children[-1].pid)["children"]
    finally:
        for child in reversed(children):
            stop_group(child)
    users, saturation = phases["users"], phases["saturation"]
    for name, row in users["endpoints"].items():
        if name != "healthz":
            row["budget_p95_ms"] = API_P95_MS if row["api"] else PAGE_P95_MS
            row["met"] = row["p95_ms"] <= row["budget_p95_ms"] and row["errors"] == 0
    return {
        **users,
        "clients": clients,
        "think_seconds": list(THINK_SECONDS),
        "saturation": saturation,
        "gunicorn_workers": web_concurrency(os.environ),
        "cpus": os.cpu_count(),
        "gunicorn_worker_rss_mb": {"before": rss_before, "after": rss_after},
        "note": "the client shares the machine's cores with gunicorn and PostgreSQL",
    }


def _figures(
    results: dict[str, list[tuple[int, float]]], unloaded: dict[str, float], elapsed: float
) -> dict[str, Any]:
    from bench.pages import is_api

    figures: dict[str, Any] = {}
    for name, rows in results.items():
        latencies = [ms for status, ms in rows if status == 200] or [0.0]
        figures[name] = {
            "requests": len(rows),
            "errors": sum(1 for status, _ in rows if status != 200),
            "error_statuses": sorted({status for status, _ in rows if status != 200}),
            "unloaded_ms": round(unloaded[name], 1),
            "rps": round(len(rows) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(_percentile(latencies, 95), 1),
            "p99_ms": round(_percentile(latencies, 99), 1),
            "api": is_api(name),
        }
    health = figures["healthz"]
    for row in figures.values():
        row["p95_ratio_to_healthz"] = (
            round(row["p95_ms"] / health["p95_ms"], 2) if health["p95_ms"] else None
        )
    total = sum(r["requests"] for r in figures.values())
    return {
        "seconds": round(elapsed, 1),
        "total_rps": round(total / elapsed, 1),
        "total_errors": sum(r["errors"] for r in figures.values()),
        "endpoints": figures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    result = run(seconds=args.seconds, clients=args.clients, log_dir=Path(args.out).parent / "logs")
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
