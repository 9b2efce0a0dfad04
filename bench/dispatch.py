"""Issue 8 items 4 and 6 with a real Celery worker and beat (bench/workers.py) whose AWS calls
go to a scripted gateway served from here, stamped with wall-clock times:

- dispatch: a burst of approvals -> each change's first mutating CloudFormation call;
- completion: stack settled -> change applied, through stack notifications (the beat's
  drain) and, separately, with notifications off (only the sweep finds it);
- memory: the worker's RSS (main process and pool) before and after N changes.

``python -m bench.dispatch --out FILE [--quick] [--skip-sweep]`` with DATABASE_URL set (the
bench database); Celery uses a Redis database of its own (``--redis-db``, flushed)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

BASE_DIR = Path(__file__).resolve().parent.parent
DISPATCH_BUDGET_MS = 500
COMPLETION_BUDGET_MS = 2000
STACK_SECONDS = 2.5  # burst stacks are really in flight for this long
MEMORY_STACK_SECONDS = 0.3
MEMORY_BATCH = 100  # changes requested at once in the memory run
REDIS_DB = 7
RUN = format(int(time.time()), "x")[-6:]  # environment names stay unique in a reused database


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _figures(ms: list[float], budget: float | None = None) -> dict[str, Any]:
    if not ms:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None, "met": False}
    out: dict[str, Any] = {
        "n": len(ms),
        "p50_ms": round(_pct(ms, 50), 1),
        "p95_ms": round(_pct(ms, 95), 1),
        "max_ms": round(max(ms), 1),
    }
    if budget is not None:
        out["budget_ms"] = budget
        out["met"] = out["p95_ms"] <= budget
    return out


def _team(slug: str, lead: Any, *, approval: bool) -> Any:
    from provisioning import services
    from provisioning.models import TeamPolicy

    team = services.team_ensure(slug=slug, name=slug)
    TeamPolicy.objects.update_or_create(
        team=team,
        defaults={
            "monthly_budget_usd": Decimal("100000000"),
            "max_environments": 1_000_000,
            "auto_approve_max_tier": 0 if approval else 2,  # 0: every change needs approval
        },
    )
    services.membership_ensure(team=team, user=lead)
    return team


def _request(team: Any, lead: Any, names: list[str]) -> list[int]:
    from provisioning import services

    return [
        services.environment_request(user=lead, team=team, name=name, tier=1, region="us-east-1").pk
        for name in names
    ]


def _wait(ids: list[int], statuses: set[str], workers: Any, *, timeout: float) -> dict[int, float]:
    """Poll (every 50 ms, bounded) until every change is in ``statuses``; returns when each
    was first seen there (time.time())."""
    from provisioning.models import ChangeRequest

    seen: dict[int, float] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(ids):
        now = time.time()
        for pk in ChangeRequest.objects.filter(pk__in=ids, status__in=statuses).values_list(
            "pk", flat=True
        ):
            seen.setdefault(pk, now)
        if len(seen) == len(ids):
            break
        workers.check_alive()
        if time.monotonic() > deadline:
            counts: dict[str, int] = {}
            for s in ChangeRequest.objects.filter(pk__in=ids).values_list("status", flat=True):
                counts[s] = counts.get(s, 0) + 1
            raise RuntimeError(f"not {sorted(statuses)} within {timeout}s: {counts}")
        time.sleep(0.05)
    return seen


def _stamp(into: dict[int, float], pk: int) -> Callable[[], None]:
    def stamp() -> None:
        into.setdefault(pk, time.time())

    return stamp


def _burst(
    workers: Any,
    server: Any,
    who: dict[str, Any],
    *,
    n: int,
    tag: str,
    gap: float = 0.0,
    wait_more: float = 0.0,
) -> dict[str, Any]:
    """n create changes planned by the worker and awaiting approval, approved as fast as this
    process can (or one every ``gap`` seconds); then until all are applied (60 + n s, plus
    ``wait_more``, at most). Times in ms."""
    from django.db import transaction

    from provisioning import services
    from provisioning.models import ChangeRequest

    server.clocked.duration = STACK_SECONDS
    team = _team(f"bench-{tag}", who["lead"], approval=True)
    ids = _request(team, who["lead"], [f"{tag}-{RUN}-{i:04}" for i in range(n)])
    _wait(ids, {"awaiting_approval"}, workers, timeout=60 + n)
    committed: dict[int, float] = {}
    returned: dict[int, float] = {}
    started = time.monotonic()
    for change in ChangeRequest.objects.filter(pk__in=ids).select_related("environment__team"):
        with transaction.atomic():
            # Runs first of the on-commit callbacks: the moment the approval committed.
            transaction.on_commit(_stamp(committed, change.pk))
            services.change_approve(user=who["admin"], change=change)
        returned[change.pk] = time.time()
        if gap:
            time.sleep(gap)
    approve_seconds = time.monotonic() - started
    polling_from = time.time()  # changes applied before this were not watched: no "observed"
    seen = _wait(ids, set(ChangeRequest.TERMINAL), workers, timeout=60 + n + wait_more)
    rows: list[Any] = list(
        ChangeRequest.objects.filter(pk__in=ids).values(
            "pk", "status", "apply_requested_at", "last_checked_at", "finished_at",
            "environment__stack_name",
        )
    )  # fmt: skip
    dispatch, queued, in_task, publish, done, observed, pickup = [], [], [], [], [], [], []
    for row in rows:
        pk, stack = row["pk"], row["environment__stack_name"]
        # A create's first mutating call after approval: ExecuteChangeSet with its token
        # (CreateChangeSet ran at planning, before the approval).
        first = server.first_mutation.get(f"execute_change_set:ladder-change-{pk}")
        if first is not None:
            dispatch.append((first[1] - committed[pk]) * 1000)
            picked = row["apply_requested_at"].timestamp()
            queued.append((picked - committed[pk]) * 1000)
            in_task.append((first[1] - picked) * 1000)
        publish.append((returned[pk] - committed[pk]) * 1000)
        settled = server.clocked.settled_at.get(stack)
        if row["status"] == "applied" and settled is not None:
            done.append((row["finished_at"].timestamp() - settled) * 1000)
            if settled >= polling_from:
                observed.append((seen[pk] - settled) * 1000)
            pickup.append((row["last_checked_at"].timestamp() - settled) * 1000)
    common: dict[str, Any] = {"applied": sum(r["status"] == "applied" for r in rows)}
    if gap:
        common["gap_seconds"] = gap
    else:
        common["approvals_per_second"] = round(n / approve_seconds, 1)
    return {
        "dispatch": {
            **_figures(dispatch, DISPATCH_BUDGET_MS), **common,
            "parts": {
                "approval_commit_to_publish_returned": _figures(publish),
                "commit_to_apply_task_started": _figures(queued),
                "apply_task_start_to_execute_call": _figures(in_task),
            },
        },
        "completion": {
            **_figures(done), **common, "stack_seconds": STACK_SECONDS,
            "parts": {
                "observed_by_polling_50ms": _figures(observed),
                "settled_to_worker_looked": _figures(pickup),
            },
        },
    }  # fmt: skip


def _memory(workers: Any, server: Any, who: dict[str, Any], *, changes: int) -> dict[str, Any]:
    """Auto-approved create changes (plan, apply, check, drain: all in the worker) requested
    in batches of MEMORY_BATCH, the next batch while the worker is on the one before (never
    more than two batches in flight)."""
    server.clocked.duration = MEMORY_STACK_SECONDS
    team = _team("bench-memory", who["lead"], approval=False)
    before = workers.rss()
    series = [{"changes": 0, "total_mb": before["total"]}]
    started = time.monotonic()
    requested = done = 0
    in_flight: list[list[int]] = []
    finished: list[int] = []
    while done < changes:
        if requested < changes and len(in_flight) < 2:
            stop = min(changes, requested + MEMORY_BATCH)
            names = [f"mem-{RUN}-{i:05}" for i in range(requested, stop)]
            in_flight.append(_request(team, who["lead"], names))
            requested = stop
            continue
        ids = in_flight.pop(0)
        seen = _wait(ids, {"applied", "failed", "errored"}, workers, timeout=180)
        done += len(ids)
        finished.extend(seen)
        series.append(
            {"changes": done, "total_mb": workers.rss()["total"],
             "seconds": round(time.monotonic() - started, 1)}
        )  # fmt: skip
    after = workers.rss()
    growth = (after["total"] - before["total"]) * 1000 / changes
    from provisioning.models import ChangeRequest

    return {
        "changes": changes,
        "applied": ChangeRequest.objects.filter(pk__in=finished, status="applied").count(),
        "seconds": round(time.monotonic() - started, 1),
        "before": before,
        "after": after,
        "growth_mb": round(after["total"] - before["total"], 1),
        "growth_per_1000": round(growth, 1),
        "main_growth_mb": round(after["main"] - before["main"], 1),
        "pool_pids_same": sorted(before["children"]) == sorted(after["children"]),
        "series": series,
    }


def _redis_url(db_number: int) -> str:
    parts = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    return urlunsplit(parts._replace(path=f"/{db_number}"))


def _flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()  # only the bench's own database number
    client.close()


def _budget(figures: dict[str, Any], budget_ms: float, **extra: Any) -> dict[str, Any]:
    p95 = figures["p95_ms"]
    return {**figures, "budget_ms": budget_ms, "met": p95 is not None and p95 <= budget_ms, **extra}


def run(
    *,
    approvals: int = 100,
    changes: int = 1000,
    paced: int = 20,
    gap: float = 0.5,
    sweep: bool = True,
    concurrency: int | None = None,
    local_mode: bool = False,
    log_dir: Path | None = None,
) -> dict[str, Any]:
    """A burst of ``approvals`` (and ``paced`` approvals one every ``gap`` s: the latency of
    an idle worker) with notifications on, then ``changes`` changes for the worker's memory;
    then, unless ``sweep`` is false, the same burst with notifications off. A count of 0
    leaves that part out. The workers run in production mode (DJANGO_DEBUG=0: with DEBUG on,
    Django keeps each connection's last 9,000 queries, which a worker never clears), unless
    ``local_mode``. Needs django.setup() with REDIS_URL on the bench's Redis database.
    """
    from django.conf import settings

    from bench.seed import people
    from bench.workers import ClockedGateway, ClockedServer, Workers
    from worker.run import celery_concurrency

    # The worker as `make run` starts it against AWS, which the scripted gateway stands in
    # for (against the local cloud it runs one process: moto is not safe in parallel).
    concurrency = concurrency or celery_concurrency({**os.environ, "PORTAL_CLOUD": "aws"})
    schedule = settings.CELERY_BEAT_SCHEDULE
    drain_seconds = schedule["drain-stack-notifications"]["schedule"]
    sweep_seconds = schedule["sweep-stacks"]["schedule"]
    who = people()
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="ladder-bench-dispatch-"))
    base_env = {
        **os.environ,
        "PYTHONPATH": str(BASE_DIR),
        "PYTHONUNBUFFERED": "1",
        "PORTAL_STATE_DIR": str(log_dir / "state"),
        "REDIS_URL": settings.REDIS_URL,
        "STACK_GATEWAY_FACTORY": "tests.faults.remote.factory",
    }
    if not local_mode:
        base_env.update(
            DJANGO_DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="127.0.0.1"
        )
    result: dict[str, Any] = {
        "worker_concurrency": concurrency,
        "worker_mode": "local (DEBUG on)" if local_mode else "production (DJANGO_DEBUG=0)",
        "cpus": os.cpu_count(),
    }
    started = time.monotonic()
    with ClockedServer(ClockedGateway(duration=STACK_SECONDS)) as server:
        # Notifications on (as deployed), the drain at its setting; the sweep pushed out of
        # the way so that no completion here came from it.
        env = {**base_env, "FAULT_GATEWAY_URL": server.url, "STACK_NOTIFICATIONS": "1",
               "SWEEP_SECONDS": "3600"}  # fmt: skip
        with Workers(env, log_dir / "notifications", concurrency=concurrency) as workers:
            if paced:
                one = _burst(workers, server, who, n=paced, tag="paced", gap=gap)
                result["dispatch_paced"] = one["dispatch"]
                result["completion_notifications_paced"] = _budget(
                    one["completion"], COMPLETION_BUDGET_MS, drain_seconds=drain_seconds
                )
            if approvals:
                burst = _burst(workers, server, who, n=approvals, tag="notify")
                result["dispatch"] = burst["dispatch"]
                result["completion_notifications"] = _budget(
                    burst["completion"], COMPLETION_BUDGET_MS, drain_seconds=drain_seconds
                )
                print(f"  dispatch p95 {burst['dispatch']['p95_ms']} ms", flush=True)
            if changes:
                result["celery_rss_mb"] = _memory(workers, server, who, changes=changes)
                print(f"  memory {result['celery_rss_mb']['growth_per_1000']} MB/1000", flush=True)
    if sweep and approvals:
        with ClockedServer(ClockedGateway(duration=STACK_SECONDS)) as server:
            env = {**base_env, "FAULT_GATEWAY_URL": server.url, "STACK_NOTIFICATIONS": "0"}
            with Workers(env, log_dir / "sweep", concurrency=concurrency) as workers:
                burst = _burst(
                    workers, server, who, n=approvals, tag="sweep", wait_more=2 * sweep_seconds
                )
            result["completion_sweep"] = _budget(
                burst["completion"], sweep_seconds * 1000, sweep_seconds=sweep_seconds,
                dispatch_with_notifications_off=burst["dispatch"],
            )  # fmt: skip
    result["seconds_taken"] = round(time.monotonic() - started, 1)
    result["log_dir"] = str(log_dir)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch")
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true", help="20 approvals, 200 changes")
    parser.add_argument("--approvals", type=int, help="the burst (0: none, nor the sweep run)")
    parser.add_argument("--paced", type=int, help="approvals one every --gap s (0: none)")
    parser.add_argument("--gap", type=float, default=0.5)
    parser.add_argument("--changes", type=int, help="changes through the worker for memory")
    parser.add_argument("--skip-sweep", action="store_true", help="no notifications-off run")
    parser.add_argument("--concurrency", type=int, help="default: as make run on AWS")
    parser.add_argument("--local-mode", action="store_true", help="workers with DEBUG on")
    parser.add_argument("--redis-db", type=int, default=REDIS_DB)
    parser.add_argument("--log-dir", type=Path)
    args = parser.parse_args(argv)
    # A SIGTERM (timeout, Ctrl-C from a supervisor) still stops the workers and flushes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def pick(value: int | None, quick: int, full: int) -> int:
        return value if value is not None else quick if args.quick else full

    # Before django.setup(): this process rings the doorbell on the workers' Redis.
    os.environ["REDIS_URL"] = url = _redis_url(args.redis_db)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _flush(url)
    try:
        result = run(
            approvals=pick(args.approvals, 20, 100),
            changes=pick(args.changes, 200, 1000),
            paced=pick(args.paced, 10, 20),
            gap=args.gap,
            sweep=not args.skip_sweep,
            concurrency=args.concurrency,
            local_mode=args.local_mode,
            log_dir=args.log_dir,
        )
    finally:
        _flush(url)
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
