"""Fixtures of the web page tests: two teams, their people, environments and changes."""

from __future__ import annotations

import pytest
from django.utils import timezone

from provisioning import services
from provisioning.models import Membership, StackEvent
from provisioning.roles import APPROVERS, PLATFORM_ADMINS
from tests.factories import make_change, make_environment

PASSWORD = "a-long-test-password-1"


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def people(db, fast_passwords):
    web = services.team_ensure(slug="web", name="Web storefront")
    data = services.team_ensure(slug="data", name="Data platform")
    users = {}
    for name, groups in (
        ("alice", ()),
        ("dave", ()),
        ("erin", (APPROVERS,)),
        ("bob", ()),
        ("carol", (APPROVERS,)),
        ("root", (PLATFORM_ADMINS,)),
    ):
        users[name], _ = services.user_ensure(username=name, password=PASSWORD, groups=groups)
    services.membership_ensure(team=web, user=users["alice"], role=Membership.Role.LEAD)
    services.membership_ensure(team=web, user=users["dave"])
    services.membership_ensure(team=web, user=users["erin"])
    services.membership_ensure(team=data, user=users["bob"], role=Membership.Role.LEAD)
    return {**users, "web": web, "data": data}


@pytest.fixture
def world(people):
    shop = make_environment(people["web"], people["alice"], "shop")
    lake = make_environment(people["data"], people["bob"], "lake")
    shop_change = make_change(shop, people["alice"], to_tier=3)
    lake_change = make_change(lake, people["bob"], to_tier=3)
    StackEvent.objects.create(
        change=shop_change,
        event_id="ev-1",
        sequence=1,
        logical_id="LoadBalancer",
        resource_type="AWS::ElasticLoadBalancingV2::LoadBalancer",
        status="CREATE_IN_PROGRESS",
        timestamp=timezone.now(),
    )
    return {
        **people,
        "shop": shop,
        "lake": lake,
        "shop_change": shop_change,
        "lake_change": lake_change,
    }
