"""The pages and API lists whose query counts are budgeted, shared by the benchmark and by
tests/portal/test_query_budget.py so both measure the same thing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

QUERY_BUDGET = 12


def page_urls(*, environment_id: int, change_id: int) -> dict[str, str]:
    """Every budgeted page and API list, by name, for one environment and change."""
    return {
        "environment list": "/environments/",
        "environment detail": f"/environments/{environment_id}/",
        "change detail": f"/changes/{change_id}/",
        "portfolio dashboard": "/dashboard/",
        "approvals": "/approvals/",
        "audit log": "/audit/",
        "api environments": "/api/v1/environments/",
        "api changes": "/api/v1/changes/",
        "api teams": "/api/v1/teams/",
        "api environment events": f"/api/v1/environments/{environment_id}/events/",
    }


def is_api(name: str) -> bool:
    return name.startswith("api ")


def count_queries(client: Any, url: str) -> tuple[int, list[str]]:
    """Queries of one GET (the client's first request is assumed already made)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise AssertionError(f"GET {url} answered {response.status_code}")
    return len(captured), [q["sql"] for q in captured.captured_queries]


def member_may_see(name: str) -> bool:
    """A team lead who is not an approver is refused the approvals queue (403)."""
    return name != "approvals"


def measure(
    clients: dict[str, Any], *, environment_id: int, change_id: int
) -> Iterator[tuple[str, str, int, list[str]]]:
    """(role, page, queries, sql) for each role's client and each page it may see."""
    for role, client in clients.items():
        for name, url in page_urls(environment_id=environment_id, change_id=change_id).items():
            if role == "team member" and not member_may_see(name):
                continue
            client.get(url)  # warm what is per process, not per request
            count, sql = count_queries(client, url)
            yield role, name, count, sql
