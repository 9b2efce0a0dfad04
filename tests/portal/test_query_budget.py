"""Issue 8: every budgeted page and API list costs the same few queries for 3 environments
or 30, for a platform admin and for a team lead. Keeps N+1s from growing back."""

from __future__ import annotations

import pytest
from django.test import Client

from bench.pages import QUERY_BUDGET, count_queries, member_may_see, page_urls
from provisioning import services
from provisioning.models import AuditEvent, StackEvent
from tests.factories import make_change, make_environment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_cloudwatch(settings, monkeypatch):
    """The cache in memory and CloudWatch unreachable: queries are what is counted here."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    from provisioning import metrics
    from provisioning.aws.gateway import GatewayError

    cache.clear()

    def unreachable(**kwargs):
        raise GatewayError("no CloudWatch in these tests", code="Unreachable")

    monkeypatch.setattr(metrics, "cloudwatch_client", unreachable)


def grow(people, to: int) -> tuple[int, int]:
    """Environments up to ``to`` across two teams, each with changes, events and audit rows;
    the ids of the web team's (alice's) latest environment and its latest change."""
    web, data = people["web"], people["data"]
    have = web.environments.count() + data.environments.count()
    ids = None
    for n in range(have, to):
        team, owner = (web, people["alice"]) if n % 2 == 0 else (data, people["bob"])
        env = make_environment(team, owner, f"env-{n:03}", tier=1 + n % 3)
        make_change(env, owner, to_tier=4, status="applied")
        change = make_change(env, owner, to_tier=5, status="awaiting_approval")
        if team == web:
            ids = env.pk, change.pk
        StackEvent.objects.bulk_create(
            StackEvent(
                change=change, event_id=f"ev-{n}-{i}", sequence=i, logical_id="Web",
                resource_type="AWS::EC2::Instance", status="CREATE_IN_PROGRESS",
                timestamp=env.created_at,
            )
            for i in range(3)
        )  # fmt: skip
        services.membership_ensure(team=team, user=people["erin"])
        AuditEvent.objects.create(
            actor=owner, team=team, action="change.request", object_type="change",
            object_id=str(change.pk),
        )  # fmt: skip
    assert ids is not None
    return ids


def counts(people, size: int) -> dict[tuple[str, str], int]:
    env_id, change_id = grow(people, size)
    result = {}
    for role, username in (("platform admin", "root"), ("team lead", "alice")):
        client = Client()
        client.force_login(people[username])
        for name, url in page_urls(environment_id=env_id, change_id=change_id).items():
            if role == "team lead" and not member_may_see(name):
                continue
            client.get(url)  # warm what is per process, not per request
            result[role, name], _ = count_queries(client, url)
    return result


def test_pages_and_api_lists_cost_the_same_queries_at_3_and_30(people):
    small = counts(people, 3)
    large = counts(people, 30)
    assert large == small, {k: (small[k], large[k]) for k in small if small[k] != large[k]}
    over = {k: v for k, v in large.items() if v > QUERY_BUDGET}
    assert not over, over


def test_each_page_stays_within_the_budget(people, django_assert_max_num_queries):
    env_id, change_id = grow(people, 30)
    client = Client()
    client.force_login(people["root"])
    for url in page_urls(environment_id=env_id, change_id=change_id).values():
        client.get(url)
        with django_assert_max_num_queries(QUERY_BUDGET):
            assert client.get(url).status_code == 200, url
