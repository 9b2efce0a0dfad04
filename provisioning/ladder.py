"""The ladder of environment tiers, as data.

Five architecture patterns (DESIGN.md, seeds/000): each tier lists the components its
CloudFormation template is composed from (``provisioning.blueprints``), the parameters a team
may set, and what moving to a neighbouring tier does that CloudFormation cannot undo.
Pure Python: no Django, no AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Re-exported: the notes live with their prose in ladder_notes.
from provisioning.ladder_notes import MigrationNote as MigrationNote
from provisioning.ladder_notes import notes_between


class LadderError(Exception):
    """A tier, parameter or move that is not on the ladder."""


@dataclass(frozen=True)
class Tier:
    number: int
    name: str
    summary: str
    resilience: str
    scalability: str
    capacity: str
    components: tuple[str, ...]


# Component names are a contract shared with blueprints, pricing and the planner.
COMPONENTS: tuple[str, ...] = (
    "web_single",
    "database",
    "web_pair",
    "load_balancer",
    "web_asg",
    "static_site",
    "cache",
    "queue_workers",
    "read_replica",
    "monitoring",
    "email",
    "dns",
)

TIERS: tuple[Tier, ...] = (
    Tier(
        1,
        "Single server",
        "One EC2 instance with an Elastic IP; a Route 53 record when a hosted zone is given.",
        "none",
        "vertical only",
        "a first app: hundreds of users",
        ("web_single", "dns"),
    ),
    Tier(
        2,
        "Separate database",
        "The single web instance plus a managed RDS database in private subnets.",
        "partial",
        "vertical only",
        "thousands of users",
        ("web_single", "database", "dns"),
    ),
    Tier(
        3,
        "High availability",
        "Two web instances in two Availability Zones behind a load balancer; RDS Multi-AZ.",
        "full",
        "fixed size",
        "tens of thousands of users",
        ("load_balancer", "web_pair", "database", "dns"),
    ),
    Tier(
        4,
        "Auto scaling",
        "A web Auto Scaling group across AZs (CPU 70% target) behind the load balancer; "
        "static assets in S3 behind CloudFront.",
        "full",
        "horizontal",
        "100,000+ concurrent users",
        ("load_balancer", "web_asg", "static_site", "database", "dns"),
    ),
    Tier(
        5,
        "Web scale",
        "Adds a Redis cache, a queue with workers, a read replica, SES, "
        "CloudWatch alarms and a dashboard.",
        "full",
        "full",
        "1 million+ users",
        (
            "load_balancer",
            "web_asg",
            "static_site",
            "database",
            "read_replica",
            "cache",
            "queue_workers",
            "monitoring",
            "email",
            "dns",
        ),
    ),
)

TIER_NUMBERS: tuple[int, ...] = tuple(t.number for t in TIERS)
ALL_TIERS = frozenset(TIER_NUMBERS)


def get_tier(number: int) -> Tier:
    for tier in TIERS:
        if tier.number == number:
            return tier
    raise LadderError(f"no tier {number!r} on the ladder (tiers are 1 to {len(TIERS)})")


# x86_64 only: the AMI parameter resolves to the x86_64 Amazon Linux image.
# (type, lowest tier, highest tier) - burstables too small for web scale stop at tier 4.
_INSTANCE_TYPES: tuple[tuple[str, int, int], ...] = (
    ("t3.micro", 1, 4),
    ("t3.small", 1, 4),
    ("t3.medium", 1, 5),
    ("t3.large", 1, 5),
    ("t3.xlarge", 1, 5),
    ("m6i.large", 1, 5),
    ("m6i.xlarge", 1, 5),
    ("m6i.2xlarge", 1, 5),
    ("m7i.large", 1, 5),
    ("m7i.xlarge", 1, 5),
    ("c6i.large", 1, 5),
    ("c6i.xlarge", 1, 5),
    ("c7i.large", 1, 5),
    ("r6i.large", 1, 5),
    ("r6i.xlarge", 1, 5),
)
# Workers drain a queue at their own pace: small burstables are fine at tier 5.
_WORKER_INSTANCE_TYPES: tuple[str, ...] = tuple(name for name, _, _ in _INSTANCE_TYPES)
_DB_INSTANCE_CLASSES: tuple[tuple[str, int, int], ...] = (
    ("db.t4g.micro", 2, 4),
    ("db.t4g.small", 2, 4),
    ("db.t4g.medium", 2, 5),
    ("db.t4g.large", 2, 5),
    ("db.t3.micro", 2, 4),
    ("db.t3.small", 2, 4),
    ("db.t3.medium", 2, 5),
    ("db.t3.large", 2, 5),
    ("db.m6g.large", 2, 5),
    ("db.m6g.xlarge", 2, 5),
    ("db.m7g.large", 2, 5),
    ("db.m7g.xlarge", 2, 5),
    ("db.m6i.large", 2, 5),
    ("db.m6i.xlarge", 2, 5),
    ("db.r6g.large", 2, 5),
    ("db.r6g.xlarge", 2, 5),
    ("db.r7g.large", 2, 5),
)
_CACHE_NODE_TYPES: tuple[str, ...] = (
    "cache.t4g.micro",
    "cache.t4g.small",
    "cache.t4g.medium",
    "cache.t3.micro",
    "cache.t3.small",
    "cache.t3.medium",
    "cache.m6g.large",
    "cache.m6g.xlarge",
    "cache.m7g.large",
    "cache.r6g.large",
    "cache.r6g.xlarge",
    "cache.r7g.large",
)
DB_ENGINES: tuple[str, ...] = ("postgres", "mysql")
DB_PORTS: dict[str, int] = {"postgres": 5432, "mysql": 3306}


def instance_types_for(tier: int) -> tuple[str, ...]:
    """EC2 instance types offered for web instances at ``tier``, smallest first."""
    get_tier(tier)
    return tuple(name for name, low, high in _INSTANCE_TYPES if low <= tier <= high)


def worker_instance_types_for(tier: int) -> tuple[str, ...]:
    get_tier(tier)
    return _WORKER_INSTANCE_TYPES if tier >= 5 else ()


def db_instance_classes_for(tier: int) -> tuple[str, ...]:
    get_tier(tier)
    return tuple(name for name, low, high in _DB_INSTANCE_CLASSES if low <= tier <= high)


def cache_node_types_for(tier: int) -> tuple[str, ...]:
    get_tier(tier)
    return _CACHE_NODE_TYPES if tier >= 5 else ()


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # str | int | bool | choice
    default: Any
    help: str
    tiers: frozenset[int]
    choices: tuple[Any, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None

    def applies_to(self, tier: int) -> bool:
        return tier in self.tiers

    def choices_for(self, tier: int) -> tuple[Any, ...] | None:
        """The values offered at ``tier`` (instance sizes differ by tier); None: free text."""
        offered = _OFFERED_BY_TIER.get(self.name)
        return offered(tier) if offered else self.choices


_FROM_2 = frozenset({2, 3, 4, 5})
_FROM_4 = frozenset({4, 5})
_ONLY_5 = frozenset({5})

PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "instance_type",
        "choice",
        "t3.micro",
        "EC2 instance type of the web servers.",
        ALL_TIERS,
        choices=tuple(name for name, _, _ in _INSTANCE_TYPES),
    ),
    Parameter(
        "web_min_size",
        "int",
        2,
        "Fewest web instances the Auto Scaling group keeps (at least one per AZ).",
        _FROM_4,
        minimum=2,
        maximum=20,
    ),
    Parameter(
        "web_max_size",
        "int",
        6,
        "Most web instances the Auto Scaling group may run.",
        _FROM_4,
        minimum=2,
        maximum=50,
    ),
    Parameter(
        "db_engine",
        "choice",
        "postgres",
        "Database engine. Changing it later replaces the database.",
        _FROM_2,
        choices=DB_ENGINES,
    ),
    Parameter(
        "db_instance_class",
        "choice",
        "db.t4g.micro",
        "RDS instance class of the database (and of the read replica at tier 5).",
        _FROM_2,
        choices=tuple(name for name, _, _ in _DB_INSTANCE_CLASSES),
    ),
    Parameter(
        "db_allocated_storage",
        "int",
        20,
        "Database storage in GiB (gp3). It can grow later but never shrink.",
        _FROM_2,
        minimum=20,
        maximum=4096,
    ),
    Parameter(
        "db_multi_az",
        "bool",
        False,
        "Keep a standby database in a second AZ. Optional at tier 2, always on from tier 3.",
        _FROM_2,
    ),
    Parameter(
        "cache_node_type",
        "choice",
        "cache.t4g.medium",
        "ElastiCache node type; the Redis group runs a primary and a replica.",
        _ONLY_5,
        choices=_CACHE_NODE_TYPES,
    ),
    Parameter(
        "worker_instance_type",
        "choice",
        "t3.medium",
        "EC2 instance type of the queue workers.",
        _ONLY_5,
        choices=_WORKER_INSTANCE_TYPES,
    ),
    Parameter(
        "worker_min_size",
        "int",
        1,
        "Fewest queue workers.",
        _ONLY_5,
        minimum=1,
        maximum=20,
    ),
    Parameter(
        "worker_max_size",
        "int",
        4,
        "Most queue workers.",
        _ONLY_5,
        minimum=1,
        maximum=50,
    ),
    Parameter(
        "hosted_zone_name",
        "str",
        "",
        "Existing Route 53 hosted zone (example.com, no trailing dot); empty: no DNS record.",
        ALL_TIERS,
    ),
    Parameter(
        "record_name",
        "str",
        "",
        "Name of the record in the hosted zone (www); empty: the zone apex.",
        ALL_TIERS,
    ),
    Parameter(
        "alert_email",
        "str",
        "",
        "Address subscribed to the alert topic and verified as the SES sender; may be empty.",
        _ONLY_5,
    ),
)

PARAMETERS_BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}

_OFFERED_BY_TIER = {
    "instance_type": instance_types_for,
    "worker_instance_type": worker_instance_types_for,
    "db_instance_class": db_instance_classes_for,
    "cache_node_type": cache_node_types_for,
}

# Tier defaults grow with the tier: a default tier 5 should be able to take web-scale load.
_TIER_DEFAULTS: dict[int, dict[str, Any]] = {
    1: {"instance_type": "t3.micro"},
    2: {"instance_type": "t3.small", "db_instance_class": "db.t4g.micro"},
    3: {"instance_type": "t3.small", "db_instance_class": "db.t4g.small", "db_multi_az": True},
    4: {
        "instance_type": "t3.medium",
        "db_instance_class": "db.t4g.medium",
        "db_allocated_storage": 50,
        "db_multi_az": True,
        "web_min_size": 2,
        "web_max_size": 6,
    },
    5: {
        "instance_type": "m6i.large",
        "db_instance_class": "db.r6g.large",
        "db_allocated_storage": 100,
        "db_multi_az": True,
        "web_min_size": 2,
        "web_max_size": 12,
    },
}


def parameters_for(tier: int) -> tuple[Parameter, ...]:
    get_tier(tier)
    return tuple(p for p in PARAMETERS if p.applies_to(tier))


def defaults(tier: int) -> dict[str, Any]:
    """Default value of every parameter used at ``tier`` (and only those)."""
    overrides = _TIER_DEFAULTS[get_tier(tier).number]
    return {p.name: overrides.get(p.name, p.default) for p in parameters_for(tier)}


def migration_notes(from_tier: int, to_tier: int) -> list[MigrationNote]:
    """Notes for the move, composed step by step for a move that skips tiers."""
    get_tier(from_tier)
    get_tier(to_tier)
    return notes_between(from_tier, to_tier)
