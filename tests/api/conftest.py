"""People, teams and API clients for the API tests. Celery never runs here: services enqueue
on commit and the ``db`` fixture never commits."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from provisioning import services
from provisioning.models import ChangeRequest, Membership
from provisioning.roles import APPROVERS, PLATFORM_ADMINS
from tests.factories import make_change, make_environment

PASSWORD = "a-long-test-password-1"
S = ChangeRequest.Status


@pytest.fixture(autouse=True)
def api_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Throttle counters in this process's memory, fresh for each test; rates no test reaches
    # unless it means to.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "anon": "10000/minute",
            "user": "10000/minute",
            "write": "10000/minute",
        },
    }
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def no_cloudwatch(monkeypatch):
    """No CloudWatch answers in the API tests: a metrics call fails at once, and the
    endpoints say so (``available: false``) rather than fail."""
    from provisioning import metrics
    from provisioning.aws.gateway import GatewayError

    def unreachable(**kwargs):
        raise GatewayError("the local cloud is not running in these tests", code="Unreachable")

    monkeypatch.setattr(metrics, "cloudwatch_client", unreachable)


def make_recommendation(environment, *, target_tier=3, kind="high_availability"):
    from provisioning.models import Recommendation

    return Recommendation.objects.create(
        environment=environment, kind=kind, title="Run more than one web server",
        summary="The single web server failed its status checks 5 times in a day.",
        evidence=[{
            "metric": "web_status_failed", "window": "24h", "stat": "Maximum", "value": 5.0,
            "threshold": 3.0, "unit": "Count", "text": "status checks failed in 5 periods",
        }],
        window="24h", from_tier=environment.tier, target_tier=target_tier,
    )  # fmt: skip


@pytest.fixture
def people(db):
    """Team web: alice (lead), dave. Team data: bob (lead). carol approves, root administers."""
    web = services.team_ensure(slug="web", name="Web storefront")
    data = services.team_ensure(slug="data", name="Data platform")
    users = {}
    for name, groups in (
        ("alice", ()),
        ("dave", ()),
        ("bob", ()),
        ("carol", (APPROVERS,)),
        ("root", (PLATFORM_ADMINS,)),
    ):
        users[name], _ = services.user_ensure(username=name, password=PASSWORD, groups=groups)
    services.membership_ensure(team=web, user=users["alice"], role=Membership.Role.LEAD)
    services.membership_ensure(team=web, user=users["dave"])
    services.membership_ensure(team=data, user=users["bob"], role=Membership.Role.LEAD)
    return {**users, "web": web, "data": data}


@pytest.fixture
def api(people):
    """``api("alice")``: an APIClient carrying a fresh token of that person."""

    def client_for(username: str) -> APIClient:
        _, key = services.token_create(user=people[username], name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return client_for


@pytest.fixture
def world(people):
    """alice's team web has shop (tier 2, with a change awaiting approval) and blog (tier 1);
    bob's team data has lake (tier 2) with a stack event."""
    from django.utils import timezone

    from provisioning.models import StackEvent

    shop = make_environment(people["web"], people["alice"], "shop", tier=2)
    blog = make_environment(people["web"], people["alice"], "blog", tier=1)
    lake = make_environment(people["data"], people["bob"], "lake", tier=2)
    shop_change = make_change(shop, people["alice"], to_tier=3)
    lake_change = make_change(lake, people["bob"], to_tier=3, status=S.APPLIED)
    for sequence, (lid, status) in enumerate(
        [("Database", "CREATE_IN_PROGRESS"), ("Database", "CREATE_COMPLETE")], start=1
    ):
        for change in (shop_change, lake_change):
            StackEvent.objects.create(
                change=change, event_id=f"{change.pk}-{sequence}", sequence=sequence,
                logical_id=lid, resource_type="AWS::RDS::DBInstance", status=status,
                timestamp=timezone.now(),
            )  # fmt: skip
    return {
        **people, "shop": shop, "blog": blog, "lake": lake,
        "shop_change": shop_change, "lake_change": lake_change,
        "blog_rec": make_recommendation(blog), "lake_rec": make_recommendation(lake),
    }  # fmt: skip
