"""The dashboards' pages: an environment's metrics, alarms and recommendations; the
portfolio; the platform overview; a team's webhooks. Who sees what (403, 404), and a
failing metrics call shown as "metrics unavailable", never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from provisioning import metrics
from provisioning.aws.gateway import GatewayError
from provisioning.metrics import Chart, EnvironmentMetrics, Series
from provisioning.models import ChangeRequest, Recommendation, Webhook, WebhookDelivery
from tests.factories import make_change, make_environment

pytestmark = pytest.mark.django_db
CPU = "Web servers"


@pytest.fixture(autouse=True)
def no_cloudwatch(settings, monkeypatch):
    """CloudWatch unreachable unless a test says otherwise; the cache in memory."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()

    def unreachable(**kwargs):
        raise GatewayError("could not connect to the endpoint URL", code="Unreachable")

    monkeypatch.setattr(metrics, "cloudwatch_client", unreachable)


def recommend(environment, *, kind="move_up", target_tier=None, **extra):
    target = target_tier or environment.tier + 1
    return Recommendation.objects.create(
        environment=environment, kind=kind, title=f"Move up to tier {target}",
        summary="The web server is busy most afternoons.",
        evidence=[{
            "metric": "web_cpu", "window": "24h", "stat": "Average", "value": 88.2,
            "threshold": 75.0, "unit": "Percent",
            "text": "CPU above 75% in 41% of the day's periods",
        }],
        window="24h", from_tier=environment.tier, target_tier=target, **extra,
    )  # fmt: skip


# --- environment page ---------------------------------------------------------------------
def test_the_environment_page_shows_recommendations_and_loads_metrics(client, world):
    shop = world["shop"]
    recommend(shop)
    client.force_login(world["alice"])
    html = client.get(reverse("environment-detail", args=[shop.pk])).content.decode()
    assert "Move up to tier 3" in html and "CPU above 75% in 41% of the day" in html
    assert reverse("recommendation-open", args=[shop.recommendations.get().pk]) in html
    assert f'hx-get="{reverse("environment-metrics", args=[shop.pk])}?window=24h"' in html
    assert "vendor/chartjs/chart.umd.js" in html and "js/charts.js" in html


def test_a_failing_metrics_call_says_metrics_unavailable(client, world):
    shop = world["shop"]
    shop.outputs = {**shop.outputs, "WebInstanceId": "i-0abc", "DatabaseInstanceId": "shop-db"}
    shop.save(update_fields=["outputs"])
    client.force_login(world["alice"])
    response = client.get(reverse("environment-metrics", args=[shop.pk]), {"window": "1h"})
    assert response.status_code == 200
    assert "metrics unavailable: could not connect to the endpoint URL" in response.content.decode()


def test_metrics_unavailable_even_when_the_whole_call_blows_up(client, world, monkeypatch):
    def broken(**kwargs):
        return EnvironmentMetrics(
            world["shop"].pk, "24h", 300, timezone.now(), timezone.now(), available=False,
            reason="AccessDenied: not authorized to perform cloudwatch:GetMetricData",
        )  # fmt: skip

    monkeypatch.setattr(metrics, "environment_metrics", broken)
    client.force_login(world["alice"])
    html = client.get(reverse("environment-metrics", args=[world["shop"].pk])).content.decode()
    assert "metrics unavailable: AccessDenied" in html


def test_metrics_are_drawn_from_json_with_a_simulated_label(client, world, monkeypatch):
    at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    chart = Chart("web_cpu", CPU, "CPU", "AWS/EC2", "CPUUtilization", "Percent", "Average",
                  "Average", [Series("web", [at, at + timedelta(minutes=5)], [40.0, 55.5])])  # fmt: skip

    def fake(*, environment, window="24h", now=None):
        start, end = metrics.time_range(metrics.window_for(window), at)
        return EnvironmentMetrics(environment.pk, window, 300, start, end, available=True,
                                  simulated=True, charts=[chart])  # fmt: skip

    monkeypatch.setattr(metrics, "environment_metrics", fake)
    client.force_login(world["alice"])
    html = client.get(reverse("environment-metrics", args=[world["shop"].pk]), {"window": "7d"})
    text = html.content.decode()
    assert "simulated metrics" in text
    assert "<script" not in text  # data, not code: the JSON is in an attribute
    assert 'data-metrics="{&quot;environment&quot;:' in text and "55.5" in text
    assert 'data-chart-key="web_cpu"' in text and CPU in text
    assert 'class="window active" hx-get' in text and "?window=7d" in text


def test_metrics_bad_window_is_400_and_another_team_is_404(client, world):
    client.force_login(world["alice"])
    url = reverse("environment-metrics", args=[world["shop"].pk])
    assert client.get(url, {"window": "2d"}).status_code == 400
    assert client.get(reverse("environment-metrics", args=[world["lake"].pk])).status_code == 404


def test_opening_a_recommendation_requests_the_change(client, people):
    cart = make_environment(people["web"], people["alice"], "cart", tier=3)
    rec = recommend(cart)
    client.force_login(people["dave"])
    response = client.post(reverse("recommendation-open", args=[rec.pk]))
    change = ChangeRequest.objects.get(environment=cart)
    assert response.status_code == 302 and response.url == reverse(
        "change-detail", args=[change.pk]
    )
    assert (change.to_tier, change.reason) == (4, "Advisor: Move up to tier 4")
    rec.refresh_from_db()
    assert rec.status == "accepted" and rec.change == change


def test_a_risky_recommendation_asks_for_the_name(client, people):
    cellar = make_environment(people["web"], people["alice"], "cellar", tier=3)
    rec = recommend(cellar, kind="move_down", target_tier=2, monthly_saving=Decimal("60.00"))
    client.force_login(people["alice"])
    page = client.get(reverse("environment-detail", args=[cellar.pk])).content.decode()
    assert 'data-confirm-name="cellar"' in page and "saves $60.00/month" in page
    refused = client.post(reverse("recommendation-open", args=[rec.pk]), follow=True)
    assert "this change puts data at risk" in refused.content.decode()
    assert not ChangeRequest.objects.filter(environment=cellar).exists()
    ok = client.post(reverse("recommendation-open", args=[rec.pk]), {"confirm": "cellar"})
    assert ok.status_code == 302
    assert ChangeRequest.objects.get(environment=cellar).to_tier == 2


def test_dismissing_and_other_teams(client, world):
    rec = recommend(world["shop"])
    client.force_login(world["bob"])
    assert client.post(reverse("recommendation-dismiss", args=[rec.pk])).status_code == 404
    assert client.post(reverse("recommendation-open", args=[rec.pk])).status_code == 404
    client.force_login(world["alice"])
    response = client.post(reverse("recommendation-dismiss", args=[rec.pk]), follow=True)
    assert "Dismissed: Move up to tier 3" in response.content.decode()
    rec.refresh_from_db()
    assert rec.status == "dismissed"


# --- portfolio --------------------------------------------------------------------------------
def test_the_portfolio_shows_my_environments_only(client, world, monkeypatch):
    from provisioning import portfolio

    points = [10.0, 30.0, 80.0, 60.0]
    monkeypatch.setattr(
        portfolio, "portfolio_cpu",
        lambda *, environments, now=None: {
            e.pk: portfolio.Sparkline(e.pk, True, values=points, simulated=True)
            for e in environments
        },
    )  # fmt: skip
    recommend(world["shop"])
    client.force_login(world["alice"])
    response = client.get(reverse("portfolio"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "shop" in html and "lake" not in html
    assert "<polyline" in html and "60%" in html and "simulated metrics" in html
    assert f'{reverse("environment-detail", args=[world["shop"].pk])}#recommendations">1<' in html
    assert 'href="/dashboard/"' in html  # in the navigation


def test_the_portfolio_survives_an_unreachable_cloud(client, world):
    client.force_login(world["alice"])
    html = client.get(reverse("portfolio")).content.decode()
    assert "shop" in html and "unavailable" in html


def test_the_portfolio_costs_the_same_queries_for_3_or_30(
    client, people, django_assert_max_num_queries
):
    client.force_login(people["alice"])

    def grow(to: int) -> None:
        for n in range(people["web"].environments.count(), to):
            env = make_environment(people["web"], people["alice"], f"env-{n:02}", tier=1 + n % 3)
            recommend(env)
            if n % 4 == 0:
                make_change(env, people["alice"], to_tier=4)

    grow(3)
    with django_assert_max_num_queries(11) as small:
        assert client.get(reverse("portfolio")).status_code == 200
    grow(30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = client.get(reverse("portfolio") + "?page=2").content.decode()
    assert "env-29" in html and "Page 2 of 2" in html


# --- platform overview ------------------------------------------------------------------------
def test_the_platform_overview_is_for_platform_admins(client, world):
    client.force_login(world["alice"])
    assert client.get(reverse("platform-overview")).status_code == 403
    client.force_login(world["carol"])  # an approver is not a platform admin
    assert client.get(reverse("platform-overview")).status_code == 403


def test_the_platform_overview_counts(client, world, django_assert_max_num_queries):
    applied = make_change(world["shop"], world["alice"], to_tier=3, status="applied")
    make_change(world["lake"], world["bob"], to_tier=3, status="failed")
    ChangeRequest.objects.filter(pk=applied.pk).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    client.force_login(world["root"])
    with django_assert_max_num_queries(14):
        response = client.get(reverse("platform-overview"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Environments by tier and status" in html and "Separate database" in html
    overview = response.context
    today = overview["changes_per_day"][-1]
    assert len(overview["changes_per_day"]) == 14
    assert today["total"] == 3 and today["failed"] == 1 and today["success_rate"] == 0
    assert overview["changes_per_day"][-4]["success_rate"] == 100
    assert overview["pending_count"] == 2  # the two awaiting approval from the fixtures
    spend = {t.slug: t.monthly_spend for t in overview["spend_by_team"]}
    assert spend == {"web": Decimal("41.17"), "data": Decimal("41.17")}
    assert 'href="/platform/"' in html


# --- webhooks ---------------------------------------------------------------------------------
@pytest.fixture
def local_hooks(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True


def test_a_lead_adds_a_webhook_and_sees_its_secret_once(client, people, local_hooks):
    client.force_login(people["alice"])
    url = reverse("team-webhooks", args=["web"])
    response = client.post(url, {"url": "http://127.0.0.1:9/hook", "events": ["change.applied"]})
    hook = Webhook.objects.get(team=people["web"])
    assert response.status_code == 200 and hook.events == ["change.applied"]
    assert hook.secret in response.content.decode()
    again = client.get(url).content.decode()
    assert "http://127.0.0.1:9/hook" in again and hook.secret not in again
    bad = client.post(url, {"url": "ftp://example.com/x"})
    assert bad.status_code == 400 and "http:// or https://" in bad.content.decode()
    removed = client.post(reverse("team-webhook-delete", args=["web", hook.pk]))
    assert removed.status_code == 302 and not Webhook.objects.exists()


def test_members_read_webhooks_and_deliveries_other_teams_404(client, people, local_hooks):
    hook = Webhook.objects.create(team=people["web"], url="http://127.0.0.1:9/hook")
    WebhookDelivery.objects.create(
        webhook=hook, event="change.failed", status="failed", status_code=500, attempts=6,
        error="HTTP 500",
    )  # fmt: skip
    url = reverse("team-webhooks", args=["web"])
    client.force_login(people["dave"])
    html = client.get(url).content.decode()
    assert "change.failed" in html and "Gave up" in html and "Add a webhook" not in html
    assert hook.secret not in html
    assert client.post(url, {"url": "http://127.0.0.1:9/other"}).status_code == 403
    assert client.post(reverse("team-webhook-delete", args=["web", hook.pk])).status_code == 403
    client.force_login(people["bob"])
    assert client.get(url).status_code == 404
    assert client.post(reverse("team-webhook-delete", args=["web", hook.pk])).status_code == 404
    client.force_login(people["root"])
    assert "Add a webhook" in client.get(url).content.decode()
    assert Webhook.objects.count() == 1
