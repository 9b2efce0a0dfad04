"""The ladder as data, and the validation of what people ask for. No database, no cloud."""

from __future__ import annotations

import pytest

from provisioning import ladder
from provisioning.validation import (
    SUPPORTED_REGIONS,
    ParameterValidationError,
    params_for_move,
    validate_environment_name,
    validate_parameters,
    validate_region,
)

NAMES = ["Single server", "Separate database", "High availability", "Auto scaling", "Web scale"]


def errors_of(tier, params, **kwargs) -> dict[str, str]:
    with pytest.raises(ParameterValidationError) as caught:
        validate_parameters(tier, params, **kwargs)
    return caught.value.errors


# --- the ladder --------------------------------------------------------------------------


def test_five_tiers_in_order_with_their_names():
    assert [t.number for t in ladder.TIERS] == [1, 2, 3, 4, 5]
    assert [t.name for t in ladder.TIERS] == NAMES
    assert ladder.get_tier(3).name == "High availability"


@pytest.mark.parametrize("number", [0, 6, -1, "2", None])
def test_unknown_tier_raises(number):
    with pytest.raises(ladder.LadderError):
        ladder.get_tier(number)


def test_components_are_the_contract_names():
    assert ladder.get_tier(1).components == ("web_single", "dns")
    assert set(ladder.get_tier(2).components) == {"web_single", "database", "dns"}
    assert set(ladder.get_tier(3).components) == {"load_balancer", "web_pair", "database", "dns"}
    assert set(ladder.get_tier(4).components) == {
        "load_balancer", "web_asg", "static_site", "database", "dns",
    }  # fmt: skip
    assert set(ladder.get_tier(5).components) == set(ladder.COMPONENTS) - {"web_single", "web_pair"}
    for tier in ladder.TIERS:
        assert set(tier.components) <= set(ladder.COMPONENTS)
        assert tier.summary and tier.resilience and tier.scalability and tier.capacity


def test_tiers_are_frozen():
    with pytest.raises(AttributeError):
        ladder.get_tier(1).name = "x"  # type: ignore[misc]


@pytest.mark.parametrize("tier", [1, 2, 3, 4, 5])
def test_defaults_hold_only_the_tiers_parameters_and_validate(tier):
    values = ladder.defaults(tier)
    assert set(values) == {p.name for p in ladder.parameters_for(tier)}
    assert validate_parameters(tier, {}) == values
    assert validate_parameters(tier, values) == values


def test_defaults_per_tier():
    assert set(ladder.defaults(1)) == {"instance_type", "hosted_zone_name", "record_name"}
    assert ladder.defaults(2)["db_multi_az"] is False
    assert all(ladder.defaults(t)["db_multi_az"] is True for t in (3, 4, 5))
    assert ladder.defaults(2)["db_engine"] == "postgres"
    assert "cache_node_type" in ladder.defaults(5) and "cache_node_type" not in ladder.defaults(4)


def test_parameter_names_are_the_contract():
    assert [p.name for p in ladder.PARAMETERS] == [
        "instance_type", "web_min_size", "web_max_size", "db_engine", "db_instance_class",
        "db_allocated_storage", "db_multi_az", "cache_node_type", "worker_instance_type",
        "worker_min_size", "worker_max_size", "hosted_zone_name", "record_name", "alert_email",
    ]  # fmt: skip
    assert {p.kind for p in ladder.PARAMETERS} <= {"str", "int", "bool", "choice"}
    for p in ladder.PARAMETERS:
        if p.kind == "choice":
            assert p.choices
        if p.kind == "int":
            assert p.minimum is not None and p.maximum is not None


def test_instance_types_by_tier():
    assert "t3.micro" in ladder.instance_types_for(1)
    assert "m6i.xlarge" in ladder.instance_types_for(1)
    assert "t3.micro" not in ladder.instance_types_for(5)
    assert "t3.small" not in ladder.instance_types_for(5)
    assert set(ladder.instance_types_for(5)) < set(ladder.instance_types_for(4))
    assert ladder.db_instance_classes_for(1) == ()
    assert "db.t4g.micro" not in ladder.db_instance_classes_for(5)
    assert ladder.cache_node_types_for(4) == () and ladder.cache_node_types_for(5)
    with pytest.raises(ladder.LadderError):
        ladder.instance_types_for(9)


@pytest.mark.parametrize("tier", [1, 2, 3, 4, 5])
def test_default_choices_are_offered_at_their_tier(tier):
    for name, value in ladder.defaults(tier).items():
        offered = ladder.PARAMETERS_BY_NAME[name].choices_for(tier)
        if ladder.PARAMETERS_BY_NAME[name].kind == "choice":
            assert value in offered, (tier, name)


# --- migration notes ----------------------------------------------------------------------

ADJACENT = [(1, 2), (2, 1), (2, 3), (3, 2), (3, 4), (4, 3), (4, 5), (5, 4)]


@pytest.mark.parametrize(("frm", "to"), ADJACENT)
def test_every_adjacent_move_has_notes(frm, to):
    notes = ladder.migration_notes(frm, to)
    assert notes
    assert all(n.from_tier == frm and n.to_tier == to and len(n.text) > 30 for n in notes)


def test_required_notes():
    up = ladder.migration_notes(1, 2)
    assert any("data in a database on the instance is not moved" in n.text.lower() for n in up)
    assert not any(n.destructive for n in up)
    down = ladder.migration_notes(2, 1)
    deleted = [n for n in down if "database is deleted, a final snapshot is kept" in n.text]
    assert deleted and deleted[0].destructive


def test_destructive_moves():
    def destructive(frm: int, to: int) -> bool:
        return any(n.destructive for n in ladder.migration_notes(frm, to))

    assert not destructive(1, 2) and not destructive(3, 4) and not destructive(4, 5)
    assert destructive(2, 1) and destructive(5, 4) and destructive(4, 3)
    text = " ".join(n.text for n in ladder.migration_notes(5, 4)).lower()
    assert "cache" in text and "messages" in text
    assert "auto scaling group" in " ".join(n.text for n in ladder.migration_notes(3, 4)).lower()


def test_skipping_moves_compose_adjacent_notes():
    assert ladder.migration_notes(1, 3) == ladder.migration_notes(1, 2) + ladder.migration_notes(
        2, 3
    )
    steps = [(n.from_tier, n.to_tier) for n in ladder.migration_notes(5, 2)]
    assert steps == sorted(steps, reverse=True)
    assert set(steps) == {(5, 4), (4, 3), (3, 2)}
    assert ladder.migration_notes(3, 3) == []
    with pytest.raises(ladder.LadderError):
        ladder.migration_notes(0, 2)


# --- environment names and regions ---------------------------------------------------------


@pytest.mark.parametrize("name", ["shop", "shop-prod", "a1", "x" * 40, "  padded  "])
def test_good_environment_names(name):
    assert validate_environment_name(name) == name.strip()


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "required"),
        ("1shop", "start with a letter"),
        ("shop_prod", "letters, digits and hyphens"),
        ("shop.prod", "letters, digits and hyphens"),
        ("x" * 41, "at most 40"),
        ("Shop", "lower-case"),
        ("shop--prod", "single hyphens"),
        ("shop-", "not ending"),
    ],
)
def test_bad_environment_names(name, fragment):
    with pytest.raises(ParameterValidationError) as caught:
        validate_environment_name(name)
    assert fragment in caught.value.errors["name"]


def test_regions():
    assert {"us-east-1", "eu-west-1"} <= set(SUPPORTED_REGIONS)
    assert validate_region("eu-west-1") == "eu-west-1"
    with pytest.raises(ParameterValidationError) as caught:
        validate_region("mars-1")
    assert "mars-1" in caught.value.errors["region"]
    assert "region" in errors_of(2, {}, region="ap-nowhere-9")
    assert validate_parameters(2, {}, region="us-east-1") == ladder.defaults(2)


@pytest.mark.parametrize("tier", [0, 6, "3", None, True])
def test_bad_tier(tier):
    assert "tier" in errors_of(tier, {})


# --- parameters: coercion ------------------------------------------------------------------


def test_strings_from_forms_are_coerced():
    values = validate_parameters(
        4, {"web_min_size": "3", "web_max_size": " 10 ", "db_multi_az": "TRUE"}
    )
    assert values["web_min_size"] == 3 and values["web_max_size"] == 10
    assert values["db_multi_az"] is True
    assert validate_parameters(2, {"db_multi_az": "false"})["db_multi_az"] is False
    assert validate_parameters(2, {"db_multi_az": True})["db_multi_az"] is True


@pytest.mark.parametrize("value", ["yes", "1", 1, 0, None, "on"])
def test_bool_must_be_a_bool_or_true_false(value):
    assert "true or false" in errors_of(2, {"db_multi_az": value})["db_multi_az"]


@pytest.mark.parametrize("value", ["3.5", 3.0, True, "three", "-3", None, ""])
def test_int_must_be_an_int_or_digits(value):
    assert "whole number" in errors_of(4, {"web_min_size": value})["web_min_size"]


# --- parameters: every error path ----------------------------------------------------------


def test_unknown_parameter():
    assert errors_of(1, {"colour": "blue"}) == {"colour": "unknown parameter"}


def test_parameter_not_used_at_the_tier():
    errors = errors_of(1, {"db_engine": "mysql", "web_min_size": 2})
    assert "does not apply to tier 1" in errors["db_engine"]
    assert "4, 5" in errors["web_min_size"]
    assert "does not apply" in errors_of(4, {"alert_email": "a@example.com"})["alert_email"]


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("web_min_size", 1, "at least 2"),
        ("web_max_size", 51, "at most 50"),
        ("db_allocated_storage", 10, "at least 20"),
        ("db_allocated_storage", "99999", "at most 4096"),
        ("worker_min_size", 0, "at least 1"),
    ],
)
def test_out_of_range(name, value, fragment):
    assert fragment in errors_of(5, {name: value})[name]


def test_not_an_allowed_value():
    errors = errors_of(2, {"db_engine": "oracle", "instance_type": "z9.huge"})
    assert "not an allowed value" in errors["db_engine"]
    assert "postgres" in errors["db_engine"]
    assert "not an allowed value" in errors["instance_type"]
    assert "must be text" in errors_of(2, {"db_engine": 5})["db_engine"]


def test_instance_type_not_offered_at_the_tier():
    errors = errors_of(5, {"instance_type": "t3.micro", "db_instance_class": "db.t4g.micro"})
    assert "not offered at tier 5" in errors["instance_type"]
    assert "not offered at tier 5" in errors["db_instance_class"]
    assert validate_parameters(4, {"instance_type": "t3.micro"})["instance_type"] == "t3.micro"


def test_min_above_max():
    errors = errors_of(4, {"web_min_size": 8, "web_max_size": 4})
    assert "must not exceed web_max_size" in errors["web_min_size"]
    errors = errors_of(5, {"worker_min_size": 5, "worker_max_size": 2})
    assert "worker_max_size" in errors["worker_min_size"]
    assert validate_parameters(4, {"web_min_size": 4, "web_max_size": 4})["web_min_size"] == 4


def test_multi_az_is_always_on_from_tier_3():
    assert "always on from tier 3" in errors_of(3, {"db_multi_az": False})["db_multi_az"]
    assert validate_parameters(3, {"db_multi_az": "true"})["db_multi_az"] is True


@pytest.mark.parametrize("email", ["nobody", "a@b", "a@@example.com", "a b@example.com", 42])
def test_bad_email(email):
    assert "alert_email" in errors_of(5, {"alert_email": email})


def test_good_email():
    values = validate_parameters(5, {"alert_email": " ops+alerts@example.co.uk "})
    assert values["alert_email"] == "ops+alerts@example.co.uk"


@pytest.mark.parametrize(
    ("zone", "fragment"),
    [
        ("example.com.", "trailing dot"),
        ("localhost", "domain name"),
        ("exa mple.com", "domain name"),
        ("-bad.com", "domain name"),
        ("a" * 64 + ".com", "domain name"),
    ],
)
def test_bad_hosted_zone_name(zone, fragment):
    assert fragment in errors_of(1, {"hosted_zone_name": zone})["hosted_zone_name"]


def test_dns_names():
    values = validate_parameters(1, {"hosted_zone_name": "Example.COM", "record_name": "WWW"})
    assert values["hosted_zone_name"] == "example.com" and values["record_name"] == "www"
    assert "needs hosted_zone_name" in errors_of(1, {"record_name": "www"})["record_name"]
    assert (
        "DNS name"
        in errors_of(1, {"hosted_zone_name": "x.com", "record_name": "a_b"})["record_name"]
    )
    long_zone = ".".join(["a" * 63] * 3) + ".com"
    assert (
        "253"
        in errors_of(1, {"hosted_zone_name": long_zone, "record_name": "b" * 60})["record_name"]
    )


def test_all_errors_are_reported_at_once():
    errors = errors_of(
        4, {"web_min_size": "x", "colour": 1, "db_engine": "oracle", "hosted_zone_name": "a."}
    )
    assert set(errors) == {"web_min_size", "colour", "db_engine", "hosted_zone_name"}
    assert "web_min_size" in str(ParameterValidationError(errors))


# --- carrying parameters along a move ------------------------------------------------------


def test_params_for_move_up_and_down():
    five = validate_parameters(5, {"alert_email": "a@example.com", "db_allocated_storage": 200})
    four = params_for_move(five, 4)
    assert "alert_email" not in four and four["db_allocated_storage"] == 200
    two = validate_parameters(2, {"instance_type": "t3.micro", "db_multi_az": False})
    three = params_for_move(two, 3)
    assert three["db_multi_az"] is True and three["instance_type"] == "t3.micro"
    assert params_for_move(three, 5)["instance_type"] == ladder.defaults(5)["instance_type"]
    assert params_for_move(params_for_move(three, 2), 1) == validate_parameters(
        1, {"instance_type": "t3.micro"}
    )
