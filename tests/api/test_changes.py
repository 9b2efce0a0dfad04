"""/api/v1/changes/: list, filters, the plan, approve, reject, cancel, and who may."""

from __future__ import annotations

import pytest

from provisioning.models import Approval, AuditEvent, ChangeRequest

pytestmark = pytest.mark.django_db
URL = "/api/v1/changes/"


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(c["id"] for c in response.json()["results"])


def test_list_and_filters(api, world):
    alice, shop, lake = api("alice"), world["shop_change"].pk, world["lake_change"].pk
    assert ids(alice.get(URL)) == [shop]
    assert ids(alice.get(URL, {"status": "awaiting_approval"})) == [shop]
    assert ids(alice.get(URL, {"status": "active"})) == [shop]
    assert ids(alice.get(URL, {"status": "applied"})) == []
    assert ids(alice.get(URL, {"kind": "upgrade", "team": "web"})) == [shop]
    assert ids(alice.get(URL, {"environment": world["shop"].pk})) == [shop]
    assert ids(alice.get(URL, {"environment": world["lake"].pk})) == []
    assert ids(api("root").get(URL)) == sorted([shop, lake])
    # carol decides for every team: she sees what waits for her, not bob's finished change
    assert ids(api("carol").get(URL)) == [shop]
    assert alice.get(URL, {"kind": "explode"}).status_code == 400
    row = alice.get(URL).json()["results"][0]
    assert row["environment_name"] == "shop" and row["team"] == "web"
    assert row["requester"] == "alice" and row["needs_approval"] is True


def test_detail_has_plan_policy_and_approvals(api, world):
    body = api("alice").get(f"{URL}{world['shop_change'].pk}/").json()
    for field in ("id", "environment", "kind", "status", "from_tier", "to_tier", "plan",
                  "cost_delta", "policy", "approvals", "explanation"):  # fmt: skip
        assert field in body, field
    resources = body["plan"]["resources"]
    assert resources and {r["action"] for r in resources} <= {"add", "modify", "remove"}
    assert set(resources[0]) >= {"logical_id", "type", "action", "replacement", "data_at_risk"}
    assert any(r["logical_id"] == "LoadBalancer" and r["action"] == "add" for r in resources)
    assert body["plan"]["notes"] and "text" in body["plan"]["notes"][0]
    assert body["policy"]["needs_approval"] is True and body["policy"]["reasons"]
    assert body["approvals"] == []


def test_carol_approves(api, world):
    response = api("carol").post(
        f"{URL}{world['shop_change'].pk}/approve/", {"note": "go"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved"
    assert body["approvals"] == [
        {"approver": "carol", "decision": "approve", "note": "go",
         "created_at": body["approvals"][0]["created_at"]}
    ]  # fmt: skip
    assert AuditEvent.objects.filter(action__contains="approved").exists()


def test_approving_twice_or_too_late_is_a_409(api, world):
    url = f"{URL}{world['shop_change'].pk}/approve/"
    assert api("carol").post(url, {}, format="json").status_code == 200
    again = api("root").post(url, {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "conflict"


def test_the_requester_cannot_approve_their_own_change(api, world):
    world["carol"].memberships.create(team=world["web"])
    change = ChangeRequest.objects.get(pk=world["shop_change"].pk)
    change.requester = world["carol"]
    change.save(update_fields=["requester"])
    response = api("carol").post(f"{URL}{change.pk}/approve/", {}, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "you requested this change; another approver must approve it",
        "code": "forbidden",
    }
    assert not Approval.objects.exists()


def test_a_member_may_not_approve_at_all(api, world):
    for verb in ("approve", "reject"):
        response = api("dave").post(f"{URL}{world['shop_change'].pk}/{verb}/", {}, format="json")
        assert response.status_code == 403, verb
        assert response.json()["code"] == "forbidden"
        assert "only approvers" in response.json()["detail"]


def test_carol_rejects(api, world):
    response = api("carol").post(
        f"{URL}{world['shop_change'].pk}/reject/", {"note": "too big"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "rejected"
    assert "too big" in response.json()["explanation"]


def test_cancel_by_the_requester_and_not_by_a_plain_member(api, world):
    url = f"{URL}{world['shop_change'].pk}/cancel/"
    refused = api("dave").post(url, {}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    response = api("alice").post(url, {"note": "later"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    too_late = api("alice").post(url, {}, format="json")
    assert too_late.status_code == 409


def test_a_note_that_is_not_text_is_a_400(api, world):
    response = api("carol").post(
        f"{URL}{world['shop_change'].pk}/approve/", {"note": {"a": 1}}, format="json"
    )
    assert response.status_code == 400 and "note" in response.json()["fields"]
