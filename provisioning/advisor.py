"""When to move along the ladder: rules over the last 24 hours and 7 days of metrics.

Each rule states its thresholds below, needs enough data to judge (``MIN_COVERAGE`` of the
window's periods), and gives its evidence (the numbers and the chart window) and the change
that acts on it: a target tier and the parameters to pass to ``services.change_request``.
``advise`` is pure (synthetic series in the tests); ``advice_for`` reads CloudWatch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet

from provisioning import ladder, metrics, pricing
from provisioning.metrics import EnvironmentMetrics as Series
from provisioning.models import Environment, Recommendation
from provisioning.validation import params_for_move

Kind = Recommendation.Kind

MIN_COVERAGE = 0.5  # share of the window's periods that must have data before a rule judges
# Move up: fixed-size web tiers (1-3) whose CPU is high for a sustained share of the day.
CPU_HIGH_PERCENT = 75.0
CPU_HIGH_SHARE = 0.25
# One web server that fails: status checks failed in this many 5-minute periods of a day.
UNHEALTHY_PERIODS = 3
# The database is the bottleneck (tiers 2-4): CPU, or connections near the class's limit.
DB_CPU_HIGH_PERCENT = 75.0
DB_CONNECTIONS_HIGH_RATIO = 0.8
DB_HIGH_SHARE = 0.25
# The queue falls behind (tier 5): the oldest job is this old and its age keeps growing.
QUEUE_AGE_HIGH_SECONDS = 600.0
QUEUE_AGE_GROWTH_PER_HOUR = 60.0
WORKER_MAX_LIMIT = 50
# Move down (tier >= 3): a week in which even the busiest periods stay this low.
LOW_CPU_PERCENT = 20.0
LOW_DB_CPU_PERCENT = 30.0
LOW_PERCENTILE = 95


@dataclass(frozen=True)
class Evidence:
    metric: str
    window: str
    stat: str
    value: float
    threshold: float
    unit: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Advice:
    kind: str
    title: str
    summary: str
    window: str
    from_tier: int
    target_tier: int
    target_parameters: dict[str, Any] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    monthly_saving: Decimal | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(self).items() if k != "monthly_saving"},
            "evidence": [e.as_dict() for e in self.evidence],
            "monthly_saving": str(self.monthly_saving) if self.monthly_saving is not None else None,
        }


# --- statistics -------------------------------------------------------------------------
def share_above(values: list[float], threshold: float) -> float:
    return sum(1 for v in values if v > threshold) / len(values) if values else 0.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return ordered[rank]


def slope_per_hour(values: list[float], period: int) -> float:
    """Least-squares slope of ``values`` (one per period), in units per hour."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    var = sum((x - mean_x) ** 2 for x in range(n))
    cov = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    return cov / var * 3600 / period


def _enough(series: Series, values: list[float]) -> bool:
    return bool(values) and len(values) >= MIN_COVERAGE * series.expected_points


def _tier_name(tier: int) -> str:
    return f"tier {tier} ({ladder.get_tier(tier).name})"


# --- database limits -----------------------------------------------------------------------
_SIZE_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}


def db_max_connections(instance_class: str, engine: str) -> int:
    """RDS's default max_connections for the class: memory / 9,531,392 bytes (PostgreSQL)
    or / 12,582,880 (MySQL). Memory-optimised (r) classes have twice the memory."""
    family, _, size = instance_class.removeprefix("db.").partition(".")
    gib = _SIZE_GIB.get(size, 8) * (2 if family.startswith("r") else 1)
    per = 12_582_880 if engine == "mysql" else 9_531_392
    return max(1, min(5000, gib * 1024**3 // per))


# --- the rules -----------------------------------------------------------------------------
def _move_up(tier: int, day: Series) -> Advice | None:
    if tier > 3:
        return None
    cpu = day.values("web_cpu")
    if not _enough(day, cpu):
        return None
    share = share_above(cpu, CPU_HIGH_PERCENT)
    if share < CPU_HIGH_SHARE:
        return None
    target = tier + 1
    return Advice(
        Kind.MOVE_UP,
        f"Web servers are busy: move up to {_tier_name(target)}",
        f"Tier {tier} has a fixed number of web servers and their CPU was above "
        f"{CPU_HIGH_PERCENT:.0f}% in {share:.0%} of the last 24 hours.",
        day.window,
        tier,
        target,
        evidence=[
            Evidence(
                "web_cpu",
                day.window,
                "Average",
                round(share * 100, 1),
                CPU_HIGH_SHARE * 100,
                "% of periods",
                f"CPU above {CPU_HIGH_PERCENT:.0f}% in {share:.0%} of periods",
            ),
            Evidence(
                "web_cpu",
                day.window,
                "Maximum",
                round(max(cpu), 1),
                CPU_HIGH_PERCENT,
                "%",
                f"peak {max(cpu):.0f}%",
            ),
        ],
    )


def _high_availability(tier: int, day: Series) -> Advice | None:
    # 5xx are counted by a load balancer, which one server does not have: its unhealthy-host
    # signal is the instance's failed status check.
    if tier > 2:
        return None
    failed = day.values("web_status_failed", "max")
    bad = sum(1 for v in failed if v >= 1)
    if not failed or bad < UNHEALTHY_PERIODS:
        return None
    return Advice(
        Kind.HIGH_AVAILABILITY,
        "One web server failed its health checks: move to tier 3 (high availability)",
        f"The only web server failed its status checks in {bad} periods of the last 24 hours; "
        "tier 3 runs two behind a load balancer that routes around a failing one.",
        day.window,
        tier,
        3,
        evidence=[
            Evidence(
                "web_status_failed",
                day.window,
                "Maximum",
                bad,
                UNHEALTHY_PERIODS,
                "periods",
                f"status check failed in {bad} periods",
            ),
        ],
    )


def _data_tier(tier: int, params: Mapping[str, Any], day: Series) -> Advice | None:
    if not 2 <= tier <= 4:
        return None
    cpu, connections = day.values("db_cpu"), day.values("db_connections")
    limit = db_max_connections(
        str(params.get("db_instance_class", "db.t4g.micro")), str(params.get("db_engine", ""))
    )
    evidence = []
    if _enough(day, cpu) and (share := share_above(cpu, DB_CPU_HIGH_PERCENT)) >= DB_HIGH_SHARE:
        evidence.append(
            Evidence(
                "db_cpu",
                day.window,
                "Average",
                round(share * 100, 1),
                DB_HIGH_SHARE * 100,
                "% of periods",
                f"database CPU above {DB_CPU_HIGH_PERCENT:.0f}% in {share:.0%} of periods",
            ),
        )
    busy = DB_CONNECTIONS_HIGH_RATIO * limit
    if _enough(day, connections) and (share := share_above(connections, busy)) >= DB_HIGH_SHARE:
        evidence.append(
            Evidence(
                "db_connections",
                day.window,
                "Average",
                round(max(connections), 1),
                round(busy, 1),
                "connections",
                f"connections above {busy:.0f} (80% of {limit}) in {share:.0%} of periods",
            ),
        )
    if not evidence:
        return None
    return Advice(
        Kind.DATA_TIER,
        "The database is the bottleneck: move to tier 5 (cache and read replica)",
        "Tier 5 puts a Redis cache in front of the database and a read replica beside it, "
        "so reads stop queueing on the primary.",
        day.window,
        tier,
        5,
        evidence=evidence,
    )


def _more_workers(tier: int, params: Mapping[str, Any], day: Series) -> Advice | None:
    if tier != 5:
        return None
    age = day.values("queue_age", "max")
    current = int(params.get("worker_max_size", 4))
    if not _enough(day, age) or current >= WORKER_MAX_LIMIT:
        return None
    growth, latest = slope_per_hour(age, day.period), age[-1]
    if growth < QUEUE_AGE_GROWTH_PER_HOUR or latest < QUEUE_AGE_HIGH_SECONDS:
        return None
    wanted = min(WORKER_MAX_LIMIT, max(current + 2, current * 2))
    return Advice(
        Kind.MORE_WORKERS,
        f"Jobs wait longer and longer: raise the worker maximum to {wanted}",
        f"The oldest job has waited {latest:.0f} s and the wait grows by {growth:.0f} s an "
        f"hour: the {current} workers the group may run cannot keep up.",
        day.window,
        tier,
        tier,
        {"worker_max_size": wanted},
        evidence=[
            Evidence(
                "queue_age",
                day.window,
                "Maximum",
                round(latest, 1),
                QUEUE_AGE_HIGH_SECONDS,
                "s",
                f"oldest job {latest:.0f} s old",
            ),
            Evidence(
                "queue_age",
                day.window,
                "slope",
                round(growth, 1),
                QUEUE_AGE_GROWTH_PER_HOUR,
                "s/hour",
                f"growing {growth:.0f} s per hour",
            ),
        ],
    )


def monthly_saving(tier: int, params: Mapping[str, Any], target: int, region: str) -> Decimal:
    now = pricing.estimate(tier, params, region).total
    later = pricing.estimate(target, params_for_move(params, target), region).total
    return (now - later).quantize(pricing.CENT)


def _move_down(tier: int, params: Mapping[str, Any], region: str, week: Series) -> Advice | None:
    if tier < 3:
        return None
    cpu = week.values("asg_cpu" if tier >= 4 else "web_cpu")
    if not _enough(week, cpu):
        return None
    busiest = percentile(cpu, LOW_PERCENTILE)
    db = week.values("db_cpu")
    db_busiest = percentile(db, LOW_PERCENTILE) if db else 0.0
    if busiest >= LOW_CPU_PERCENT or db_busiest >= LOW_DB_CPU_PERCENT:
        return None
    target = tier - 1
    try:
        saving = monthly_saving(tier, params, target, region)
    except pricing.PricingError:
        return None
    if saving <= 0:
        return None
    evidence = [
        Evidence("web_cpu" if tier < 4 else "asg_cpu", week.window, f"p{LOW_PERCENTILE}",
                 round(busiest, 1), LOW_CPU_PERCENT, "%",
                 f"web CPU p{LOW_PERCENTILE} {busiest:.0f}% over 7 days"),
    ]  # fmt: skip
    if db:
        evidence.append(
            Evidence(
                "db_cpu",
                week.window,
                f"p{LOW_PERCENTILE}",
                round(db_busiest, 1),
                LOW_DB_CPU_PERCENT,
                "%",
                f"database CPU p{LOW_PERCENTILE} {db_busiest:.0f}% over 7 days",
            ),
        )
    return Advice(
        Kind.MOVE_DOWN,
        f"Quiet for a week: move down to {_tier_name(target)} and save "
        f"{pricing.format_usd(saving)} a month",
        f"Even the busiest periods of the last 7 days stayed under {LOW_CPU_PERCENT:.0f}% "
        "CPU. Read the plan's migration notes: moving down removes what this tier adds.",
        week.window,
        tier,
        target,
        evidence=evidence,
        monthly_saving=saving,
    )


def advise(
    *, tier: int, parameters: Mapping[str, Any], region: str, day: Series, week: Series
) -> list[Advice]:
    """Every rule that holds for an environment at ``tier`` with these metrics."""
    found = [
        _move_up(tier, day),
        _high_availability(tier, day),
        _data_tier(tier, parameters, day),
        _more_workers(tier, parameters, day),
    ]
    advice = [a for a in found if a]
    if not advice:  # never "move down" while something says it is too small
        down = _move_down(tier, parameters, region, week)
        advice += [down] if down else []
    return advice


def advice_for(*, environment: Environment, now: datetime | None = None) -> list[Advice] | None:
    """The rules over the environment's last 24 h and 7 d; None when metrics are unavailable
    (nothing can be judged, so nothing should change)."""
    if environment.tier is None:
        return []
    day = metrics.environment_metrics(environment=environment, window="24h", now=now)
    week = metrics.environment_metrics(environment=environment, window="7d", now=now)
    if not (day.available and week.available):
        return None
    return advise(
        tier=environment.tier,
        parameters=environment.parameters,
        region=environment.region,
        day=day,
        week=week,
    )


# --- reads ---------------------------------------------------------------------------------
def recommendation_list(
    *, environment: Environment, include_closed: bool = False
) -> QuerySet[Recommendation]:
    """The environment's recommendations, open ones only unless ``include_closed``. The
    caller got ``environment`` through a selector scoped to the user."""
    rows = environment.recommendations.select_related("change")
    return rows if include_closed else rows.filter(status=Recommendation.Status.OPEN)


def open_recommendation_counts(*, environments: QuerySet[Environment]) -> dict[int, int]:
    """Open recommendations per environment id (the portfolio's column), in one query."""
    rows = (
        Recommendation.objects.filter(
            environment__in=environments, status=Recommendation.Status.OPEN
        )
        .values("environment_id")
        .annotate(n=Count("id"))
    )
    return {row["environment_id"]: row["n"] for row in rows}
