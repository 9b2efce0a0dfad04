from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from provisioning import ladder


def run(*args: str) -> str:
    out = StringIO()
    call_command("ladder", *args, stdout=out)
    return out.getvalue()


def test_show_puts_the_tiers_side_by_side_with_their_cost() -> None:
    output = run("show")
    for tier in ladder.TIERS:
        assert tier.name.split()[0] in output
    assert "$/month us-east-1" in output
    assert "$/month eu-west-1" in output
    assert output.count("$") >= 10


def test_render_prints_the_tier_template_as_json() -> None:
    template = json.loads(run("render", "--tier", "2", "--param", "db_engine=mysql"))
    engines = [
        r["Properties"].get("Engine")
        for r in template["Resources"].values()
        if r["Type"] == "AWS::RDS::DBInstance"
    ]
    assert engines and set(engines) == {"mysql"}


def test_render_network() -> None:
    template = json.loads(run("render", "--network", "--region", "eu-west-1"))
    assert any(r["Type"] == "AWS::EC2::VPC" for r in template["Resources"].values())


def test_render_with_a_bad_param_names_the_field() -> None:
    with pytest.raises(CommandError, match="db_engine"):
        run("render", "--tier", "2", "--param", "db_engine=oracle")


def test_a_param_without_a_value_is_refused() -> None:
    with pytest.raises(CommandError, match="NAME=VALUE"):
        run("render", "--tier", "1", "--param", "instance_type")


def test_plan_downgrade_prints_the_table_the_notes_and_the_cost() -> None:
    output = run("plan", "--from", "2", "--to", "1", "--from-param", "db_engine=mysql")
    assert output.startswith("Plan: downgrade from tier 2 to tier 1 in us-east-1")
    assert "LOGICAL ID" in output and "DATA AT RISK" in output
    assert "final snapshot kept" in output
    assert "Notes:" in output
    assert "Monthly cost (us-east-1)" in output and "(-$" in output
    assert "DESTRUCTIVE" in output


def test_plan_create_and_decommission_use_tier_zero() -> None:
    created = run("plan", "--from", "0", "--to", "1", "--region", "eu-west-1")
    assert created.startswith("Plan: create from nothing to tier 1 in eu-west-1")
    assert "remove" not in created.split("\n", 1)[1].replace("0 to remove", "")
    gone = run("plan", "--from", "3", "--to", "0")
    assert gone.startswith("Plan: decommission from tier 3 to nothing")


def test_plan_with_a_bad_target_param_names_the_field() -> None:
    with pytest.raises(CommandError, match="web_min_size"):
        run("plan", "--from", "3", "--to", "4", "--param", "web_min_size=lots")


def test_plan_with_an_unknown_region_says_so() -> None:
    with pytest.raises(CommandError, match="mars-north-1"):
        run("plan", "--from", "1", "--to", "2", "--region", "mars-north-1")


def test_plan_carries_the_current_settings_to_the_target_tier() -> None:
    output = run("plan", "--from", "2", "--to", "3", "--from-param", "db_engine=mysql")
    assert "Replacements:" not in output
    assert "modify  no" in output


def test_plan_explains_replacements() -> None:
    output = run("plan", "--from", "2", "--to", "2", "--param", "db_engine=mysql")
    assert "Replacements:" in output
    assert "Engine changes from 'postgres' to 'mysql'" in output
