from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from provisioning import ladder, pricing
from provisioning.pricing import PricingError

REGIONS = ("us-east-1", "eu-west-1")


def test_price_table_says_where_and_when_it_comes_from() -> None:
    table = pricing.price_table()
    assert "aws.amazon.com" in table["source"]
    assert table["as_of"][:2] == "20"
    assert set(REGIONS) <= set(pricing.regions())
    assert any("NAT" in note for note in table["notes"])


@pytest.mark.parametrize("region", REGIONS)
def test_default_monthly_cost_rises_strictly_up_the_ladder(region: str) -> None:
    totals = [
        pricing.estimate(t.number, ladder.defaults(t.number), region).total for t in ladder.TIERS
    ]
    assert len(totals) == 5
    assert all(low < high for low, high in itertools.pairwise(totals)), totals


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("tier", [1, 2, 3, 4, 5])
def test_estimate_is_itemised_per_component_and_adds_up(region: str, tier: int) -> None:
    est = pricing.estimate(tier, ladder.defaults(tier), region)
    assert est.total == sum(item.monthly_usd for item in est.items)
    for item in est.items:
        assert isinstance(item.monthly_usd, Decimal)
        assert item.monthly_usd == item.quantity * item.unit_price
        assert item.monthly_usd > 0, item
    priced = {item.component for item in est.items}
    assert priced == set(pricing.components_for(tier, ladder.defaults(tier)))


def test_hours_are_730_a_month() -> None:
    est = pricing.estimate(1, {"instance_type": "t3.micro"}, "us-east-1")
    web = next(i for i in est.items if "t3.micro" in i.description)
    assert web.quantity == 730
    assert web.monthly_usd == Decimal("7.5920")


def test_multi_az_doubles_the_database() -> None:
    params = {**ladder.defaults(2), "db_multi_az": False}
    single = pricing.estimate(2, params, "us-east-1").by_component()["database"]
    double = pricing.estimate(2, {**params, "db_multi_az": True}, "us-east-1")
    assert double.by_component()["database"] == 2 * single


def test_dns_is_priced_only_with_a_hosted_zone() -> None:
    without = pricing.estimate(1, ladder.defaults(1), "us-east-1")
    with_zone = pricing.estimate(
        1, {**ladder.defaults(1), "hosted_zone_name": "example.com"}, "us-east-1"
    )
    assert "dns" not in without.by_component()
    assert with_zone.by_component()["dns"] > 0


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("tier", [1, 2, 3, 4, 5])
def test_everything_the_ladder_offers_has_a_price(region: str, tier: int) -> None:
    offered = {
        "instance_type": ladder.instance_types_for(tier),
        "worker_instance_type": ladder.worker_instance_types_for(tier),
        "db_instance_class": ladder.db_instance_classes_for(tier),
        "cache_node_type": ladder.cache_node_types_for(tier),
        "db_engine": ladder.DB_ENGINES if tier >= 2 else (),
    }
    for name, values in offered.items():
        for value in values:
            pricing.estimate(tier, {name: value}, region)
    if tier >= 2:  # every class with every engine
        for engine in ladder.DB_ENGINES:
            for klass in ladder.db_instance_classes_for(tier):
                pricing.estimate(tier, {"db_engine": engine, "db_instance_class": klass}, region)


@pytest.mark.parametrize(
    ("current", "target"),
    [((1, {}), (2, {})), ((2, {}), (1, {})), ((3, {}), (5, {})), (None, (4, {})), ((5, {}), None)],
)
def test_delta_is_the_difference_of_the_two_estimates(
    current: tuple[int, dict[str, str]] | None, target: tuple[int, dict[str, str]] | None
) -> None:
    for region in REGIONS:
        move = pricing.delta(current, target, region)
        before = pricing.estimate(*current, region).total if current else Decimal(0)
        after = pricing.estimate(*target, region).total if target else Decimal(0)
        assert (move.current_total, move.target_total) == (before, after)
        assert move.delta == after - before
        assert sum(item.delta for item in move.items) == move.delta


def test_unknown_region_is_an_error_naming_it() -> None:
    with pytest.raises(PricingError, match="mars-north-1"):
        pricing.estimate(1, {}, "mars-north-1")
    with pytest.raises(PricingError, match="mars-north-1"):
        pricing.delta(None, None, "mars-north-1")


def test_unknown_instance_type_is_an_error_naming_it() -> None:
    with pytest.raises(PricingError, match=r"x9\.huge"):
        pricing.estimate(1, {"instance_type": "x9.huge"}, "us-east-1")
    with pytest.raises(PricingError, match=r"db\.x9\.huge"):
        pricing.estimate(2, {"db_instance_class": "db.x9.huge"}, "eu-west-1")
    with pytest.raises(PricingError, match=r"cache\.x9\.huge"):
        pricing.estimate(5, {"cache_node_type": "cache.x9.huge"}, "us-east-1")


def test_as_dict_is_json_ready() -> None:
    data = pricing.delta((1, {}), (2, {}), "us-east-1").as_dict()
    assert data["delta"] == str(Decimal(data["target_total"]) - Decimal(data["current_total"]))
    assert data["target"]["items"][0]["monthly_usd"]


def test_format_usd_rounds_only_for_display() -> None:
    assert pricing.format_usd(Decimal("1234.565")) == "$1,234.57"
    assert pricing.format_usd(Decimal("-3.004"), signed=True) == "-$3.00"
    assert pricing.format_usd(Decimal("3"), signed=True) == "+$3.00"
