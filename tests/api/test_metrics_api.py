"""The dashboards' API: an environment's metrics and recommendations, and acting on one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from provisioning import metrics
from provisioning.metrics import Chart, EnvironmentMetrics, Series
from provisioning.models import ChangeRequest, Recommendation
from tests.api.conftest import make_recommendation
from tests.factories import make_environment

pytestmark = pytest.mark.django_db


def test_metrics_of_an_environment(api, world, monkeypatch):
    at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    chart = Chart(
        "web_cpu", "Web servers", "CPU", "AWS/EC2", "CPUUtilization", "Percent",
        "Average", "Average", [Series("i-0abc", [at], [42.5])],
    )  # fmt: skip
    seen = {}

    def fake(*, environment, window="24h", now=None):
        seen["window"] = window
        start, end = metrics.time_range(metrics.window_for(window), at)
        return EnvironmentMetrics(
            environment.pk, window, 60, start, end, available=True, simulated=True,
            charts=[chart],
        )  # fmt: skip

    monkeypatch.setattr(metrics, "environment_metrics", fake)
    response = api("alice").get(f"/api/v1/environments/{world['shop'].pk}/metrics/?window=1h")
    assert response.status_code == 200, response.content
    body = response.json()
    assert seen["window"] == "1h"
    assert body["available"] and body["simulated"] and body["window"] == "1h"
    [group] = body["groups"]
    assert group["name"] == "Web servers"
    series = group["charts"][0]["series"][0]
    assert series["values"] == [42.5] and series["timestamps"][0].startswith("2026-03-02T12:00")


def test_the_default_window_is_a_day_and_a_failing_cloud_is_not_an_error(api, world):
    shop = world["shop"]  # Outputs that name its instance and database: queries to send
    shop.outputs = {**shop.outputs, "WebInstanceId": "i-0abc", "DatabaseInstanceId": "shop-db"}
    shop.save(update_fields=["outputs"])
    response = api("alice").get(f"/api/v1/environments/{world['shop'].pk}/metrics/")
    assert response.status_code == 200
    body = response.json()
    assert body["window"] == "24h" and body["period"] == 300
    assert body["available"] is False
    assert "not running" in body["reason"]
    assert body["groups"] == []


@pytest.mark.parametrize("window", ["2h", "", "24H", "1d"])
def test_a_bad_window_is_a_400_naming_the_field(api, world, window):
    response = api("alice").get(
        f"/api/v1/environments/{world['shop'].pk}/metrics/", {"window": window}
    )
    if window == "":
        assert response.status_code in (200, 400)  # an empty value: the default or refused
        return
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "window" in body["fields"]


def test_another_teams_metrics_and_recommendations_are_404(api, world):
    bob = api("bob")
    for path in ("metrics/", "recommendations/"):
        response = bob.get(f"/api/v1/environments/{world['blog'].pk}/{path}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert bob.get(f"/api/v1/environments/{world['lake'].pk}/recommendations/").status_code == 200


def test_recommendations_list_the_open_ones_with_their_evidence(api, world):
    closed = make_recommendation(world["blog"], kind="move_up", target_tier=2)
    closed.status = Recommendation.Status.DISMISSED
    closed.save()
    response = api("alice").get(f"/api/v1/environments/{world['blog'].pk}/recommendations/")
    assert response.status_code == 200
    [rec] = response.json()
    assert rec["id"] == world["blog_rec"].pk and rec["status"] == "open"
    assert rec["evidence"][0]["value"] == 5.0 and rec["evidence"][0]["threshold"] == 3.0
    assert rec["change_request"]["tier"] == 3
    assert rec["change_request"]["reason"].startswith("Advisor:")


def test_opening_a_recommendation_requests_its_change(api, world, people):
    cart = make_environment(people["web"], people["alice"], "cart", tier=3)
    rec = make_recommendation(cart, kind="move_up", target_tier=4)
    response = api("alice").post(
        f"/api/v1/recommendations/{rec.pk}/open/", {"reason": "the advisor is right"}, format="json"
    )
    assert response.status_code == 202, response.content
    change = ChangeRequest.objects.get(pk=response.json()["id"])
    assert (change.environment_id, change.from_tier, change.to_tier) == (cart.pk, 3, 4)
    assert change.reason == "the advisor is right"
    rec.refresh_from_db()
    assert rec.status == "accepted" and rec.change_id == change.pk
    again = api("alice").post(f"/api/v1/recommendations/{rec.pk}/open/", {}, format="json")
    assert again.status_code == 409


def test_a_member_of_another_team_cannot_open_it(api, world):
    response = api("bob").post(f"/api/v1/recommendations/{world['blog_rec'].pk}/open/", {})
    assert response.status_code == 404
    assert Recommendation.objects.get(pk=world["blog_rec"].pk).status == "open"


def test_a_move_that_puts_data_at_risk_needs_the_name(api, world, people):
    cellar = make_environment(people["web"], people["alice"], "cellar", tier=2)
    rec = make_recommendation(cellar, kind="move_down", target_tier=1)
    alice = api("alice")
    refused = alice.post(f"/api/v1/recommendations/{rec.pk}/open/", {}, format="json")
    assert refused.status_code == 400
    assert "confirm" in refused.json()["fields"]
    ok = alice.post(f"/api/v1/recommendations/{rec.pk}/open/", {"confirm": "cellar"}, format="json")
    assert ok.status_code == 202, ok.content
    assert ok.json()["to_tier"] == 1
