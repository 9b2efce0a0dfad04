"""Dashboard cost: GetMetricData calls per environment view (and its repeat within the
period), and for a portfolio of 100 environments, through provisioning.metrics and
provisioning.portfolio with a counting stub CloudWatch. Needs a database (the bench one):
``python -m bench.dashboards --out FILE``."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
NOW = datetime(2026, 3, 4, 15, 7, 42, tzinfo=UTC)


class CountingCloudWatch:
    """Answers every metric query with one point and counts calls and metrics asked."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.metrics = 0

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        self.calls["GetMetricData"] += 1
        self.metrics += len(kwargs["MetricDataQueries"])
        return {
            "MetricDataResults": [
                {"Id": q["Id"], "Timestamps": [NOW], "Values": [1.0]}
                for q in kwargs["MetricDataQueries"]
            ]
        }

    def describe_alarms(self, **kwargs: Any) -> dict[str, Any]:
        self.calls["DescribeAlarms"] += 1
        return {"MetricAlarms": []}

    def list_stack_resources(self, **kwargs: Any) -> dict[str, Any]:
        self.calls["ListStackResources"] += 1
        return {"StackResourceSummaries": []}


def _environments(count: int) -> list[Any]:
    from bench.seed import people
    from provisioning import services
    from provisioning.models import Environment
    from provisioning.validation import validate_parameters

    owner = people()["lead"]
    team = services.team_ensure(slug="dash-bench", name="Dashboard bench")
    Environment.objects.filter(team=team).delete()  # a rerun on the same database
    return Environment.objects.bulk_create(
        Environment(
            team=team, name=f"dash-{i:03}", region="us-east-1", tier=1 + i % 5,
            parameters=validate_parameters(1 + i % 5, {}), status="ready",
            stack_name=f"ladder-dash-{i}",
            stack_id=f"arn:aws:cloudformation:us-east-1:123456789012:stack/ladder-dash-{i}/1",
            outputs={"SiteUrl": f"http://dash-{i}.example.test", "WebInstanceId": f"i-{i:08x}",
                     "WebAutoScalingGroupName": f"asg-{i}", "LoadBalancerFullName": f"app/lb-{i}/1",
                     "DatabaseInstanceId": f"db-{i}"},
            created_by=owner,
        )
        for i in range(count)
    )  # fmt: skip


def run(portfolio_size: int = 100) -> dict[str, Any]:
    from django.core.cache import cache

    from provisioning import metrics, portfolio

    stub = CountingCloudWatch()
    metrics.cloudwatch_client = lambda **kwargs: stub  # type: ignore[assignment]
    cache.clear()
    envs = _environments(max(portfolio_size, 5))
    views = {}
    for env in envs[:5]:  # one of each tier
        before = stub.calls["GetMetricData"]
        metrics.environment_metrics(environment=env, window="24h", now=NOW)
        first = stub.calls["GetMetricData"] - before
        metrics.environment_metrics(environment=env, window="24h", now=NOW + timedelta(seconds=30))
        repeat = stub.calls["GetMetricData"] - before - first
        views[f"tier {env.tier}"] = {"first_view": first, "repeat_within_period": repeat}
    stub.calls.clear()
    stub.metrics = 0
    portfolio.portfolio_cpu(environments=envs[:portfolio_size], now=NOW)
    calls, asked = stub.calls["GetMetricData"], stub.metrics
    stub.calls.clear()
    portfolio.portfolio_cpu(environments=envs[:portfolio_size], now=NOW)
    return {
        "environment_views": views,
        "view_calls_max": max(v["first_view"] for v in views.values()),
        "repeat_calls_max": max(v["repeat_within_period"] for v in views.values()),
        "portfolio": {
            "environments": portfolio_size,
            "metrics": asked,
            "GetMetricData": calls,
            "budget": max(1, math.ceil(asked / 500)),
            "repeat_calls": stub.calls["GetMetricData"],
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import override_settings

    call_command("migrate", verbosity=0)
    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=locmem):  # not the developer's Redis
        result = run()
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
