"""An environment's CloudWatch metrics and alarms, and the portfolio's CPU sparklines.

What the dashboard, the API and the advisor call. One environment view is one GetMetricData
call (up to 500 queries; CloudFront's metrics live in us-east-1, so a tier 4-5 environment
elsewhere adds one for that region), its start and end aligned to the window's period, the
answer cached for the period: a repeat view within it makes no AWS call. Nothing here
raises for the cloud's sake: a failing call gives a result with ``available=False`` and the
reason, for the page to say "metrics unavailable".
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

from provisioning import ladder
from provisioning.aws import cloudwatch as aws
from provisioning.aws.cloudformation import session_for
from provisioning.aws.gateway import GatewayError
from provisioning.metric_catalogue import (
    CATALOGUE,
    GROUPS,
    PlannedQuery,
    Resources,
    needs_physical_ids,
    plan_queries,
    resources_from_stack,
    stat_for,
)
from provisioning.models import Environment, Team, TeamPolicy

log = logging.getLogger(__name__)

__all__ = [
    "CATALOGUE",
    "WINDOWS",
    "AlarmsResult",
    "EnvironmentMetrics",
    "environment_alarms",
    "environment_metrics",
    "window_for",
]


@dataclass(frozen=True)
class Window:
    name: str
    seconds: int
    period: int

    @property
    def points(self) -> int:
        return self.seconds // self.period


# Periods keep every series at or under 1,440 points.
WINDOWS: dict[str, Window] = {
    "1h": Window("1h", 3600, 60),
    "24h": Window("24h", 24 * 3600, 300),
    "7d": Window("7d", 7 * 24 * 3600, 900),
}
ALARMS_TTL = 60
PHYSICAL_IDS_TTL = 24 * 3600
PERCENTILES_BROKEN = "metrics:percentiles-broken"


class UnknownWindow(ValueError):
    pass


def window_for(name: str) -> Window:
    try:
        return WINDOWS[name]
    except KeyError:
        raise UnknownWindow(f"window must be one of {', '.join(WINDOWS)}") from None


def time_range(window: Window, now: datetime | None = None) -> tuple[datetime, datetime]:
    """(start, end) of the window ending at the last whole period: CloudWatch buckets
    start at StartTime, so both are multiples of the period."""
    moment = int((now or datetime.now(UTC)).timestamp())
    end = moment - moment % window.period
    return (
        datetime.fromtimestamp(end - window.seconds, UTC),
        datetime.fromtimestamp(end, UTC),
    )


# --- results ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Series:
    label: str
    timestamps: list[datetime]
    values: list[float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "timestamps": [t.isoformat() for t in self.timestamps],
            "values": self.values,
        }


@dataclass(frozen=True)
class Chart:
    key: str
    group: str
    title: str
    namespace: str
    metric: str
    unit: str
    stat: str
    stat_label: str
    series: list[Series]

    def combined(self, how: str = "mean") -> list[tuple[datetime, float]]:
        """One value per timestamp across the series (the mean, or the max)."""
        by_time: dict[datetime, list[float]] = {}
        for line in self.series:
            for when, value in zip(line.timestamps, line.values, strict=False):
                by_time.setdefault(when, []).append(value)
        pick = max if how == "max" else (lambda vs: sum(vs) / len(vs))
        return [(when, pick(vs)) for when, vs in sorted(by_time.items())]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "group": self.group,
            "title": self.title,
            "namespace": self.namespace,
            "metric": self.metric,
            "unit": self.unit,
            "stat": self.stat,
            "stat_label": self.stat_label,
            "series": [s.as_dict() for s in self.series],
        }


@dataclass(frozen=True)
class EnvironmentMetrics:
    environment_id: int
    window: str
    period: int
    start: datetime
    end: datetime
    available: bool
    reason: str = ""
    simulated: bool = False
    cached: bool = False
    charts: list[Chart] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # catalogue keys with no resource id
    notes: list[str] = field(default_factory=list)

    @property
    def expected_points(self) -> int:
        return int((self.end - self.start).total_seconds()) // self.period

    def chart(self, key: str) -> Chart | None:
        return next((c for c in self.charts if c.key == key), None)

    def values(self, key: str, how: str = "mean") -> list[float]:
        chart = self.chart(key)
        return [v for _, v in chart.combined(how)] if chart else []

    def groups(self) -> list[tuple[str, list[Chart]]]:
        """Charts by group, in the catalogue's order (what the page lays out)."""
        return [(g, cs) for g in GROUPS if (cs := [c for c in self.charts if c.group == g])]

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment_id,
            "window": self.window,
            "period": self.period,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "available": self.available,
            "reason": self.reason,
            "simulated": self.simulated,
            "cached": self.cached,
            "groups": [
                {"name": name, "charts": [c.as_dict() for c in charts]}
                for name, charts in self.groups()
            ],
            "missing": self.missing,
            "notes": self.notes,
        }


# --- AWS access -----------------------------------------------------------------------------
def cloudwatch_client(*, team: Team, region: str, service: str = "cloudwatch") -> Any:
    """A client with the team's credentials (its role, when it has one). Tests replace this."""
    policy = TeamPolicy.objects.filter(team=team).only("aws_role_arn", "aws_external_id").first()
    session = session_for(
        region=region,
        role_arn=policy.aws_role_arn if policy else "",
        external_id=policy.aws_external_id if policy else "",
        session_name=f"ladder-{team.slug}",
    )
    return aws.client(session, service)


def cache_get(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception:  # a cache outage costs an AWS call, never the page
        log.warning("metrics cache unavailable", exc_info=True)
        return None


def cache_get_many(keys: list[str]) -> dict[str, Any]:
    try:
        return dict(cache.get_many(keys)) if keys else {}
    except Exception:
        log.warning("metrics cache unavailable", exc_info=True)
        return {}


def cache_set(key: str, value: Any, timeout: int) -> None:
    try:
        cache.set(key, value, timeout=timeout)
    except Exception:
        log.warning("metrics cache unavailable", exc_info=True)


def query_fingerprint(queries: list[PlannedQuery], period: int) -> str:
    body = json.dumps([[q.region, q.as_query(period)] for q in queries], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def environment_resources(environment: Environment) -> Resources:
    """The environment's metric dimensions. Tiers 4-5 also need two physical ids no Output
    holds: read once from CloudFormation and kept for a day (per stack and tier)."""
    tier = environment.tier or 0
    physical: dict[str, str] = {}
    if needs_physical_ids(tier) and environment.stack_name:
        key = f"metrics:physical:{environment.pk}:{environment.stack_id}:{tier}"
        physical = cache_get(key)
        if physical is None:
            try:
                cfn = cloudwatch_client(
                    team=environment.team, region=environment.region, service="cloudformation"
                )
                physical = aws.stack_physical_ids(cfn, stack_name=environment.stack_name)
                cache_set(key, physical, PHYSICAL_IDS_TTL)
            except (aws.CloudWatchError, GatewayError) as exc:
                log.warning("no physical ids for %s: %s", environment.stack_name, exc)
                physical = {}
    return resources_from_stack(
        environment.outputs or {},
        physical,
        stack_name=environment.stack_name,
        stand_ins=settings.METRICS_SIMULATED,
    )


def _fetch(
    team: Team, queries: list[PlannedQuery], window: Window, start: datetime, end: datetime
) -> dict[str, list[list[Any]]]:
    """One GetMetricData call per region (per 500 queries); raises CloudWatchError."""
    answers: dict[str, list[list[Any]]] = {}
    for region in sorted({q.region for q in queries}):
        mine = [q.as_query(window.period) for q in queries if q.region == region]
        try:
            client = cloudwatch_client(team=team, region=region)
        except GatewayError as exc:
            raise aws.CloudWatchError(str(exc), code=exc.code) from exc
        for query_id, (times, values) in aws.get_metric_data(
            client, queries=mine, start=start, end=end
        ).items():
            answers[query_id] = [[t.timestamp() for t in times], values]
    return answers


def _charts(
    queries: list[PlannedQuery], data: dict[str, list[list[Any]]], pct: bool
) -> list[Chart]:
    charts: dict[str, Chart] = {}
    for q in queries:
        spec = q.spec
        if spec.key not in charts:
            _, label = stat_for(spec, percentiles=pct)
            charts[spec.key] = Chart(
                spec.key, spec.group, spec.title, spec.namespace, spec.name, spec.unit,
                q.stat, label, [],
            )  # fmt: skip
        times, values = data.get(q.query_id, [[], []])
        stamps = [datetime.fromtimestamp(t, UTC) for t in times]
        charts[spec.key].series.append(Series(q.series or spec.title, stamps, list(values)))
    return list(charts.values())


def _load(
    environment: Environment, queries: list[PlannedQuery], w: Window, start: datetime, end: datetime
) -> tuple[dict[str, list[list[Any]]], bool]:
    """(answers, from the cache?) for ``queries``; raises CloudWatchError."""
    fingerprint = query_fingerprint(queries, w.period)
    key = f"metrics:v1:{environment.pk}:{w.name}:{int(end.timestamp())}:{fingerprint}"
    data = cache_get(key)
    if data is not None:
        return data, True
    data = _fetch(environment.team, queries, w, start, end)
    cache_set(key, data, w.period)
    return data, False


def environment_metrics(
    *, environment: Environment, window: str = "24h", now: datetime | None = None
) -> EnvironmentMetrics:
    """The environment's catalogue metrics over ``window`` (1h, 24h or 7d)."""
    w = window_for(window)
    start, end = time_range(w, now)
    base: dict[str, Any] = {
        "environment_id": environment.pk, "window": w.name, "period": w.period,
        "start": start, "end": end, "simulated": bool(settings.METRICS_SIMULATED),
    }  # fmt: skip
    if not environment.tier or environment.status == Environment.Status.DECOMMISSIONED:
        return EnvironmentMetrics(**base, available=False, reason="the environment has no stack")
    broken = cache_get(PERCENTILES_BROKEN)
    percentiles = bool(settings.METRICS_PERCENTILES) and not broken
    resources = environment_resources(environment)
    notes = [f"stand-in ids for {', '.join(resources.stand_ins)}"] if resources.stand_ins else []
    if broken:
        notes.append(f"percentiles unavailable ({broken})")
    while True:
        queries, missing = plan_queries(
            environment.tier, resources, region=environment.region, percentiles=percentiles
        )
        try:
            data, cached = _load(environment, queries, w, start, end)
            break
        except aws.CloudWatchError as exc:
            if not (percentiles and any(q.stat != q.spec.stat for q in queries)):
                log.warning("metrics of %s unavailable: %s", environment, exc)
                return EnvironmentMetrics(
                    **base, available=False, reason=str(exc), missing=missing, notes=notes
                )
            # A CloudWatch without percentiles chokes on them: ask without, for an hour.
            cache_set(PERCENTILES_BROKEN, str(exc)[:200], 3600)
            notes.append(f"percentiles unavailable ({exc})")
            percentiles = False
    return EnvironmentMetrics(
        **base,
        available=True,
        cached=cached,
        charts=_charts(queries, data, percentiles),
        missing=missing,
        notes=notes,
    )


# --- alarms -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlarmsResult:
    environment_id: int
    available: bool
    reason: str = ""
    cached: bool = False
    alarms: list[aws.AlarmInfo] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment_id,
            "available": self.available,
            "reason": self.reason,
            "alarms": [a.as_dict() for a in self.alarms],
        }


def environment_alarms(*, environment: Environment) -> AlarmsResult:
    """The states of the stack's CloudWatch alarms (tier 5 has them), cached for a minute."""
    tier = environment.tier or 0
    if not tier or "monitoring" not in ladder.get_tier(tier).components:
        return AlarmsResult(environment.pk, available=True)
    key = f"alarms:v1:{environment.pk}:{environment.stack_name}"
    known = cache_get(key)
    if known is not None:
        return AlarmsResult(environment.pk, available=True, cached=True, alarms=known)
    try:
        client = cloudwatch_client(team=environment.team, region=environment.region)
        alarms = aws.describe_alarms(client, prefix=f"{environment.stack_name}-")
    except (aws.CloudWatchError, GatewayError) as exc:
        return AlarmsResult(environment.pk, available=False, reason=str(exc))
    cache_set(key, alarms, ALARMS_TTL)
    return AlarmsResult(environment.pk, available=True, alarms=alarms)


def covered(result: EnvironmentMetrics, key: str) -> float:
    """Share of the window's periods that have a value for ``key`` (0 to 1)."""
    chart = result.chart(key)
    if not chart or not result.expected_points:
        return 0.0
    return min(1.0, len(chart.combined()) / result.expected_points)
