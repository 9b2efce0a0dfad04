"""Issue 7, item 14: hostile input through the API and the web form — unicode, very long
strings, SQL and template injection, deep and huge JSON. Never a 5xx, nothing stored."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from provisioning.models import AuditEvent, ChangeRequest, Environment

HOSTILE = [
    "ünïcødé-名前",
    "x" * 10_000,
    "'; DROP TABLE provisioning_environment; --",
    "{{ 7*7 }}{% debug %}",
    "<script>alert(1)</script>",
    "shop\x00null",
    "../../etc/passwd",
    "🚀",
    "",
    " ",
]


def rows() -> tuple[int, int]:
    return Environment.objects.count(), ChangeRequest.objects.count()


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_names_and_parameters_are_refused_through_the_api(api, people, value):
    client = api("alice")
    before = rows()
    for body in (
        {"team": "web", "name": value, "tier": 1, "region": "us-east-1", "parameters": {}},
        {"team": value, "name": "shop", "tier": 1, "region": "us-east-1", "parameters": {}},
        {"team": "web", "name": "shop", "tier": value, "region": "us-east-1"},
        {"team": "web", "name": "shop", "tier": 1, "region": value},
        {"team": "web", "name": "shop", "tier": 1, "region": "us-east-1",
         "parameters": {"instance_type": value}},
        {"team": "web", "name": "shop", "tier": 1, "region": "us-east-1",
         "parameters": {value or "empty": "t3.micro"}},
    ):  # fmt: skip
        response = client.post("/api/v1/environments/", body, format="json")
        assert response.status_code in {400, 404}, (
            body,
            response.status_code,
            response.content[:300],
        )
        assert set(response.json()) >= {"detail", "code"}
    assert rows() == before


def test_deep_and_huge_json_bodies_are_refused_without_a_5xx(api, people):
    client = api("alice")
    before = rows()
    deep = '{"a":' * 5_000 + '"leaf"' + "}" * 5_000  # deeper than Python's recursion limit
    huge = {"team": "web", "name": "shop", "tier": 1, "region": "us-east-1",
            "parameters": {f"p{i}": "v" * 100 for i in range(40_000)}}  # fmt: skip
    for raw in (
        '{"team": "web", "name": "shop", "tier": 1, "parameters": ' + deep + "}",
        json.dumps(huge),  # about 4.5 MB, over Django's 2.5 MB request limit
        "{not json",
        "[]",
        "null",
        '"just a string"',
    ):
        response = client.generic(
            "POST", "/api/v1/environments/", raw, content_type="application/json"
        )
        assert 400 <= response.status_code < 500, (raw[:60], response.status_code)
    assert rows() == before


@pytest.mark.parametrize("value", HOSTILE[:6])
def test_hostile_input_through_the_web_form_is_refused_with_field_errors(people, value):
    client = Client()
    client.force_login(people["alice"])
    before = rows()
    response = client.post(
        reverse("environment-request"),
        {"team": "web", "name": value, "tier": "1", "region": "us-east-1",
         "instance_type": value, "reason": value},
    )  # fmt: skip
    assert response.status_code == 400
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page  # escaped, never echoed raw
    if "{{" in value:
        assert "{{ 7*7 }}" in page  # shown as typed, never evaluated
    assert rows() == before


def test_hostile_notes_on_decisions_are_stored_as_text(api, world):
    note = "{{ settings.SECRET_KEY }} <img src=x onerror=alert(1)> '; --"
    change = world["shop_change"]
    response = api("carol").post(
        f"/api/v1/changes/{change.pk}/reject/", {"note": note}, format="json"
    )
    assert response.status_code == 200
    assert note in response.json()["explanation"]
    assert AuditEvent.objects.filter(action="change.rejected").exists()
