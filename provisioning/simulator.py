"""Believable CloudWatch metrics for the local cloud, which emits none of its own.

For each ready environment it publishes every catalogue metric (real namespaces and
dimensions, from the same resolution the dashboard uses) once a minute. The numbers come from
a seeded load profile - a daily cycle, steady growth, occasional spikes - divided by what the
environment's tier and sizes can serve, so a move up visibly lowers CPU and latency. On first
sight of an environment it backfills 7 days: 15-minute aggregates up to a day ago, 5-minute
ones up to an hour ago, then minutes (what the 7 d, 24 h and 1 h charts ask for).
Only ``manage.py simulate_traffic`` runs this, and only against the local cloud.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache

from provisioning import ladder
from provisioning.aws import cloudwatch as aws
from provisioning.metric_catalogue import PlannedQuery, plan_queries
from provisioning.metrics import cloudwatch_client, environment_resources
from provisioning.models import Environment

MINUTE = 60
BACKFILL = timedelta(days=7)
CATCH_UP_MINUTES = 60  # after a pause, publish at most this many missed minutes
GIB = 1024**3

# Requests a minute one instance serves at 100% CPU; the database's likewise by size.
WEB_CAPACITY = {
    "t3.micro": 300, "t3.small": 600, "t3.medium": 1200, "t3.large": 1800, "t3.xlarge": 3600,
    "m6i.large": 2400, "m6i.xlarge": 4800, "m6i.2xlarge": 9600, "m7i.large": 2700,
    "m7i.xlarge": 5400, "c6i.large": 3000, "c6i.xlarge": 6000, "c7i.large": 3300,
    "r6i.large": 2200, "r6i.xlarge": 4400,
}  # fmt: skip
DB_CAPACITY_BY_SIZE = {"micro": 900, "small": 1800, "medium": 3600, "large": 7200, "xlarge": 14400}
CACHE_HIT_RATE = 0.85
SCALE_TARGET = 0.7  # the web group's CPU target (blueprints.web_asg)


def _noise(*parts: int) -> float:
    """A repeatable pseudo-random number in [0, 1) for these integers."""
    x = 0x9E3779B9
    for part in parts:
        x = ((x ^ (part & 0xFFFFFFFF)) * 0x85EBCA6B) & 0xFFFFFFFF
        x ^= x >> 13
        x = (x * 0xC2B2AE35) & 0xFFFFFFFF
        x ^= x >> 16
    return x / 2**32


@dataclass(frozen=True)
class LoadProfile:
    """Requests a minute for one environment: seeded by it, the same in every process."""

    seed: int
    base: float  # requests a minute at the daily mean, on day zero
    growth: float  # per day
    day_zero: float  # epoch seconds

    @classmethod
    def for_environment(cls, env: Environment) -> LoadProfile:
        seed = env.pk or 1
        born = (env.created_at or datetime.now(UTC)) - BACKFILL
        return cls(
            seed=seed,
            base=60 + 540 * _noise(seed, 1),
            growth=0.01 + 0.03 * _noise(seed, 2),
            day_zero=born.timestamp(),
        )

    def requests(self, when: float) -> float:
        minute, hour = int(when // MINUTE), int(when // 3600)
        hours_of_day = (when % 86400) / 3600
        daily = 1 + 0.6 * math.cos((hours_of_day - 15) / 24 * 2 * math.pi)  # busiest 15:00 UTC
        days = max(0.0, (when - self.day_zero) / 86400)
        spike = 1.0
        if _noise(self.seed, hour, 3) < 0.03:  # now and then, an hour of 2-3.5x traffic
            spike = 2 + 1.5 * _noise(self.seed, hour, 4)
        jitter = 0.95 + 0.1 * _noise(self.seed, minute, 5)
        return self.base * daily * (1 + self.growth) ** days * spike * jitter


@dataclass(frozen=True)
class Shape:
    """What an environment can serve: from its tier and parameters only."""

    tier: int
    web_capacity: float  # per instance
    web_min: int
    web_max: int
    db_capacity: float
    worker_capacity: float  # jobs a minute per worker
    worker_max: int
    storage_gib: int

    @classmethod
    def of(cls, tier: int, params: dict[str, Any]) -> Shape:
        merged = {**ladder.defaults(tier), **params}
        per = WEB_CAPACITY.get(str(merged.get("instance_type")), 1200) * (0.6 if tier == 1 else 1)
        fixed = 2 if tier == 3 else 1
        klass = str(merged.get("db_instance_class", "db.t4g.micro")).removeprefix("db.")
        family, _, size = klass.partition(".")
        db = DB_CAPACITY_BY_SIZE.get(size, 7200) * (1.25 if family[0] in "mr" else 1)
        worker = WEB_CAPACITY.get(str(merged.get("worker_instance_type")), 1200) / 20
        return cls(
            tier=tier,
            web_capacity=per,
            web_min=int(merged.get("web_min_size", fixed)) if tier >= 4 else fixed,
            web_max=int(merged.get("web_max_size", fixed)) if tier >= 4 else fixed,
            db_capacity=db,
            worker_capacity=worker,
            worker_max=int(merged.get("worker_max_size", 1)),
            storage_gib=int(merged.get("db_allocated_storage", 20)),
        )

    def web_instances(self, load: float) -> int:
        if self.tier < 4:
            return self.web_min
        wanted = math.ceil(load / (SCALE_TARGET * self.web_capacity))
        return max(self.web_min, min(self.web_max, wanted))


def sample(profile: LoadProfile, shape: Shape, when: float) -> dict[str, float]:
    """Every catalogue metric's value for the minute starting at ``when``."""
    load = profile.requests(when)
    n = shape.web_instances(load)
    util = load / (n * shape.web_capacity)
    minute = int(when // MINUTE)
    wobble = 0.97 + 0.06 * _noise(profile.seed, minute, 6)
    failing = 1.0 if util > 1.1 and _noise(profile.seed, minute, 7) < 0.5 else 0.0
    reads = 0.8 * load
    if shape.tier >= 5:  # the cache answers most reads, the replica half of the rest
        reads *= (1 - CACHE_HIT_RATE) * 0.5
    db_util = (0.2 * load + reads) / shape.db_capacity
    jobs = 0.1 * load
    behind = max(0.0, jobs - shape.worker_max * shape.worker_capacity)
    days = max(0.0, (when - profile.day_zero) / 86400)
    return {
        "web_cpu": min(100.0, 2 + 100 * util * wobble),
        "web_network_in": load / n * 2048,
        "web_network_out": load / n * 30720,
        "web_status_failed": failing,
        "asg_cpu": min(100.0, 2 + 100 * util * wobble),
        "asg_in_service": float(n),
        "alb_requests": load,
        "alb_response_time": 0.08 / (1 - min(util, 0.95)) * wobble,
        "alb_target_5xx": round(load * max(0.0, util - 0.9) * 0.5),
        "alb_elb_5xx": round(load * max(0.0, util - 1.0) * 0.3),
        "alb_healthy": float(n) - failing,
        "alb_unhealthy": failing,
        "db_cpu": min(100.0, 3 + 100 * db_util * wobble),
        "db_connections": 8.0 * n + 60 * min(db_util, 1.5),
        "db_free_storage": shape.storage_gib * GIB * max(0.05, 0.85 - 0.002 * days),
        "db_read_latency": 0.002 / (1 - min(db_util, 0.95)),
        "db_write_latency": 0.004 / (1 - min(db_util, 0.95)),
        "cache_cpu": min(100.0, 2 + load / 200),
        "cache_hit_rate": 100 * CACHE_HIT_RATE + 8 * (_noise(profile.seed, minute, 8) - 0.5),
        "cache_evictions": round(max(0.0, load - 15000) / 100),
        "queue_visible": round(behind * 30 + 5 * _noise(profile.seed, minute, 9)),
        "queue_age": behind * 30 / max(1.0, shape.worker_max * shape.worker_capacity) * 60 + 5,
        "cdn_requests": load * 4,
        "cdn_error_rate": 0.2 + 0.3 * _noise(profile.seed, minute, 10),
    }


# --- publishing -----------------------------------------------------------------------------
@dataclass
class Target:
    environment: Environment
    profile: LoadProfile
    shape: Shape
    queries: list[PlannedQuery]


def target_for(environment: Environment) -> Target:
    resources = environment_resources(environment)
    tier = environment.tier or 1
    queries, _ = plan_queries(tier, resources, region=environment.region, percentiles=False)
    return Target(
        environment,
        LoadProfile.for_environment(environment),
        Shape.of(tier, dict(environment.parameters)),
        queries,
    )


def _datum(q: PlannedQuery, when: float, values: list[float]) -> dict[str, Any]:
    datum: dict[str, Any] = {
        "MetricName": q.spec.name,
        "Dimensions": [{"Name": n, "Value": v} for n, v in q.dimensions],
        "Timestamp": datetime.fromtimestamp(when, UTC),
        "Unit": q.spec.unit,
    }
    if len(values) == 1:
        datum["Value"] = values[0]
    else:
        datum["StatisticValues"] = {
            "SampleCount": float(len(values)),
            "Sum": sum(values),
            "Minimum": min(values),
            "Maximum": max(values),
        }
    return datum


def data_for(
    target: Target, buckets: Iterable[tuple[float, int]]
) -> list[tuple[str, str, dict[str, Any]]]:
    """(region, namespace, datum) for each bucket (start, minutes) and catalogue query."""
    out = []
    for start, minutes in buckets:
        samples = [sample(target.profile, target.shape, start + m * MINUTE) for m in range(minutes)]
        for q in target.queries:
            values = [s[q.spec.key] for s in samples]
            out.append((q.region, q.spec.namespace, _datum(q, start, values)))
    return out


def backfill_buckets(now: float) -> list[tuple[float, int]]:
    """7 days before ``now`` (a minute): 15-minute buckets, then 5-minute, then minutes."""
    day_ago = (now - 86400) // 900 * 900
    hour_ago = (now - 3600) // 300 * 300
    start = (now - BACKFILL.total_seconds()) // 900 * 900
    return (
        [(t, 15) for t in _range(start, day_ago, 900)]
        + [(t, 5) for t in _range(day_ago, hour_ago, 300)]
        + [(t, 1) for t in _range(hour_ago, now, MINUTE)]
    )


def _range(start: float, stop: float, step: int) -> list[float]:
    return [float(t) for t in range(int(start), int(stop), step)]


Client = Callable[[Environment, str], Any]


def _client(environment: Environment, region: str) -> Any:
    return cloudwatch_client(team=environment.team, region=region)


def publish(target: Target, buckets: list[tuple[float, int]], client: Client = _client) -> int:
    """Put the buckets' data, one PutMetricData per region, namespace and 1,000 datums."""
    by_call: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for region, namespace, datum in data_for(target, buckets):
        by_call.setdefault((region, namespace), []).append(datum)
    count = 0
    for (region, namespace), data in sorted(by_call.items(), key=lambda kv: kv[0]):
        aws.put_metric_data(client(target.environment, region), namespace=namespace, data=data)
        count += len(data)
    return count


def _state_key(env: Environment) -> str:
    return f"simulator:v1:{settings.AWS_ENDPOINT_URL}:{env.pk}:{env.stack_id}"


def simulate(
    *, now: datetime | None = None, environments: Iterable[Environment] | None = None
) -> dict[str, int]:
    """One round: backfill environments seen for the first time, then publish each one's
    minutes since the last round (at most ``CATCH_UP_MINUTES``) up to ``now``'s minute."""
    moment = (now or datetime.now(UTC)).timestamp() // MINUTE * MINUTE
    if environments is None:
        environments = Environment.objects.filter(
            status__in=[Environment.Status.READY, Environment.Status.UPDATING],
            tier__isnull=False,
        ).select_related("team")
    counts = {"environments": 0, "backfilled": 0, "datums": 0}
    for env in environments:
        key = _state_key(env)
        last = cache.get(key)
        if last is None:
            buckets = [*backfill_buckets(moment), (moment, 1)]
            counts["backfilled"] += 1
        else:
            first = max(float(last) + MINUTE, moment - (CATCH_UP_MINUTES - 1) * MINUTE)
            buckets = [(t, 1) for t in _range(first, moment + MINUTE, MINUTE)]
        if buckets:
            counts["datums"] += publish(target_for(env), buckets)
        cache.set(key, moment, timeout=BACKFILL.total_seconds())
        counts["environments"] += 1
    return counts
