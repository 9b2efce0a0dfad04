"""The dashboards in a real Chromium: an environment on the local cloud (moto, in process)
with a week of simulated metrics, its charts drawn by the vendored Chart.js, an open
recommendation acted on from the page, and the portfolio with its CPU sparklines."""

from __future__ import annotations

import pytest

from provisioning import services, simulator
from provisioning.models import ChangeRequest, Environment, Membership, Recommendation
from provisioning.services import changes
from tests.browser.test_workflow_pages import PASSWORD, sign_in
from tests.factories import make_environment
from tests.provisioning.localcloud import local_cloud

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning"),
]
DRAWN = """() => {
  const canvases = [...document.querySelectorAll("canvas[data-chart-key]")];
  return canvases.length > 0 && window.Chart && canvases.every((c) => {
    const chart = window.Chart.getChart(c);
    return chart && chart.data.datasets.some((d) => d.data.length > 0);
  });
}"""


@pytest.fixture
def cloud(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.METRICS_SIMULATED = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.cache import cache

    cache.clear()
    with local_cloud() as cloud:
        yield cloud


@pytest.fixture
def doorbell(monkeypatch):
    """Services ring the worker on commit; no worker listens here."""
    rung: list[tuple[str, int]] = []
    monkeypatch.setattr(changes, "enqueue", lambda task, change_id: rung.append((task, change_id)))
    return rung


def on_cloud(env: Environment, stack: dict) -> Environment:
    env.stack_name, env.stack_id = stack["name"], stack["stack_id"]
    env.outputs, env.parameters = stack["outputs"], stack["parameters"]
    env.save()
    return env


def test_environment_metrics_recommendation_and_portfolio(page, cloud, screenshot_dir, doorbell):
    web = services.team_ensure(slug="web", name="Web storefront")
    alice, _ = services.user_ensure(username="alice", password=PASSWORD)
    services.membership_ensure(team=web, user=alice, role=Membership.Role.LEAD)
    shop = on_cloud(
        make_environment(web, alice, "shop", tier=3), cloud.create(3, name="ladder-web-shop")
    )
    blog = on_cloud(
        make_environment(web, alice, "blog", tier=1), cloud.create(1, name="ladder-web-blog")
    )
    cellar = on_cloud(
        make_environment(web, alice, "cellar", tier=2), cloud.create(2, name="ladder-web-cellar")
    )
    published = simulator.simulate(environments=[shop, blog, cellar])
    assert published["backfilled"] == 3 and published["datums"] > 10_000
    rec = Recommendation.objects.create(
        environment=shop, kind="move_up", title="Move up to tier 4: Auto scaling",
        summary="Two fixed web servers are busy for much of the day; an Auto Scaling group "
        "adds servers when CPU passes 70% and removes them at night.",
        evidence=[{
            "metric": "web_cpu", "window": "24h", "stat": "Average", "value": 81.4,
            "threshold": 75.0, "unit": "Percent",
            "text": "Web CPU above 75% in 38% of the last day's 5-minute periods",
        }],
        window="24h", from_tier=3, target_tier=4, simulated=True,
    )  # fmt: skip

    sign_in(page, "alice")
    page.goto(f"/environments/{shop.pk}/")
    page.wait_for_selector("text=simulated metrics")
    page.wait_for_function(DRAWN, timeout=15_000)
    body = page.inner_text("#metrics")
    assert "metrics unavailable" not in body
    for group in ("Web servers", "Load balancer", "Database"):
        assert group.lower() in body.lower(), group
    assert page.locator("canvas[data-chart-key]").count() >= 8
    assert page.locator("#recommendations").inner_text().count("Move up to tier 4") == 1
    assert "38% of the last day" in page.inner_text("#recommendations")
    page.locator("#metrics").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "dashboard.png"), full_page=True)

    # The window switch loads another fragment and draws it.
    page.click(".window-switch >> text=7d")
    page.wait_for_selector('.window-switch .window.active:text("7d")')
    page.wait_for_function(DRAWN, timeout=15_000)

    # The portfolio: every environment with its CPU line and the open recommendation.
    page.click("nav.mainnav >> text=Dashboard")
    page.wait_for_url("**/dashboard/")
    rows = page.locator("table.portfolio tbody tr")
    assert rows.count() == 3
    assert page.locator("table.portfolio svg.sparkline").count() == 3
    assert page.locator("table.portfolio .count-badge").inner_text() == "1"
    page.screenshot(path=str(screenshot_dir / "portfolio.png"), full_page=True)

    # Acting on the recommendation opens the change it proposes.
    page.click(f"a[href='/environments/{shop.pk}/#recommendations']")
    page.click("#recommendations >> text=Request this change")
    page.wait_for_url("**/changes/*/")
    change = ChangeRequest.objects.get(environment=shop)
    assert (change.from_tier, change.to_tier) == (3, 4)
    assert Recommendation.objects.get(pk=rec.pk).status == "accepted"
