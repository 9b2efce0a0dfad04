"""The web pages through Django's test client: who sees what, tenancy, lists, navigation."""

from __future__ import annotations

from django.urls import reverse

from provisioning.models import ChangeRequest
from tests.factories import make_change, make_environment

S = ChangeRequest.Status


def test_every_page_renders_for_a_team_member(client, world):
    client.force_login(world["alice"])
    shop, change = world["shop"], world["shop_change"]
    pages = {
        reverse("home"): "shop",
        reverse("ladder"): "Web scale",
        reverse("environment-list"): "shop",
        reverse("environment-request") + "?tier=3": "High availability",
        reverse("environment-detail", args=[shop.pk]): "http://shop.example.test",
        reverse("environment-change", args=[shop.pk]) + "?tier=3": "Move or resize shop",
        reverse("environment-decommission", args=[shop.pk]): "Decommission shop",
        reverse("environment-events", args=[shop.pk]): "LoadBalancer",
        reverse("environment-estimate") + "?tier=3&region=us-east-1": "/month",
        reverse("change-detail", args=[change.pk]): "LoadBalancer",
        reverse("audit-log"): "Audit log",
        reverse("team-list"): "web",
    }
    for url, expected in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert expected in response.content.decode(), url


def test_ladder_shows_five_tiers_with_costs_and_request_links(client, people):
    client.force_login(people["dave"])
    html = client.get(reverse("ladder")).content.decode()
    for tier in range(1, 6):
        assert f'href="/environments/new/?tier={tier}"' in html
    assert html.count('class="rung rung-') == 5
    assert "Resilience" in html and "Built for" in html and "$" in html


def test_environment_detail_shows_rung_outputs_history_and_live_events(client, world):
    client.force_login(world["alice"])
    shop, change = world["shop"], world["shop_change"]
    html = client.get(reverse("environment-detail", args=[shop.pk])).content.decode()
    assert '<a href="http://shop.example.test"' in html
    assert 'class="current' in html  # the ladder bar marks tier 2
    assert f'href="/changes/{change.pk}/"' in html
    assert 'hx-trigger="every 2s"' in html  # the change is active: events are polled
    assert "Awaiting approval" in html
    assert "Database instance class" in html  # parameters


def test_events_fragment_stops_polling_and_refreshes_when_the_change_moves_on(client, world):
    client.force_login(world["alice"])
    shop, change = world["shop"], world["shop_change"]
    url = reverse("environment-events", args=[shop.pk])
    live = client.get(url, {"change": change.pk, "status": "awaiting_approval"})
    assert "HX-Refresh" not in live.headers
    assert 'hx-trigger="every 2s"' in live.content.decode()
    ChangeRequest.objects.filter(pk=change.pk).update(status=S.CANCELLED)
    done = client.get(url, {"change": change.pk, "status": "awaiting_approval"})
    assert done.headers["HX-Refresh"] == "true"
    assert "every 2s" not in done.content.decode()


def test_another_teams_environment_and_change_answer_404_everywhere(client, world):
    client.force_login(world["alice"])
    lake, change = world["lake"], world["lake_change"]
    gets = [
        reverse("environment-detail", args=[lake.pk]),
        reverse("environment-change", args=[lake.pk]),
        reverse("environment-decommission", args=[lake.pk]),
        reverse("environment-events", args=[lake.pk]),
        reverse("environment-estimate") + f"?tier=3&environment={lake.pk}",
        reverse("change-detail", args=[change.pk]),
        reverse("environment-detail", args=[999999]),
        reverse("change-detail", args=[999999]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        (reverse("environment-change", args=[lake.pk]), {"tier": "3"}),
        (reverse("environment-decommission", args=[lake.pk]), {"confirm": "lake"}),
        (reverse("change-approve", args=[change.pk]), {}),
        (reverse("change-reject", args=[change.pk]), {}),
        (reverse("change-cancel", args=[change.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    # The events fragment does not leak another team's change through a known environment.
    own = reverse("environment-events", args=[world["shop"].pk])
    assert client.get(own, {"change": change.pk}).status_code == 404
    assert ChangeRequest.objects.get(pk=change.pk).status == S.AWAITING_APPROVAL
    listing = client.get(reverse("environment-list")).content.decode()
    assert "lake" not in listing


def test_platform_admin_sees_every_team(client, world):
    client.force_login(world["root"])
    assert client.get(reverse("environment-detail", args=[world["lake"].pk])).status_code == 200
    listing = client.get(reverse("environment-list")).content.decode()
    assert "shop" in listing and "lake" in listing


def test_environment_list_filters_and_pages_in_constant_queries(
    client, people, django_assert_max_num_queries
):
    for n in range(30):
        env = make_environment(people["web"], people["alice"], f"env-{n:02}", tier=1 + n % 3)
        if n % 5 == 0:
            make_change(env, people["alice"], to_tier=4)
    make_environment(people["data"], people["bob"], "lake")
    client.force_login(people["alice"])
    url = reverse("environment-list")
    with django_assert_max_num_queries(12):
        first = client.get(url).content.decode()
    assert first.count('href="/environments/') - first.count("/environments/new/") >= 25
    assert "env-00" in first and "env-29" not in first and "lake" not in first
    assert "Page 1 of 2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "env-29" in second
    tier_two = client.get(url, {"tier": "2"}).content.decode()
    assert "env-01" in tier_two and "env-00" not in tier_two
    none = client.get(url, {"status": "failed"}).content.decode()
    assert "No environments match" in none


def test_audit_log_for_platform_admins_and_team_leads_only(client, world):
    client.force_login(world["carol"])
    client.post(reverse("change-approve", args=[world["shop_change"].pk]))
    client.post(reverse("change-approve", args=[world["lake_change"].pk]))
    client.force_login(world["root"])
    everything = client.get(reverse("audit-log")).content.decode()
    assert everything.count("change.approved") == 2
    client.force_login(world["alice"])
    mine = client.get(reverse("audit-log")).content.decode()
    assert mine.count("change.approved") == 1
    assert f"change #{world['shop_change'].pk}" in mine
    assert f"change #{world['lake_change'].pk}" not in mine
    client.force_login(world["dave"])
    assert client.get(reverse("audit-log")).status_code == 403


def test_navigation_follows_roles(client, world):
    expectations = {
        "alice": {"/audit/": True, "/approvals/": False},
        "dave": {"/audit/": False, "/approvals/": False},
        "carol": {"/audit/": False, "/approvals/": True},
        "root": {"/audit/": True, "/approvals/": True},
    }
    for name, links in expectations.items():
        client.force_login(world[name])
        html = client.get(reverse("home")).content.decode()
        assert 'href="/ladder/"' in html and 'href="/environments/"' in html
        for link, shown in links.items():
            assert (f'href="{link}"' in html) is shown, (name, link)
