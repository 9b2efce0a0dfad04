"""Queries per page at 10 and at 10,000 environments, and EXPLAIN (ANALYZE) of the list
queries at the large size. Runs in its own process against the bench database
(``python -m bench.queries --environments N --out FILE``), which it migrates and seeds."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def _no_cloudwatch() -> None:
    from provisioning import metrics
    from provisioning.aws.gateway import GatewayError

    def unreachable(**kwargs: Any) -> Any:
        raise GatewayError("no CloudWatch in the query benchmark", code="Unreachable")

    metrics.cloudwatch_client = unreachable  # type: ignore[assignment]


def _measure(who: dict[str, Any]) -> tuple[dict[str, int], dict[str, list[str]]]:
    from django.test import Client

    from bench.pages import measure
    from provisioning.models import ChangeRequest, Environment

    env = Environment.objects.filter(team=who["team"]).order_by("pk").first()
    assert env is not None
    change = ChangeRequest.objects.filter(environment=env).order_by("-created_at", "-pk")[0]
    clients = {}
    for role, user in (("platform admin", who["admin"]), ("team member", who["lead"])):
        clients[role] = Client()
        clients[role].force_login(user)
    counts, sql = {}, {}
    for role, name, count, queries in measure(clients, environment_id=env.pk, change_id=change.pk):
        counts[f"{role}: {name}"] = count
        sql[f"{role}: {name}"] = queries
    return counts, sql


def _explain(sql: dict[str, list[str]]) -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the longest-running-looking query of each list page as
    the platform admin sees it: the page's own SELECT with its LIMIT."""
    from django.db import connection

    plans = {}
    for key, queries in sql.items():
        if not key.startswith("platform admin") or "detail" in key:
            continue
        pages = [q for q in queries if q.startswith("SELECT") and " LIMIT " in q]
        selected = max(pages or queries, key=len)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + selected)
            plans[key] = "\n".join(row[0] for row in cursor.fetchall())
    return plans


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--environments", type=int, default=10_000)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    from bench import seed

    setup_test_environment()
    _no_cloudwatch()
    call_command("migrate", verbosity=0)
    result: dict[str, Any] = {"sizes": {}}
    small_teams = 2
    large_teams = max(small_teams, args.environments // seed.ENVS_PER_TEAM)
    for size, teams in ((10, small_teams), (args.environments, large_teams)):
        started = time.monotonic()
        seed.grow(environments=size, teams=teams)
        seeded = time.monotonic() - started
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would: index-only counts
        counts, sql = _measure(seed.people())
        result["sizes"][str(size)] = {
            "rows": seed.counts(),
            "seed_seconds": round(seeded, 1),
            "queries": counts,
        }
        if size == args.environments:
            result["explain"] = _explain(sql)
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
