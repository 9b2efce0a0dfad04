"""The portfolio dashboard's data: every environment's web CPU over the last 24 hours in as
few GetMetricData calls as possible (environments sharing credentials and a region share
calls of up to 500 queries), each environment's line cached for the period."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from provisioning import metrics
from provisioning.aws import cloudwatch as aws
from provisioning.aws.gateway import GatewayError
from provisioning.metric_catalogue import PlannedQuery, plan_queries, resources_from_stack
from provisioning.metrics import Window, cache_get_many, cache_set, query_fingerprint, time_range
from provisioning.models import Environment, TeamPolicy

SPARKLINE = Window("24h", 24 * 3600, 1800)
CPU_KEYS = {"web_cpu", "asg_cpu"}


@dataclass(frozen=True)
class Sparkline:
    environment_id: int
    available: bool
    values: list[float] = field(default_factory=list)
    timestamps: list[datetime] = field(default_factory=list)
    reason: str = ""
    simulated: bool = False

    @property
    def latest(self) -> float | None:
        return self.values[-1] if self.values else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment_id,
            "available": self.available,
            "reason": self.reason,
            "simulated": self.simulated,
            "latest": self.latest,
            "timestamps": [t.isoformat() for t in self.timestamps],
            "values": self.values,
        }


def portfolio_cpu(
    *, environments: Iterable[Environment], now: datetime | None = None
) -> dict[int, Sparkline]:
    """Web CPU over the last 24 h per environment, by environment id. Environments that
    share credentials and a region share their calls (500 queries each); each answer is
    cached for the period, so a repeat within it makes no call."""
    start, end = time_range(SPARKLINE, now)
    simulated = bool(settings.METRICS_SIMULATED)
    lines: dict[int, Sparkline] = {}
    wanted: dict[int, tuple[Environment, list[PlannedQuery], str]] = {}
    for env in environments:
        if not env.tier or env.status == Environment.Status.DECOMMISSIONED:
            lines[env.pk] = Sparkline(env.pk, False, reason="no stack", simulated=simulated)
            continue
        resources = resources_from_stack(env.outputs or {}, stack_name=env.stack_name)
        queries, _ = plan_queries(
            env.tier, resources, region=env.region, percentiles=False, keys=CPU_KEYS
        )
        fingerprint = query_fingerprint(queries, SPARKLINE.period)
        wanted[env.pk] = (env, queries, f"spark:v1:{env.pk}:{int(end.timestamp())}:{fingerprint}")
    hits = cache_get_many([key for _, _, key in wanted.values()])
    roles = {
        row["team_id"]: (row["aws_role_arn"], row["aws_external_id"])
        for row in TeamPolicy.objects.filter(
            team_id__in={env.team_id for env, _, _ in wanted.values()}
        ).values("team_id", "aws_role_arn", "aws_external_id")
    }
    groups: dict[tuple[str, str, str], list[int]] = {}
    for pk, (env, queries, key) in wanted.items():
        if key in hits:
            lines[pk] = _sparkline(pk, hits[key], simulated)
        elif not queries:
            lines[pk] = Sparkline(pk, False, reason="no CPU metric for this stack")
        else:
            who = roles.get(env.team_id, ("", ""))
            groups.setdefault((*who, env.region), []).append(pk)
    for pks in groups.values():
        _portfolio_call(pks, wanted, lines, start, end, simulated)
    return lines


def _portfolio_call(
    pks: list[int],
    wanted: dict[int, tuple[Environment, list[PlannedQuery], str]],
    lines: dict[int, Sparkline],
    start: datetime,
    end: datetime,
    simulated: bool,
) -> None:
    queries = []
    for pk in pks:
        for q in wanted[pk][1]:
            queries.append({**q.as_query(SPARKLINE.period), "Id": f"e{pk}_{q.query_id}"})
    env = wanted[pks[0]][0]
    try:
        client = metrics.cloudwatch_client(team=env.team, region=env.region)
        answers = aws.get_metric_data(client, queries=queries, start=start, end=end)
    except (aws.CloudWatchError, GatewayError) as exc:
        for pk in pks:
            lines[pk] = Sparkline(pk, False, reason=str(exc), simulated=simulated)
        return
    for pk in pks:
        by_time: dict[float, list[float]] = {}
        for q in wanted[pk][1]:
            times, values = answers.get(f"e{pk}_{q.query_id}", ([], []))
            for when, value in zip(times, values, strict=False):
                by_time.setdefault(when.timestamp(), []).append(value)
        points = [[t, sum(vs) / len(vs)] for t, vs in sorted(by_time.items())]
        cache_set(wanted[pk][2], points, SPARKLINE.period)
        lines[pk] = _sparkline(pk, points, simulated)


def _sparkline(pk: int, points: list[list[float]], simulated: bool) -> Sparkline:
    return Sparkline(
        pk,
        True,
        values=[round(v, 2) for _, v in points],
        timestamps=[datetime.fromtimestamp(t, UTC) for t, _ in points],
        simulated=simulated,
    )
