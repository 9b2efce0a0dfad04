"""/api/v1/ladder/ and /api/v1/teams/."""

from __future__ import annotations

from decimal import Decimal

import pytest

from provisioning import ladder
from provisioning.models import TeamPolicy

pytestmark = pytest.mark.django_db


def test_the_ladder(api):
    body = api("alice").get("/api/v1/ladder/").json()
    assert body["count"] == 5 and body["next"] is None
    tiers = body["results"]
    assert [t["number"] for t in tiers] == [1, 2, 3, 4, 5]
    one, five = tiers[0], tiers[4]
    assert one["name"] == "Single server" and one["resilience"] == "none"
    assert five["scalability"] == "full"
    for tier in tiers:
        assert {"number", "name", "summary", "resilience", "scalability", "parameters",
                "monthly_cost_from"} <= set(tier)  # fmt: skip
    costs = [Decimal(t["monthly_cost_from"]) for t in tiers]
    assert costs == sorted(costs) and costs[0] > 0
    instance = next(p for p in one["parameters"] if p["name"] == "instance_type")
    assert instance["default"] == ladder.defaults(1)["instance_type"]
    assert "t3.micro" in instance["choices"]
    assert "db_engine" not in {p["name"] for p in one["parameters"]}
    assert "db_engine" in {p["name"] for p in tiers[1]["parameters"]}


def test_teams_with_policy_budget_and_usage(api, world):
    TeamPolicy.objects.update_or_create(
        team=world["web"], defaults={"monthly_budget_usd": Decimal("500"), "max_environments": 4}
    )
    body = api("alice").get("/api/v1/teams/").json()
    assert body["count"] == 1
    web = body["results"][0]
    assert web["slug"] == "web" and web["role"] == "lead" and web["member_count"] == 2
    assert web["policy"] == {
        "auto_approve_max_tier": 2, "monthly_budget_usd": "500.00", "max_environments": 4,
    }  # fmt: skip
    assert web["usage"] == {
        "environments": 2, "monthly_cost": "82.34", "budget_left": "417.66",
    }  # fmt: skip
    assert api("alice").get("/api/v1/teams/web/").json()["slug"] == "web"


def test_a_team_without_a_policy_row_shows_the_defaults(api, people):
    TeamPolicy.objects.filter(team=people["data"]).delete()
    data = api("bob").get("/api/v1/teams/data/").json()
    assert data["policy"]["auto_approve_max_tier"] == 2
    assert data["usage"] == {"environments": 0, "monthly_cost": "0.00", "budget_left": "2000.00"}


def test_platform_admins_see_every_team_without_a_role(api, people):
    body = api("root").get("/api/v1/teams/").json()
    assert [t["slug"] for t in body["results"]] == ["data", "web"]
    assert {t["role"] for t in body["results"]} == {None}
