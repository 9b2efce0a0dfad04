"""Approving, rejecting and cancelling from the pages and the admin; who may and who may not."""

from __future__ import annotations

from django.urls import reverse

from provisioning.models import Approval, AuditEvent, ChangeRequest
from tests.factories import make_change, make_environment

S = ChangeRequest.Status


def test_approvals_page_is_for_approvers_only(client, world):
    for name in ("alice", "dave", "bob"):
        client.force_login(world[name])
        assert client.get(reverse("approvals")).status_code == 403, name
    for name in ("carol", "root"):
        client.force_login(world[name])
        html = client.get(reverse("approvals")).content.decode()
        assert f"/changes/{world['shop_change'].pk}/" in html, name
        assert f"/changes/{world['lake_change'].pk}/" in html, name


def test_the_requester_sees_no_approve_button_and_cannot_approve(client, world):
    erin = world["erin"]  # an approver, and a member of team web
    change = make_change(make_environment(world["web"], erin, "erins", tier=1), erin, to_tier=3)
    client.force_login(erin)
    page = client.get(reverse("change-detail", args=[change.pk])).content.decode()
    assert "change-approve" not in page and f"/changes/{change.pk}/approve/" not in page
    assert "someone else must approve it" in page
    assert client.post(reverse("change-approve", args=[change.pk])).status_code == 403
    assert not Approval.objects.filter(change=change).exists()
    # A member who is not an approver cannot either.
    client.force_login(world["dave"])
    assert client.post(reverse("change-approve", args=[change.pk])).status_code == 403
    assert ChangeRequest.objects.get(pk=change.pk).status == S.AWAITING_APPROVAL


def test_an_approver_approves_from_the_change_page(client, world):
    client.force_login(world["carol"])
    change = world["shop_change"]
    page = client.get(reverse("change-detail", args=[change.pk])).content.decode()
    assert f"/changes/{change.pk}/approve/" in page and f"/changes/{change.pk}/reject/" in page
    response = client.post(reverse("change-approve", args=[change.pk]), {"note": "looks fine"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == S.APPROVED
    approval = Approval.objects.get(change=change)
    assert approval.approver == world["carol"] and approval.note == "looks fine"
    assert AuditEvent.objects.filter(action="change.approved", object_id=str(change.pk)).exists()
    # Carol decided it, so she still sees it; a second decision is a conflict, not a crash.
    again = client.post(reverse("change-reject", args=[change.pk]), follow=True)
    assert again.status_code == 200
    assert ChangeRequest.objects.get(pk=change.pk).status == S.APPROVED


def test_an_approver_rejects_with_a_note(client, world):
    client.force_login(world["carol"])
    change = world["lake_change"]
    client.post(reverse("change-reject", args=[change.pk]), {"note": "too big for now"})
    change.refresh_from_db()
    assert change.status == S.REJECTED
    page = client.get(reverse("change-detail", args=[change.pk])).content.decode()
    assert "too big for now" in page


def test_cancel_by_the_requester_but_not_by_another_member(client, world):
    change = world["shop_change"]
    client.force_login(world["dave"])
    assert client.post(reverse("change-cancel", args=[change.pk])).status_code == 403
    client.force_login(world["alice"])
    assert client.post(reverse("change-cancel", args=[change.pk])).status_code == 302
    assert ChangeRequest.objects.get(pk=change.pk).status == S.CANCELLED


def test_admin_pages_for_every_model(admin_client, world):
    for model in (
        "team",
        "membership",
        "teampolicy",
        "environment",
        "changerequest",
        "stackevent",
        "auditevent",
        "networkstack",
    ):
        assert admin_client.get(f"/admin/provisioning/{model}/").status_code == 200, model
    change = world["shop_change"]
    assert (
        admin_client.get(f"/admin/provisioning/changerequest/{change.pk}/change/").status_code
        == 200
    )
    assert admin_client.get("/admin/provisioning/auditevent/add/").status_code == 403


def test_admin_actions_approve_and_reject_through_the_services(admin_client, world):
    shop_change, lake_change = world["shop_change"], world["lake_change"]
    response = admin_client.post(
        "/admin/provisioning/changerequest/",
        {"action": "approve_selected", "_selected_action": [shop_change.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert ChangeRequest.objects.get(pk=shop_change.pk).status == S.APPROVED
    # Rejecting an approved change is refused by the service, and the admin says so.
    response = admin_client.post(
        "/admin/provisioning/changerequest/",
        {"action": "reject_selected", "_selected_action": [shop_change.pk, lake_change.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert f"Change #{shop_change.pk}" in html and "1 change(s) rejected" in html
    assert ChangeRequest.objects.get(pk=lake_change.pk).status == S.REJECTED
