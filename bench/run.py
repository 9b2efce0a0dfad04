"""`make bench` (``python -m bench [--quick]``): seeds a separate PostgreSQL database
(ladder_bench), measures the budgets of issue 8 in child processes pointed at it, writes
bench/report.json and prints a table. The database is dropped at the end."""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import db
from bench.pages import QUERY_BUDGET

BASE_DIR = Path(__file__).resolve().parent.parent
REPORT = BASE_DIR / "bench" / "report.json"


def _child(module: str, *args: str, url: str, out: Path, timeout: float) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PYTHONPATH": str(BASE_DIR),
    }
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", module, *args, "--out", str(out)],
        cwd=BASE_DIR, env=env, check=True, timeout=timeout,
    )  # fmt: skip
    print(f"  {module}: {time.monotonic() - started:.0f}s", flush=True)
    return dict(json.loads(out.read_text()))


def entry(name: str, value: Any, unit: str, budget: Any, met: bool | None, **raw: Any) -> dict:
    return {"name": name, "value": value, "unit": unit, "budget": budget, "met": met, **raw}


def query_entries(q: dict[str, Any], small: str, large: str) -> list[dict]:
    rows = []
    at_small, at_large = q["sizes"][small]["queries"], q["sizes"][large]["queries"]
    for key, count in at_large.items():
        same = at_small.get(key) == count
        unit = f"queries at {large} envs ({at_small.get(key)} at {small})"
        rows.append(
            entry(
                f"queries: {key}", count, unit,
                f"same at both sizes, <= {QUERY_BUDGET}", same and count <= QUERY_BUDGET,
            )
        )  # fmt: skip
    return rows


def tracking_entries(t: dict[str, Any]) -> list[dict]:
    rows = []
    for n, run in t.items():
        sweep, naive = run["sweep"], run["naive"]
        account = sweep["account"]
        rows.append(
            entry(
                f"tracking: ListStacks pages per sweep, N={n}",
                sweep["tracking_calls_per_sweep_max"],
                f"calls/sweep (account also holds {account['settled']} settled and "
                f"{account['deleted']} deleted stacks: {sweep['pages_per_sweep_unfiltered']} "
                "pages unfiltered)",
                f"<= ceil(N/50)+1 = {math.ceil(int(n) / 50) + 1}; events only for settled",
                sweep["met"],
            )
        )  # fmt: skip
        rows.append(
            entry(
                f"tracking: all AWS calls until done, N={n} (sweep vs naive waiters)",
                sweep["total_calls"], f"calls (naive: {naive['total_calls']})", None, None,
            )
        )  # fmt: skip
    return rows


def dashboard_entries(d: dict[str, Any]) -> list[dict]:
    p = d["portfolio"]
    return [
        entry("dashboard: GetMetricData per environment view", d["view_calls_max"], "calls", "<= 1",
              d["view_calls_max"] <= 1),
        entry("dashboard: GetMetricData on a repeat within the period", d["repeat_calls_max"],
              "calls", "0", d["repeat_calls_max"] == 0),
        entry(f"dashboard: portfolio of {p['environments']} ({p['metrics']} metrics)",
              p["GetMetricData"], "calls", f"<= {p['budget']} (1 per 500 metrics)",
              p["GetMetricData"] <= p["budget"]),
    ]  # fmt: skip


def load_entries(lo: dict[str, Any]) -> list[dict]:
    rows = []
    for name, r in lo["endpoints"].items():
        budget = f"<= {r['budget_p95_ms']:.0f} ms, 0 errors" if name != "healthz" else None
        rows.append(
            entry(
                f"load p95: {name}", r["p95_ms"],
                f"ms (p50 {r['p50_ms']}, p99 {r['p99_ms']}, {r['rps']} req/s, "
                f"alone {r['unloaded_ms']} ms, "
                f"{r['errors']} errors, x{r['p95_ratio_to_healthz']} healthz)",
                budget, r.get("met"),
            )
        )  # fmt: skip
    rss = lo.get("gunicorn_worker_rss_mb", {})
    before, after = rss.get("before", {}), rss.get("after", {})
    growth = [after[pid] - before[pid] for pid in after if pid in before]
    rows.append(
        entry(
            "memory: gunicorn worker RSS growth over the load run",
            round(max(growth), 1) if growth else None,
            f"MB (before {sorted(before.values())}, after {sorted(after.values())}, "
            f"{sum(r['requests'] for r in lo['endpoints'].values())} requests)",
            "steady", None,
        )
    )  # fmt: skip
    think = "-".join(f"{t:g}" for t in lo.get("think_seconds", []))
    rows.append(
        entry("load: total throughput", lo["total_rps"],
              f"req/s, {lo['clients']} users pausing {think} s, {lo['seconds']} s, "
              f"{lo['total_errors']} errors", None, None)
    )  # fmt: skip
    sat = lo.get("saturation")
    if sat:
        served = {n: r for n, r in sat["endpoints"].items() if n != "healthz"}
        worst = {
            kind: max(r["p95_ms"] for r in served.values() if r["api"] == api)
            for kind, api in (("pages", False), ("API lists", True))
        }
        rows.append(
            entry("load saturation (no pause): capacity", sat["total_rps"],
                  f"req/s, {lo['clients']} clients, {sat['seconds']} s, "
                  f"{sat['total_errors']} errors; "
                  f"p95 worst page {worst['pages']} ms, API list {worst['API lists']} ms "
                  f"(= clients / capacity: not a latency budget)", None, None)
        )  # fmt: skip
    return rows


def dispatch_entries(d: dict[str, Any], single: dict[str, Any] | None) -> list[dict]:
    procs = f"{d['worker_concurrency']} worker processes"
    rows = []
    burst = d.get("dispatch")
    if burst:
        rows.append(
            entry("dispatch: approval -> first mutating CloudFormation call p95", burst["p95_ms"],
                  f"ms (p50 {burst['p50_ms']}, max {burst['max_ms']}; burst of {burst['n']} "
                  f"approvals at {burst.get('approvals_per_second')}/s, {procs})",
                  "<= 500 ms", burst["met"])
        )  # fmt: skip
    paced = d.get("dispatch_paced")
    if paced:
        rows.append(
            entry("dispatch: the same, approvals spaced out (an idle worker)", paced["p95_ms"],
                  f"ms (p50 {paced['p50_ms']}; {paced['n']} approvals "
                  f"{paced.get('gap_seconds')} s apart)", None, None)
        )  # fmt: skip
    if single and single.get("dispatch"):
        one = single["dispatch"]
        rows.append(
            entry("dispatch: burst with one worker process (the local cloud's setting)",
                  one["p95_ms"], f"ms p95 (p50 {one['p50_ms']}, {one['n']} approvals at "
                  f"{one.get('approvals_per_second')}/s)", None, None)
        )  # fmt: skip
    done = d.get("completion_notifications")
    if done:
        rows.append(
            entry("completion: stack complete -> change applied p95 (notifications)",
                  done["p95_ms"], f"ms (p50 {done['p50_ms']}, max {done['max_ms']}; the same "
                  f"burst, drain every {done['drain_seconds']} s)", "<= 2000 ms", done["met"])
        )  # fmt: skip
    fallback = d.get("completion_sweep")
    if fallback:
        rows.append(
            entry("completion: the same with notifications off (sweep fallback)",
                  fallback["p95_ms"], f"ms (p50 {fallback['p50_ms']}; sweep every "
                  f"{fallback['sweep_seconds']} s)", f"<= {fallback['budget_ms']:.0f} ms "
                  "(one sweep period)", fallback["met"])
        )  # fmt: skip
    rss = d.get("celery_rss_mb")
    if rss:
        rows.append(
            entry("memory: Celery worker RSS growth per 1,000 changes", rss["growth_per_1000"],
                  f"MB (main + pool: {rss['before']['total']} -> {rss['after']['total']} MB over "
                  f"{rss['changes']} changes, {rss['applied']} applied, same pool processes: "
                  f"{rss['pool_pids_same']})", "steady", None)
        )  # fmt: skip
    return rows


def print_table(entries: list[dict]) -> None:
    def fmt(v: Any) -> str:
        return "-" if v is None else str(v)

    width = max(len(e["name"]) for e in entries)
    print(f"\n{'name':<{width}}  {'value':>8}  {'met':<5}  unit / budget")
    for e in entries:
        met = {True: "yes", False: "NO", None: "-"}[e["met"]]
        value, budget = fmt(e["value"]), fmt(e["budget"])
        print(f"{e['name']:<{width}}  {value:>8}  {met:<5}  {e['unit']}  [{budget}]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="1,000 envs, N<=100, 10 s of load")
    parser.add_argument("--environments", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-dispatch", action="store_true")
    args = parser.parse_args(argv)
    environments = args.environments or (1_000 if args.quick else 10_000)
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    sizes = "10,100" if args.quick else "10,100,1000"
    started = time.monotonic()
    url = db.create()
    raw: dict[str, Any] = {}
    entries: list[dict] = []
    try:
        with tempfile.TemporaryDirectory(prefix="ladder-bench-") as tmp:
            out = Path(tmp)
            print(f"bench: {environments} environments in {db.NAME}", flush=True)
            raw["queries"] = _child("bench.queries", "--environments", str(environments),
                                    url=url, out=out / "q.json", timeout=1800)  # fmt: skip
            entries += query_entries(raw["queries"], "10", str(environments))
            raw["tracking"] = _child("bench.tracking", "--sizes", sizes, url=url,
                                     out=out / "t.json", timeout=600)  # fmt: skip
            entries += tracking_entries(raw["tracking"])
            raw["dashboards"] = _child("bench.dashboards", url=url, out=out / "d.json", timeout=300)
            entries += dashboard_entries(raw["dashboards"])
            if not args.skip_load:
                try:
                    raw["load"] = _child(
                        "bench.load", "--seconds", str(seconds), "--clients", "50",
                        url=url, out=out / "load" / "l.json", timeout=seconds + 300,
                    )  # fmt: skip
                    entries += load_entries(raw["load"])
                except (subprocess.SubprocessError, OSError, ValueError) as exc:
                    # The other parts' figures still make the report.
                    entries.append(entry("load", None, "", None, False, reason=str(exc)))
            if not args.skip_dispatch:
                quick = ["--quick"] if args.quick else []
                try:
                    raw["dispatch"] = _child(
                        "bench.dispatch", *quick, url=url, out=out / "dispatch.json", timeout=1200
                    )
                    one = ["--concurrency", "1", "--paced", "0", "--changes", "0", "--skip-sweep"]
                    raw["dispatch_one_process"] = _child(
                        "bench.dispatch", *quick, *one, url=url, out=out / "one.json", timeout=600
                    )
                    entries += dispatch_entries(raw["dispatch"], raw["dispatch_one_process"])
                except (subprocess.SubprocessError, OSError, ValueError) as exc:
                    entries.append(entry("dispatch", None, "", None, False, reason=str(exc)))
    finally:
        db.drop()
    report = {
        "entries": entries,
        "raw": raw,
        "environments": environments,
        "quick": args.quick,
        "seconds_taken": round(time.monotonic() - started),
    }
    REPORT.write_text(json.dumps(report, indent=1, default=str))
    print_table(entries)
    print(f"\nbench/report.json written in {report['seconds_taken']} s")
    return 0
