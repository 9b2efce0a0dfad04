"""No list costs more queries for a longer page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from provisioning import services
from provisioning.models import Membership
from tests.factories import make_change, make_environment

pytestmark = pytest.mark.django_db
MAX_QUERIES = 8  # token, throttles need none (cache), count, page, prefetches


@pytest.fixture
def many(people):
    for n in range(30):
        team = people["web"] if n % 2 else people["data"]
        env = make_environment(team, people["alice"], f"env-{n}", tier=2)
        make_change(
            env, people["alice"], to_tier=3, status="awaiting_approval" if n % 3 else "applied"
        )
    for n in range(12):
        team = services.team_ensure(slug=f"team-{n}", name=f"Team {n}")
        services.membership_ensure(team=team, user=people["root"], role=Membership.Role.MEMBER)
    return people


def count_queries(client, url: str, size: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": size})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == size
    return len(queries)


@pytest.mark.parametrize("url", ["/api/v1/environments/", "/api/v1/changes/", "/api/v1/teams/"])
def test_query_count_does_not_grow_with_the_page(api, many, url, django_assert_max_num_queries):
    root = api("root")
    root.get(url)  # first request of the client: warm caches that are not per request
    small, large = count_queries(root, url, 2), count_queries(root, url, 12)
    assert small == large, (small, large)
    for size in (2, 12):
        with django_assert_max_num_queries(MAX_QUERIES):
            root.get(url, {"page_size": size})


def test_a_change_detail_is_a_few_queries(api, many, django_assert_max_num_queries):
    root = api("root")
    change = root.get("/api/v1/changes/").json()["results"][0]["id"]
    with django_assert_max_num_queries(MAX_QUERIES):
        assert root.get(f"/api/v1/changes/{change}/").status_code == 200
