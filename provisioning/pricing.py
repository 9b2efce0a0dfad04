"""Monthly cost estimates for a tier of the ladder, from the bundled price table.

Prices are on-demand list prices kept in ``data/prices.json`` (its ``source`` and ``as_of``
say where they come from and when). Amounts are ``Decimal`` throughout; round only to show
them. Anything the table does not know (a region, an instance type, a component) raises
``PricingError`` naming it: a silent zero would make a bigger tier look cheaper.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

from provisioning import ladder

PRICES_PATH = Path(__file__).resolve().parent / "data" / "prices.json"
CENT = Decimal("0.01")


class PricingError(Exception):
    """The price table cannot price what was asked; the message names what is missing."""


@dataclass(frozen=True)
class LineItem:
    component: str
    description: str
    quantity: Decimal  # units in a month: instance-hours, GB-months, months...
    unit_price: Decimal  # USD per unit
    monthly_usd: Decimal
    unit: str = "hour"

    def as_dict(self) -> dict[str, str]:
        return {
            "component": self.component,
            "description": self.description,
            "quantity": str(self.quantity),
            "unit": self.unit,
            "unit_price": str(self.unit_price),
            "monthly_usd": str(self.monthly_usd),
        }


@dataclass(frozen=True)
class Estimate:
    tier: int
    region: str
    items: list[LineItem]
    total: Decimal
    as_of: str
    notes: tuple[str, ...] = ()

    def by_component(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for item in self.items:
            totals[item.component] = totals.get(item.component, Decimal(0)) + item.monthly_usd
        return totals

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "region": self.region,
            "total": str(self.total),
            "as_of": self.as_of,
            "items": [item.as_dict() for item in self.items],
        }


@dataclass(frozen=True)
class ComponentDelta:
    component: str
    current: Decimal
    target: Decimal

    @property
    def delta(self) -> Decimal:
        return self.target - self.current


@dataclass(frozen=True)
class CostDelta:
    region: str
    current_total: Decimal
    target_total: Decimal
    delta: Decimal
    items: list[ComponentDelta]
    current: Estimate | None = None
    target: Estimate | None = None
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "current_total": str(self.current_total),
            "target_total": str(self.target_total),
            "delta": str(self.delta),
            "items": [
                {
                    "component": item.component,
                    "current": str(item.current),
                    "target": str(item.target),
                    "delta": str(item.delta),
                }
                for item in self.items
            ],
            "current": self.current.as_dict() if self.current else None,
            "target": self.target.as_dict() if self.target else None,
            "notes": list(self.notes),
        }


def format_usd(amount: Decimal, *, signed: bool = False) -> str:
    """``$1,234.57``; with ``signed`` a ``+``/``-`` shows the direction of a change."""
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ("+" if signed and cents > 0 else "")
    return f"{sign}${abs(cents):,.2f}"


@cache
def price_table() -> dict[str, Any]:
    with PRICES_PATH.open(encoding="utf-8") as fh:
        table: dict[str, Any] = json.load(fh, parse_float=Decimal)
    return table


def regions() -> list[str]:
    return sorted(price_table()["regions"])


class _Prices:
    """One region's slice of the table, with lookups that fail loudly."""

    def __init__(self, region: str) -> None:
        table = price_table()
        if region not in table["regions"]:
            known = ", ".join(regions())
            raise PricingError(f"no prices for region {region!r} (known: {known})")
        self.region = region
        self.hours = Decimal(table["hours_per_month"])
        self.table = table["regions"][region]

    def ec2(self, instance_type: str) -> Decimal:
        return self.lookup(self.table["ec2_hour"], instance_type, "EC2 instance type")

    def rds(self, engine: str, instance_class: str) -> Decimal:
        engines = self.table["rds_hour"]
        if engine not in engines:
            raise PricingError(f"no RDS prices for engine {engine!r} in {self.region}")
        return self.lookup(engines[engine], instance_class, f"RDS {engine} instance class")

    def lookup(self, prices: Mapping[str, Any], name: str, what: str) -> Decimal:
        if name not in prices:
            raise PricingError(f"no price for {what} {name!r} in {self.region}")
        return Decimal(prices[name])


@dataclass
class _Context:
    component: str
    prices: _Prices
    params: Mapping[str, Any]
    items: list[LineItem] = field(default_factory=list)

    def add(self, description: str, quantity: Decimal, rate: Decimal, unit: str = "hour") -> None:
        if unit == "hour":  # quantity is a count of things running all month
            quantity *= self.prices.hours
        item = LineItem(self.component, description, quantity, rate, quantity * rate, unit)
        self.items.append(item)

    def count(self, name: str) -> Decimal:
        return Decimal(int(self.params[name]))

    def flag(self, name: str) -> bool:
        value = self.params.get(name, False)
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)


def _instances(ctx: _Context, count: Decimal, label: str, param: str = "instance_type") -> None:
    itype = str(ctx.params[param])
    ctx.add(f"{label}: {count} x {itype}", count, ctx.prices.ec2(itype))


def _db_instance(ctx: _Context, label: str, copies: Decimal) -> None:
    engine, klass = str(ctx.params["db_engine"]), str(ctx.params["db_instance_class"])
    ctx.add(f"{label}: {klass} {engine}", copies, ctx.prices.rds(engine, klass))
    storage = Decimal(int(ctx.params["db_allocated_storage"])) * copies
    rate = Decimal(ctx.prices.table["rds_gp3_gb_month"])
    ctx.add(f"{label} storage: gp3 {storage} GiB", storage, rate, "GB-month")


def _database(ctx: _Context) -> None:
    multi_az = ctx.flag("db_multi_az")
    label = "RDS Multi-AZ (primary + standby)" if multi_az else "RDS single-AZ"
    _db_instance(ctx, label, Decimal(2 if multi_az else 1))


def _cache(ctx: _Context) -> None:
    node = str(ctx.params["cache_node_type"])
    rate = ctx.prices.lookup(ctx.prices.table["elasticache_hour"], node, "ElastiCache node type")
    ctx.add(f"ElastiCache Redis Multi-AZ: 2 x {node} (primary + replica)", Decimal(2), rate)


def _web_asg(ctx: _Context) -> None:
    low, high = ctx.count("web_min_size"), ctx.count("web_max_size")
    _instances(ctx, low, f"web Auto Scaling group at minimum (max {high})")


def _workers(ctx: _Context) -> None:
    low, high = ctx.count("worker_min_size"), ctx.count("worker_max_size")
    _instances(
        ctx, low, f"worker Auto Scaling group at minimum (max {high})", "worker_instance_type"
    )


# Components whose cost depends on parameters; fixed usage comes from the table's "usage".
_BUILDERS: dict[str, Callable[[_Context], None]] = {
    "web_single": lambda ctx: _instances(ctx, Decimal(1), "web instance"),
    "web_pair": lambda ctx: _instances(ctx, Decimal(2), "web instances, one per AZ"),
    "web_asg": _web_asg,
    "database": _database,
    "read_replica": lambda ctx: _db_instance(ctx, "RDS read replica", Decimal(1)),
    "cache": _cache,
    "queue_workers": _workers,
}


def _price_component(ctx: _Context) -> None:
    builder = _BUILDERS.get(ctx.component)
    usage = price_table()["usage"].get(ctx.component, [])
    if builder is None and not usage:
        raise PricingError(f"no price model for component {ctx.component!r}")
    try:
        if builder:
            builder(ctx)
    except KeyError as exc:
        raise PricingError(
            f"cannot price {ctx.component!r}: parameter {exc.args[0]!r} missing"
        ) from exc
    for spec in usage:
        quantity = Decimal(spec["quantity"])
        rate = Decimal(spec["price"] if "price" in spec else ctx.prices.table[spec["rate"]])
        ctx.add(spec["description"].format(quantity=quantity), quantity, rate, spec["unit"])


def components_for(tier: int, params: Mapping[str, Any]) -> list[str]:
    """The tier's components plus DNS, which exists only when a hosted zone is given."""
    names = [name for name in ladder.get_tier(tier).components if name != "dns"]
    if params.get("hosted_zone_name"):
        names.append("dns")
    return names


def estimate(tier: int, params: Mapping[str, Any] | None, region: str) -> Estimate:
    """Itemised monthly cost of ``tier`` with ``params`` (unset ones take the tier defaults).

    Pass validated parameters (``validation.validate_parameters``): this prices what it is
    given and only checks that the table knows it.
    """
    prices = _Prices(region)
    merged = {**ladder.defaults(tier), **(params or {})}
    items: list[LineItem] = []
    for name in components_for(tier, merged):
        ctx = _Context(name, prices, merged)
        _price_component(ctx)
        items += ctx.items
    total = sum((item.monthly_usd for item in items), Decimal(0))
    table = price_table()
    return Estimate(tier, region, items, total, table["as_of"], tuple(table["notes"]))


TierSpec = tuple[int, Mapping[str, Any]]


def delta(current: TierSpec | None, target: TierSpec | None, region: str) -> CostDelta:
    """Monthly cost change of moving from ``current`` to ``target`` (None: nothing)."""
    _Prices(region)  # an unknown region fails even when both sides are None
    before = estimate(current[0], current[1], region) if current else None
    after = estimate(target[0], target[1], region) if target else None
    old = before.by_component() if before else {}
    new = after.by_component() if after else {}
    order = list(dict.fromkeys([*old, *new]))
    items = [ComponentDelta(c, old.get(c, Decimal(0)), new.get(c, Decimal(0))) for c in order]
    current_total = before.total if before else Decimal(0)
    target_total = after.total if after else Decimal(0)
    return CostDelta(
        region=region,
        current_total=current_total,
        target_total=target_total,
        delta=target_total - current_total,
        items=items,
        current=before,
        target=after,
        notes=tuple(price_table()["notes"]),
    )
