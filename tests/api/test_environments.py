"""/api/v1/environments/: list, filters, detail, request, move, decommission, retry, events."""

from __future__ import annotations

import pytest

from provisioning.models import AuditEvent, ChangeRequest, Environment, TeamPolicy
from tests.factories import make_environment

pytestmark = pytest.mark.django_db
URL = "/api/v1/environments/"


def names(response):
    assert response.status_code == 200, response.content
    return sorted(e["name"] for e in response.json()["results"])


def test_list_is_paginated_and_scoped(api, world):
    body = api("alice").get(URL).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert sorted(e["name"] for e in body["results"]) == ["blog", "shop"]
    shop = next(e for e in body["results"] if e["name"] == "shop")
    assert shop["active_change"]["id"] == world["shop_change"].pk
    assert shop["active_change"]["status"] == "awaiting_approval"
    paged = api("alice").get(URL, {"page_size": 1}).json()
    assert len(paged["results"]) == 1 and paged["next"] and paged["count"] == 2
    assert names(api("root").get(URL)) == ["blog", "lake", "shop"]


def test_filters_team_tier_status_search(api, world):
    alice = api("alice")
    assert names(alice.get(URL, {"tier": 1})) == ["blog"]
    assert names(alice.get(URL, {"team": "web"})) == ["blog", "shop"]
    assert names(alice.get(URL, {"team": "data"})) == []  # another team's slug finds nothing
    assert names(alice.get(URL, {"search": "sho"})) == ["shop"]
    Environment.objects.filter(pk=world["blog"].pk).update(status="decommissioned")
    assert names(alice.get(URL)) == ["shop"]
    assert names(alice.get(URL, {"status": "decommissioned"})) == ["blog"]
    assert names(alice.get(URL, {"status": "all"})) == ["blog", "shop"]
    bad = alice.get(URL, {"tier": 9, "status": "sleeping"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid" and set(bad.json()["fields"]) == {"tier", "status"}


def test_detail_has_the_contract_fields(api, world):
    body = api("alice").get(f"{URL}{world['shop'].pk}/").json()
    for field in ("id", "team", "name", "tier", "status", "region", "parameters", "outputs",
                  "stack_name", "monthly_cost", "active_change"):  # fmt: skip
        assert field in body, field
    assert body["team"] == "web" and body["tier"] == 2 and body["monthly_cost"] == "41.17"
    assert body["outputs"]["SiteUrl"] == "http://shop.example.test"
    assert body["active_change"]["id"] == world["shop_change"].pk


def test_a_decommissioned_environment_keeps_its_page(api, world):
    Environment.objects.filter(pk=world["blog"].pk).update(status="decommissioned")
    assert api("alice").get(f"{URL}{world['blog'].pk}/").json()["status"] == "decommissioned"


def test_request_answers_202_with_the_environment_and_its_planned_change(api, people):
    response = api("alice").post(
        URL,
        {"team": "web", "name": "api-shop", "tier": 1, "region": "us-east-1",
         "parameters": {"instance_type": "t3.small"}, "reason": "launch"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["environment"]["name"] == "api-shop" and body["environment"]["team"] == "web"
    assert body["environment"]["status"] == "provisioning"
    change = body["change"]
    assert change["kind"] == "create" and change["status"] == "planning" and change["to_tier"] == 1
    assert change["to_parameters"]["instance_type"] == "t3.small"
    assert change["plan"]["counts"]["add"] > 0
    assert {"logical_id", "type", "action", "replacement", "data_at_risk"} <= set(
        change["plan"]["resources"][0]
    )
    assert change["requester"] == "alice" and change["reason"] == "launch"
    assert AuditEvent.objects.filter(action="environment.requested").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"team": "web", "name": "x1", "tier": 9}, "tier"),
        ({"team": "web", "name": "x1", "tier": "one"}, "tier"),
        ({"team": "web", "name": "x1", "tier": 1, "parameters": {"instance_type": "z9.huge"}},
         "parameters.instance_type"),
        ({"team": "web", "name": "x1", "tier": 1, "parameters": {"nope": 1}}, "parameters.nope"),
        ({"team": "web", "name": "Bad Name!", "tier": 1}, "name"),
        ({"team": "web", "name": "shop", "tier": 1}, "name"),  # duplicate
        ({"team": "web", "name": "x1", "tier": 1, "region": "mars-1"}, "region"),
        ({"team": "data", "name": "x1", "tier": 1}, "team"),  # not alice's team
        ({"team": "nope", "name": "x1", "tier": 1}, "team"),
        ({"name": "x1", "tier": 1}, "team"),
        ({"team": "web", "name": "x1", "tier": 1, "parameters": []}, "parameters"),
    ],
)  # fmt: skip
def test_bad_requests_answer_400_with_the_field(api, world, body, field):
    response = api("alice").post(URL, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] == "invalid" and error["detail"]
    assert field in error["fields"], error
    assert Environment.objects.filter(name="x1").count() == 0


def test_malformed_json_is_a_400_in_the_error_shape(api, people):
    response = api("alice").post(URL, data='{"team": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error" and "body" in response.json()["fields"]


def test_over_budget_is_refused_with_the_numbers(api, people):
    TeamPolicy.objects.update_or_create(team=people["web"], defaults={"monthly_budget_usd": 1})
    response = api("alice").post(URL, {"team": "web", "name": "big", "tier": 1}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "policy_refused"
    assert "budget of $1.00/month" in response.json()["detail"]


def test_move_answers_202_with_the_change(api, world):
    response = api("alice").post(
        f"{URL}{world['blog'].pk}/changes/",
        {"tier": 3, "reason": "traffic", "confirm": "blog"},  # tier 1 -> 2 leaves data behind
        format="json",
    )
    assert response.status_code == 202, response.content
    change = response.json()
    assert change["kind"] == "upgrade" and change["from_tier"] == 1 and change["to_tier"] == 3
    assert change["environment"] == world["blog"].pk and change["status"] == "planning"


def test_resize_keeps_the_tier(api, world):
    response = api("alice").post(
        f"{URL}{world['blog'].pk}/changes/",
        {"parameters": {"instance_type": "t3.large"}},
        format="json",
    )
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "resize" and response.json()["to_tier"] == 1


def test_a_second_active_change_is_a_409(api, world):
    response = api("alice").post(
        f"{URL}{world['shop'].pk}/changes/", {"tier": 3, "confirm": "shop"}, format="json"
    )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "conflict"
    assert "active change" in response.json()["detail"]


def test_data_at_risk_needs_the_typed_confirmation(api, world):
    url = f"{URL}{world['lake'].pk}/changes/"
    refused = api("bob").post(url, {"tier": 1}, format="json")
    assert refused.status_code == 400
    assert "confirm" in refused.json()["fields"]
    accepted = api("bob").post(url, {"tier": 1, "confirm": "lake"}, format="json")
    assert accepted.status_code == 202, accepted.content
    assert accepted.json()["confirmed"] is True and accepted.json()["kind"] == "downgrade"
    assert accepted.json()["plan"]["destructive"] is True


def test_nothing_to_change_is_a_400(api, world):
    response = api("alice").post(f"{URL}{world['blog'].pk}/changes/", {"tier": 1}, format="json")
    assert response.status_code == 400 and "tier" in response.json()["fields"]


def test_decommission_needs_the_name_then_answers_202(api, world):
    url = f"{URL}{world['blog'].pk}/decommission/"
    missing = api("alice").post(url, {}, format="json")
    assert missing.status_code == 400 and "confirm" in missing.json()["fields"]
    wrong = api("alice").post(url, {"confirm": "shop"}, format="json")
    assert wrong.status_code == 400 and "confirm" in wrong.json()["fields"]
    response = api("alice").post(url, {"confirm": "blog", "reason": "done"}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "decommission" and response.json()["to_tier"] is None


def test_decommission_with_an_active_change_is_a_409(api, world):
    url = f"{URL}{world['shop'].pk}/decommission/"
    Environment.objects.filter(pk=world["shop"].pk).update(status="updating")
    response = api("alice").post(url, {"confirm": "shop"}, format="json")
    assert response.status_code == 409


def test_retry_of_a_failed_create(api, people):
    env = make_environment(people["web"], people["alice"], "wobbly", tier=None, status="failed")
    ChangeRequest.objects.create(
        environment=env, kind="create", status="failed", to_tier=1,
        to_parameters={"instance_type": "t3.micro"}, requester=people["alice"],
    )  # fmt: skip
    response = api("alice").post(f"{URL}{env.pk}/retry/", {}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "create" and response.json()["to_tier"] == 1
    again = api("alice").post(f"{URL}{env.pk}/retry/", {}, format="json")
    assert again.status_code == 409


def test_members_of_other_teams_cannot_write(api, world):
    # carol approves but belongs to no team: she cannot see web's environments at all
    response = api("carol").post(f"{URL}{world['blog'].pk}/changes/", {"tier": 2}, format="json")
    assert response.status_code == 404


def test_events_in_order_after_a_sequence(api, world):
    url = f"{URL}{world['shop'].pk}/events/"
    body = api("alice").get(url).json()
    assert body["change"] == world["shop_change"].pk
    assert body["change_status"] == "awaiting_approval"
    assert [e["sequence"] for e in body["results"]] == [1, 2]
    assert body["results"][1]["status"] == "CREATE_COMPLETE" and body["next"] is None
    later = api("alice").get(url, {"after": 1}).json()
    assert [e["sequence"] for e in later["results"]] == [2]
    chosen = api("alice").get(url, {"change": world["shop_change"].pk, "after": 2}).json()
    assert chosen["results"] == []
    assert api("alice").get(url, {"after": -1}).status_code == 400
    foreign = api("alice").get(url, {"change": world["lake_change"].pk})
    assert foreign.status_code == 404


def test_events_of_an_environment_with_no_change(api, world):
    body = api("alice").get(f"{URL}{world['blog'].pk}/events/").json()
    assert body == {"change": None, "change_status": None, "next": None, "results": []}
