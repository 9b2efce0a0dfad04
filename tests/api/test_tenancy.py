"""Tenant isolation, generated from the API's URL conf: bob's token against every URL that
takes one of alice's team's ids answers 404, whatever the method, and changes nothing; no
list shows a foreign row or counts one."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from provisioning.models import ApiToken, AuditEvent, ChangeRequest, Environment

pytestmark = pytest.mark.django_db

# A body each write would accept from a member, so a 404 cannot come from bad input.
PLAUSIBLE = {"tier": 3, "confirm": "shop", "note": "x", "reason": "x", "parameters": {}}


def api_patterns(resolver: URLResolver | None = None, prefix: str = ""):
    """(name, parameter names, allowed methods) of every named /api/ route."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from api_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and (entry.name or "").startswith("api-"):
            if not (prefix + str(entry.pattern)).startswith("api/"):
                continue
            actions = getattr(entry.callback, "actions", None) or {"get": "get"}
            yield entry.name, sorted(entry.pattern.regex.groupindex), sorted(actions)


def object_routes():
    routes = [(n, p, m) for n, p, m in api_patterns() if p and n != "api-not-found"]
    assert {n for n, _, _ in routes} >= {
        "api-environment-detail", "api-environment-changes", "api-environment-decommission",
        "api-environment-events", "api-change-detail", "api-change-approve",
        "api-change-reject", "api-change-cancel", "api-team-detail",
        "api-environment-metrics", "api-environment-recommendations", "api-recommendation-open",
    }  # fmt: skip
    return routes


def alices(world, name: str, parameter: str):
    if name.startswith("api-environment"):
        return world["shop"].pk
    if name.startswith("api-change"):
        return world["shop_change"].pk
    if name.startswith("api-team"):
        return world["web"].slug
    if name.startswith("api-recommendation"):
        return world["blog_rec"].pk
    raise AssertionError(f"the matrix does not know which object {name} takes ({parameter})")


def changes_audited() -> int:
    """Audit rows other than the ``access.denied`` each refusal adds (docs/security.md)."""
    return AuditEvent.objects.exclude(action="access.denied").count()


@pytest.mark.parametrize(("name", "parameters", "methods"), list(object_routes()))
def test_bob_gets_404_for_everything_of_alices_team(api, world, name, parameters, methods):
    bob, alice = api("bob"), api("alice")
    url = reverse(name, kwargs={p: alices(world, name, p) for p in parameters})
    before = (
        Environment.objects.count(), ChangeRequest.objects.count(), changes_audited(),
        list(ChangeRequest.objects.values_list("pk", "status")),
    )  # fmt: skip
    for method in methods:
        response = getattr(bob, method)(url, PLAUSIBLE, format="json")
        assert response.status_code == 404, (method, url, response.content)
        assert response.json()["code"] == "not_found"
    # the same URLs answer alice (for reads), so the 404 is about bob, not the URL
    if "get" in methods:
        assert alice.get(url).status_code == 200, url
    after = (
        Environment.objects.count(), ChangeRequest.objects.count(), changes_audited(),
        list(ChangeRequest.objects.values_list("pk", "status")),
    )  # fmt: skip
    assert after == before


def list_routes():
    return [(n, m) for n, p, m in api_patterns() if not p and n.endswith("-list")]


@pytest.mark.parametrize(("name", "methods"), list_routes())
def test_no_list_shows_or_counts_a_foreign_row(api, world, name, methods):
    bob = api("bob")
    for query in ({}, {"team": "web"}, {"status": "all"}, {"search": "shop"}):
        response = bob.get(reverse(name), {**query, "page_size": 100})
        if response.status_code == 400:  # a filter this list does not take
            continue
        assert response.status_code == 200, response.content
        body = response.json()
        rows = body["results"]
        assert body["count"] == len(rows)
        text = response.content.decode()
        for foreign in ("shop", "blog", '"web"', "alice"):
            assert foreign not in text, (name, query, foreign)


def test_the_matrix_covers_every_list(world):
    assert {n for n, _ in list_routes()} >= {
        "api-environment-list",
        "api-change-list",
        "api-team-list",
    }


def test_bob_sees_his_own(api, world):
    bob = api("bob")
    assert [e["name"] for e in bob.get("/api/v1/environments/").json()["results"]] == ["lake"]
    assert [t["slug"] for t in bob.get("/api/v1/teams/").json()["results"]] == ["data"]
    assert bob.get(f"/api/v1/environments/{world['lake'].pk}/").status_code == 200


def test_tokens_are_personal(api, world):
    api("alice")
    assert ApiToken.objects.filter(user=world["bob"]).count() == 0
