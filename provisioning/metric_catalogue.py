"""Which CloudWatch metrics matter at each tier, and their dimensions for one environment.

The catalogue is data: real namespaces, metric names, statistics and units, grouped the way the
dashboard shows them. Dimensions come from the stack's Outputs (load balancer and target
group names cut from their ARNs) and, for the resources the Outputs cannot name, from the
stack's physical ids. Pure Python: no Django, no AWS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_FIXED = frozenset({1, 2, 3})
_FROM_2 = frozenset({2, 3, 4, 5})
_FROM_3 = frozenset({3, 4, 5})
_FROM_4 = frozenset({4, 5})
_ONLY_5 = frozenset({5})

# CloudFront publishes its metrics in us-east-1 only, with Region=Global.
CLOUDFRONT_REGION = "us-east-1"


@dataclass(frozen=True)
class MetricSpec:
    key: str  # stable id: query ids, chart ids, the advisor's and the simulator's handle
    group: str
    title: str
    namespace: str
    name: str
    target: str  # which resource the dimensions name (see Resources)
    stat: str
    unit: str  # CloudWatch unit, for display (queries do not filter on it)
    tiers: frozenset[int]
    percentile: str = ""  # e.g. "p95" where AWS computes one; else the plain stat


CATALOGUE: tuple[MetricSpec, ...] = (
    # Fixed web instances (tiers 1-3): one series per instance.
    MetricSpec("web_cpu", "Web servers", "CPU utilisation", "AWS/EC2", "CPUUtilization",
               "web_instance", "Average", "Percent", _FIXED),
    MetricSpec("web_network_in", "Web servers", "Network in", "AWS/EC2", "NetworkIn",
               "web_instance", "Sum", "Bytes", _FIXED),
    MetricSpec("web_network_out", "Web servers", "Network out", "AWS/EC2", "NetworkOut",
               "web_instance", "Sum", "Bytes", _FIXED),
    MetricSpec("web_status_failed", "Web servers", "Status check failed", "AWS/EC2",
               "StatusCheckFailed", "web_instance", "Maximum", "Count", _FIXED),
    # The web Auto Scaling group (tiers 4-5).
    MetricSpec("asg_cpu", "Web servers", "CPU utilisation (group)", "AWS/EC2", "CPUUtilization",
               "web_asg", "Average", "Percent", _FROM_4),
    MetricSpec("asg_in_service", "Web servers", "Instances in service", "AWS/AutoScaling",
               "GroupInServiceInstances", "web_asg", "Average", "Count", _FROM_4),
    # The Application Load Balancer (tiers 3-5).
    MetricSpec("alb_requests", "Load balancer", "Requests", "AWS/ApplicationELB", "RequestCount",
               "load_balancer", "Sum", "Count", _FROM_3),
    MetricSpec("alb_response_time", "Load balancer", "Target response time",
               "AWS/ApplicationELB", "TargetResponseTime", "load_balancer", "Average", "Seconds",
               _FROM_3, percentile="p95"),
    MetricSpec("alb_target_5xx", "Load balancer", "5xx from the web servers",
               "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "load_balancer", "Sum",
               "Count", _FROM_3),
    MetricSpec("alb_elb_5xx", "Load balancer", "5xx from the load balancer",
               "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "load_balancer", "Sum", "Count",
               _FROM_3),
    MetricSpec("alb_healthy", "Load balancer", "Healthy hosts", "AWS/ApplicationELB",
               "HealthyHostCount", "target_group", "Minimum", "Count", _FROM_3),
    MetricSpec("alb_unhealthy", "Load balancer", "Unhealthy hosts", "AWS/ApplicationELB",
               "UnHealthyHostCount", "target_group", "Maximum", "Count", _FROM_3),
    # RDS (tiers 2-5).
    MetricSpec("db_cpu", "Database", "CPU utilisation", "AWS/RDS", "CPUUtilization",
               "database", "Average", "Percent", _FROM_2),
    MetricSpec("db_connections", "Database", "Connections", "AWS/RDS", "DatabaseConnections",
               "database", "Average", "Count", _FROM_2),
    MetricSpec("db_free_storage", "Database", "Free storage", "AWS/RDS", "FreeStorageSpace",
               "database", "Minimum", "Bytes", _FROM_2),
    MetricSpec("db_read_latency", "Database", "Read latency", "AWS/RDS", "ReadLatency",
               "database", "Average", "Seconds", _FROM_2),
    MetricSpec("db_write_latency", "Database", "Write latency", "AWS/RDS", "WriteLatency",
               "database", "Average", "Seconds", _FROM_2),
    # ElastiCache Redis (tier 5): the primary node.
    MetricSpec("cache_cpu", "Cache", "CPU utilisation", "AWS/ElastiCache", "CPUUtilization",
               "cache", "Average", "Percent", _ONLY_5),
    MetricSpec("cache_hit_rate", "Cache", "Hit rate", "AWS/ElastiCache", "CacheHitRate",
               "cache", "Average", "Percent", _ONLY_5),
    MetricSpec("cache_evictions", "Cache", "Evictions", "AWS/ElastiCache", "Evictions",
               "cache", "Sum", "Count", _ONLY_5),
    # SQS (tier 5): the job queue.
    MetricSpec("queue_visible", "Queue", "Messages waiting", "AWS/SQS",
               "ApproximateNumberOfMessagesVisible", "queue", "Maximum", "Count", _ONLY_5),
    MetricSpec("queue_age", "Queue", "Age of oldest message", "AWS/SQS",
               "ApproximateAgeOfOldestMessage", "queue", "Maximum", "Seconds", _ONLY_5),
    # CloudFront (tiers 4-5).
    MetricSpec("cdn_requests", "CDN", "Requests", "AWS/CloudFront", "Requests",
               "distribution", "Sum", "Count", _FROM_4),
    MetricSpec("cdn_error_rate", "CDN", "Error rate", "AWS/CloudFront", "TotalErrorRate",
               "distribution", "Average", "Percent", _FROM_4),
)  # fmt: skip
SPECS: dict[str, MetricSpec] = {spec.key: spec for spec in CATALOGUE}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(spec.group for spec in CATALOGUE))


def catalogue_for(tier: int) -> tuple[MetricSpec, ...]:
    return tuple(spec for spec in CATALOGUE if tier in spec.tiers)


# --- dimensions ---------------------------------------------------------------------------
def arn_resource(arn: str) -> str:
    """What follows an ARN's fifth colon: ``loadbalancer/app/name/id``, ``targetgroup/n/id``."""
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 else ""


def load_balancer_dimension(arn: str) -> str:
    """``app/<name>/<id>``, the LoadBalancer dimension, from the load balancer's ARN."""
    resource = arn_resource(arn)
    return resource.removeprefix("loadbalancer/") if resource.startswith("loadbalancer/") else ""


def target_group_dimension(arn: str) -> str:
    """``targetgroup/<name>/<id>``, the TargetGroup dimension, from the group's ARN."""
    resource = arn_resource(arn)
    return resource if resource.startswith("targetgroup/") else ""


@dataclass(frozen=True)
class Resources:
    """The ids CloudWatch knows an environment's resources by; empty: not at this tier."""

    web_instances: tuple[tuple[str, str], ...] = ()  # (series label, instance id)
    web_asg: str = ""
    load_balancer: str = ""  # app/<name>/<id>
    target_group: str = ""  # targetgroup/<name>/<id>
    database: str = ""
    cache: str = ""  # CacheClusterId of the primary node: <replication group>-001
    queue: str = ""
    distribution: str = ""
    stand_ins: tuple[str, ...] = field(default=())  # targets named by a stand-in id

    def dimension_sets(self, target: str) -> list[tuple[str, list[dict[str, str]]]]:
        """(series label, Dimensions) per series of ``target``; [] when it is unknown."""
        if target == "web_instance":
            return [(label, _dims(InstanceId=i)) for label, i in self.web_instances]
        single: dict[str, Any] = {
            "web_asg": self.web_asg and _dims(AutoScalingGroupName=self.web_asg),
            "load_balancer": self.load_balancer and _dims(LoadBalancer=self.load_balancer),
            "target_group": self.target_group
            and self.load_balancer
            and _dims(LoadBalancer=self.load_balancer, TargetGroup=self.target_group),
            "database": self.database and _dims(DBInstanceIdentifier=self.database),
            "cache": self.cache and _dims(CacheClusterId=self.cache),
            "queue": self.queue and _dims(QueueName=self.queue),
            "distribution": self.distribution
            and _dims(DistributionId=self.distribution, Region="Global"),
        }
        dims = single.get(target)
        return [("", dims)] if dims else []


def _dims(**pairs: str) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in sorted(pairs.items())]


# Resources no Output names (the local cloud skips them and an Output naming them would
# break the stack there): their physical ids by logical id.
PHYSICAL_ONLY = {"cache": "Cache", "distribution": "StaticDistribution"}


def needs_physical_ids(tier: int) -> bool:
    return any(spec.target in PHYSICAL_ONLY for spec in catalogue_for(tier))


def stand_in_id(stack_name: str, target: str) -> str:
    """A stable made-up id for a resource the local cloud does not create, so that the
    simulator and the dashboard agree on its dimensions."""
    digest = hashlib.sha256(f"{stack_name}:{target}".encode()).hexdigest()
    if target == "distribution":
        return "E" + digest[:13].upper()
    return f"{stack_name[:30].lower()}-{digest[:8]}"


def resources_from_stack(
    outputs: Mapping[str, Any],
    physical_ids: Mapping[str, str] | None = None,
    *,
    stack_name: str = "",
    stand_ins: bool = False,
) -> Resources:
    """The environment's metric dimensions from its stack Outputs (and physical ids).

    With ``stand_ins`` (the local cloud), a resource the cloud skipped gets ``stand_in_id``.
    """
    out = {k: str(v) for k, v in outputs.items() if v not in (None, "", "None")}
    physical = dict(physical_ids or {})
    instances: tuple[tuple[str, str], ...] = ()
    if out.get("WebInstanceIds"):
        ids = [i.strip() for i in out["WebInstanceIds"].split(",") if i.strip()]
        instances = tuple((f"web-{chr(ord('a') + n)}", i) for n, i in enumerate(ids))
    elif out.get("WebInstanceId"):
        instances = (("web", out["WebInstanceId"]),)
    load_balancer = load_balancer_dimension(out.get("LoadBalancerArn", "")) or out.get(
        "LoadBalancerFullName", ""
    )
    target_group = target_group_dimension(out.get("TargetGroupArn", "")) or out.get(
        "TargetGroupFullName", ""
    )
    queue = out.get("QueueName") or out.get("QueueUrl", "").rstrip("/").rsplit("/", 1)[-1]
    found: dict[str, str] = {}
    used_stand_ins: list[str] = []
    for target, logical_id in PHYSICAL_ONLY.items():
        value = physical.get(logical_id, "")
        if not value and stand_ins and stack_name:
            value = stand_in_id(stack_name, target)
            used_stand_ins.append(target)
        found[target] = value
    cache = found["cache"]
    return Resources(
        web_instances=instances,
        web_asg=out.get("WebAutoScalingGroupName", ""),
        load_balancer=load_balancer,
        target_group=target_group,
        database=out.get("DatabaseInstanceId", ""),
        cache=f"{cache}-001" if cache else "",
        queue=queue,
        distribution=found["distribution"],
        stand_ins=tuple(used_stand_ins),
    )


# --- queries ------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedQuery:
    query_id: str  # GetMetricData Id: starts with a lower-case letter
    spec: MetricSpec
    series: str  # series label within the chart ("" for a single series)
    dimensions: tuple[tuple[str, str], ...]
    stat: str  # what is asked of CloudWatch
    region: str

    def as_query(self, period: int) -> dict[str, Any]:
        return {
            "Id": self.query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.spec.namespace,
                    "MetricName": self.spec.name,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
                },
                "Period": period,
                "Stat": self.stat,
            },
            "Label": f"{self.spec.title} {self.series}".strip(),
            "ReturnData": True,
        }


FALLBACK_STAT = "Maximum"


def stat_for(spec: MetricSpec, *, percentiles: bool) -> tuple[str, str]:
    """(statistic to ask for, how to label it). Without percentiles (the local cloud's
    CloudWatch crashes on them) a percentile metric falls back to Maximum, said so."""
    if spec.percentile and percentiles:
        return spec.percentile, spec.percentile
    if spec.percentile:
        return FALLBACK_STAT, f"{FALLBACK_STAT} ({spec.percentile} not available here)"
    return spec.stat, spec.stat


def plan_queries(
    tier: int, resources: Resources, *, region: str, percentiles: bool, keys: set[str] | None = None
) -> tuple[list[PlannedQuery], list[str]]:
    """The queries of ``tier``'s catalogue (or only ``keys``), and the metric keys that were
    left out because the stack does not name their resource."""
    planned: list[PlannedQuery] = []
    missing: list[str] = []
    for spec in catalogue_for(tier):
        if keys is not None and spec.key not in keys:
            continue
        sets = resources.dimension_sets(spec.target)
        if not sets:
            missing.append(spec.key)
            continue
        stat, _ = stat_for(spec, percentiles=percentiles)
        where = CLOUDFRONT_REGION if spec.namespace == "AWS/CloudFront" else region
        for n, (label, dims) in enumerate(sets):
            planned.append(
                PlannedQuery(
                    query_id=f"{spec.key}_{n}",
                    spec=spec,
                    series=label,
                    dimensions=tuple((d["Name"], d["Value"]) for d in dims),
                    stat=stat,
                    region=where,
                )
            )
    return planned, missing
