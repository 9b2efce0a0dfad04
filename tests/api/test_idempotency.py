"""Idempotency-Key: the same key and body replay the first answer and create nothing; the
same key with another body is a 422; errors are not kept."""

from __future__ import annotations

import pytest

from provisioning.models import ChangeRequest, Environment, IdempotencyRecord

pytestmark = pytest.mark.django_db
URL = "/api/v1/environments/"


def test_a_repeat_replays_the_first_answer_and_creates_nothing(api, people):
    alice = api("alice")
    body = {"team": "web", "name": "once", "tier": 1}
    first = alice.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 202, first.content
    # the same JSON, spaced and ordered differently, is the same body
    again = alice.post(
        URL, data='{"tier": 1,  "name": "once", "team": "web"}',
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1",
    )  # fmt: skip
    assert again.status_code == 202
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Environment.objects.filter(name="once").count() == 1
    assert ChangeRequest.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422(api, people):
    alice = api("alice")
    assert alice.post(URL, {"team": "web", "name": "one", "tier": 1}, format="json",
                      HTTP_IDEMPOTENCY_KEY="k-2").status_code == 202  # fmt: skip
    other = alice.post(URL, {"team": "web", "name": "two", "tier": 1}, format="json",
                       HTTP_IDEMPOTENCY_KEY="k-2")  # fmt: skip
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert not Environment.objects.filter(name="two").exists()


def test_keys_belong_to_their_user(api, people):
    body = {"team": "web", "name": "mine", "tier": 1}
    assert api("alice").post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 202
    dave = api("dave").post(URL, {**body, "name": "his"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert dave.status_code == 202


def test_an_error_is_not_kept_so_the_key_can_be_retried(api, world):
    alice = api("alice")
    url = f"{URL}{world['blog'].pk}/changes/"
    refused = alice.post(url, {"tier": 3}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert refused.status_code == 400  # data at risk: needs the name
    assert not IdempotencyRecord.objects.exists()
    body = {"tier": 3, "confirm": "blog"}
    first = alice.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    second = alice.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    third = alice.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-5")
    assert third.status_code == 409  # a new key is a new request: the change is active


def test_decisions_are_idempotent_too(api, world):
    carol = api("carol")
    url = f"/api/v1/changes/{world['shop_change'].pk}/approve/"
    first = carol.post(url, {"note": "ok"}, format="json", HTTP_IDEMPOTENCY_KEY="d-1")
    second = carol.post(url, {"note": "ok"}, format="json", HTTP_IDEMPOTENCY_KEY="d-1")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert world["shop_change"].approvals.count() == 1


def test_a_key_that_is_too_long_is_a_400(api, people):
    response = api("alice").post(
        URL, {"team": "web", "name": "x", "tier": 1}, format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 256,
    )  # fmt: skip
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["fields"]


def test_old_keys_expire(api, people):
    from datetime import timedelta

    from django.utils import timezone

    alice = api("alice")
    alice.post(URL, {"team": "web", "name": "old", "tier": 1}, format="json",
               HTTP_IDEMPOTENCY_KEY="k-old")  # fmt: skip
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))
    reused = alice.post(URL, {"team": "web", "name": "new", "tier": 1}, format="json",
                        HTTP_IDEMPOTENCY_KEY="k-old")  # fmt: skip
    assert reused.status_code == 202
    assert IdempotencyRecord.objects.count() == 1
