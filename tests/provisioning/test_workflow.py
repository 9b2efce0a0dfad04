"""The workflow through the scripted gateway: what the local cloud cannot show."""

from __future__ import annotations

from decimal import Decimal

import pytest

from provisioning import reconcile, services, workflow
from provisioning.aws.gateway import GatewayError
from provisioning.errors import Conflict, Forbidden, InvalidRequest, PolicyRefused
from provisioning.models import AuditEvent, ChangeRequest, Environment, StackEvent, TeamPolicy
from provisioning.roles import APPROVERS
from provisioning.tasks import provisioning_plan
from tests import fakes

PASSWORD = "a-long-test-password-1"
S = ChangeRequest.Status
E = Environment.Status


@pytest.fixture
def fake_gateway(settings):
    settings.STACK_GATEWAY_FACTORY = "tests.fakes.factory"
    settings.STACK_NOTIFICATIONS = True
    fakes.CURRENT = fakes.ScriptedGateway()
    yield fakes.CURRENT
    fakes.CURRENT = None


@pytest.fixture
def people(db):
    web = services.team_ensure(slug="web", name="Web")
    other = services.team_ensure(slug="data", name="Data")
    alice, _ = services.user_ensure(username="alice", password=PASSWORD)
    carol, _ = services.user_ensure(username="carol", password=PASSWORD, groups=(APPROVERS,))
    services.membership_ensure(team=web, user=alice)
    return {"web": web, "data": other, "alice": alice, "carol": carol}


def request_env(people, *, tier=1, name="shop"):
    return services.environment_request(
        user=people["alice"], team=people["web"], name=name, tier=tier, region="us-east-1"
    )


def drive(change_id):
    """Plan, apply and look once, as the worker would when nothing asks it to wait."""
    workflow.plan_change(change_id)
    change = ChangeRequest.objects.get(pk=change_id)
    if change.status == S.APPROVED:
        workflow.apply_change(change_id)
        workflow.check_change(change_id)
    return ChangeRequest.objects.get(pk=change_id)


def ready_env(people, fake_gateway, *, tier=1):
    change = drive(request_env(people, tier=tier).pk)
    assert change.status == S.APPLIED, change.explanation
    return change.environment


def test_create_at_tier_1_is_auto_approved_and_applied(people, fake_gateway):
    change = drive(request_env(people).pk)
    assert change.status == S.APPLIED
    env = Environment.objects.get(pk=change.environment_id)
    assert env.status == E.READY and env.tier == 1 and env.stack_id
    assert env.outputs and env.monthly_cost > 0
    assert change.policy["auto_approved"] is True
    # the network stack first, then the change set and its execution: once each
    kinds = [m[0] for m in fake_gateway.mutations]
    assert kinds == ["create_stack", "create_change_set", "execute_change_set"]
    assert ("execute_change_set", f"ladder-change-{change.pk}") in fake_gateway.mutations


def test_a_stack_in_progress_for_several_sweeps_then_complete(people, fake_gateway):
    change = request_env(people)
    fake_gateway.script(
        "ladder-web-shop", "CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"
    )
    workflow.plan_change(change.pk)
    workflow.apply_change(change.pk)
    statuses = []
    for _ in range(4):
        reconcile.sweep(gateway_factory=fakes.factory)
        statuses.append(ChangeRequest.objects.get(pk=change.pk).status)
    assert statuses == [S.APPLYING, S.APPLYING, S.APPLIED, S.APPLIED]
    # one ListStacks per sweep while something is in flight, none after
    assert fake_gateway.calls["list_stacks"] == 3


def test_update_rolled_back_fails_the_change_and_keeps_the_environment(people, fake_gateway):
    env = ready_env(people, fake_gateway)
    move = services.change_request(user=people["alice"], environment=env, tier=2)
    fake_gateway.script(
        env.stack_name, "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE",
        failing=("Database", "DB subnet group doesn't meet availability zone coverage"),
    )  # fmt: skip
    workflow.plan_change(move.pk)
    workflow.apply_change(move.pk)
    workflow.check_change(move.pk)
    assert ChangeRequest.objects.get(pk=move.pk).status == S.APPLYING
    workflow.check_change(move.pk)
    move.refresh_from_db()
    env.refresh_from_db()
    assert move.status == S.FAILED
    assert move.explanation.startswith("Database (AWS::EC2::Instance) UPDATE_FAILED")
    assert "availability zone coverage" in move.explanation
    assert env.status == E.READY and env.tier == 1


def test_create_failed_and_rolled_back(people, fake_gateway):
    change = request_env(people)
    fake_gateway.script(
        "ladder-web-shop", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE",
        failing=("WebInstance", "The requested instance type is not supported in this AZ"),
    )  # fmt: skip
    workflow.plan_change(change.pk)
    workflow.apply_change(change.pk)
    workflow.check_change(change.pk)
    workflow.check_change(change.pk)
    change.refresh_from_db()
    env = change.environment
    env.refresh_from_db()
    assert change.status == S.FAILED and "not supported in this AZ" in change.explanation
    assert env.status == E.FAILED and env.tier is None
    # what is left can be decommissioned
    gone = services.environment_decommission(user=people["alice"], environment=env, confirm="shop")
    assert drive(gone.pk).status == S.APPLIED
    env.refresh_from_db()
    assert env.status == E.DECOMMISSIONED


def test_an_api_error_is_errored_with_an_explanation(people, fake_gateway):
    change = request_env(people)
    workflow.plan_change(change.pk)
    fake_gateway.fail(
        "execute_change_set", GatewayError("User is not authorized", code="AccessDenied")
    )
    step = workflow.apply_change(change.pk)
    change.refresh_from_db()
    assert step.outcome == "errored" and change.status == S.ERRORED
    assert "not authorized" in change.explanation
    assert Environment.objects.get(pk=change.environment_id).status == E.FAILED


def test_a_throttled_call_is_retried(people, fake_gateway, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from worker.celery import app

    app.conf.task_always_eager = True
    try:
        change = request_env(people)
        fake_gateway.throttle("create_change_set", times=2)
        provisioning_plan.apply(args=[change.pk])
    finally:
        app.conf.task_always_eager = False
    change.refresh_from_db()
    assert fake_gateway.calls["create_change_set"] == 3
    assert change.status in {S.APPROVED, S.APPLIED, S.APPLYING}


def test_a_duplicate_notification_is_ingested_once(people, fake_gateway):
    change = request_env(people)
    workflow.plan_change(change.pk)
    workflow.apply_change(change.pk)
    fake_gateway.describe_stack(stack_name="ladder-web-shop")  # the stack completes
    fake_gateway.notifications.extend(list(fake_gateway.notifications))  # every message twice
    reconcile.drain_notifications()
    reconcile.drain_notifications()
    change.refresh_from_db()
    assert change.status == S.APPLIED
    event_ids = list(StackEvent.objects.filter(change=change).values_list("event_id", flat=True))
    assert event_ids and len(event_ids) == len(set(event_ids))
    sequences = list(StackEvent.objects.filter(change=change).values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))
    assert AuditEvent.objects.filter(action="change.applied", object_id=str(change.pk)).count() == 1


def test_a_crash_after_execute_adopts_the_running_stack(people, fake_gateway):
    change = request_env(people)
    workflow.plan_change(change.pk)
    workflow.apply_change(change.pk)
    # as if the worker died after AWS accepted the call but before it was recorded
    ChangeRequest.objects.filter(pk=change.pk).update(apply_started_at=None)
    step = workflow.apply_change(change.pk)
    assert step.outcome == "adopted"
    workflow.check_change(change.pk)
    assert ChangeRequest.objects.get(pk=change.pk).status == S.APPLIED
    assert [m for m in fake_gateway.mutations if m[0] == "execute_change_set"] == [
        ("execute_change_set", f"ladder-change-{change.pk}")
    ]


def test_a_worker_that_dies_every_time_ends_errored(people, fake_gateway, settings):
    settings.PROVISIONING_MAX_ATTEMPTS = 3
    change = request_env(people)
    workflow.plan_change(change.pk)
    fake_gateway.fail("execute_change_set", RuntimeError("worker killed"))
    outcomes = []
    for _ in range(5):
        try:
            outcomes.append(workflow.apply_change(change.pk).outcome)
        except RuntimeError:
            outcomes.append("died")
            fake_gateway.fail("execute_change_set", RuntimeError("worker killed"))
    change.refresh_from_db()
    assert change.status == S.ERRORED and "gave up after 3 attempts" in change.explanation
    assert outcomes[:3] == ["died", "died", "died"] and outcomes[3] == "errored"


# --- the rules ----------------------------------------------------------------------------
def test_a_second_active_change_is_refused(people, fake_gateway):
    env = ready_env(people, fake_gateway)
    services.change_request(user=people["alice"], environment=env, tier=2)
    with pytest.raises(Conflict, match="already has an active change"):
        services.change_request(user=people["alice"], environment=env, tier=2)


def test_the_requester_cannot_approve_and_a_member_cannot_approve(people, fake_gateway):
    change = request_env(people, tier=3)
    workflow.plan_change(change.pk)
    change.refresh_from_db()
    assert change.status == S.AWAITING_APPROVAL
    assert "above the team's auto-approve limit" in change.policy["reasons"][0]
    with pytest.raises(Forbidden, match="only approvers"):
        services.change_approve(user=people["alice"], change=change)
    people["carol"].groups.clear()
    from django.contrib.auth.models import Group

    people["alice"].groups.add(Group.objects.get(name=APPROVERS))
    alice = type(people["alice"]).objects.get(pk=people["alice"].pk)
    with pytest.raises(Forbidden, match="you requested this change"):
        services.change_approve(user=alice, change=change)
    assert ChangeRequest.objects.get(pk=change.pk).status == S.AWAITING_APPROVAL


def test_data_at_risk_needs_the_typed_name_and_an_approval(people, fake_gateway):
    env = ready_env(people, fake_gateway, tier=2)
    with pytest.raises(InvalidRequest) as refused:
        services.change_request(user=people["alice"], environment=env, tier=1, confirm="nope")
    assert "confirm" in refused.value.fields and "Database" in refused.value.fields["confirm"]
    assert not ChangeRequest.objects.filter(environment=env, kind="downgrade").exists()
    change = services.change_request(user=people["alice"], environment=env, tier=1, confirm="shop")
    workflow.plan_change(change.pk)
    change.refresh_from_db()
    assert change.status == S.AWAITING_APPROVAL  # tier 1 is under the limit, the data is not
    assert any(
        r.startswith("destructive: data at risk in Database") for r in change.policy["reasons"]
    )


def test_over_budget_is_refused_with_the_numbers(people, fake_gateway):
    TeamPolicy.objects.update_or_create(
        team=people["web"], defaults={"monthly_budget_usd": Decimal("20")}
    )
    with pytest.raises(PolicyRefused) as refused:
        request_env(people, tier=2)
    assert "over its budget of $20.00/month" in str(refused.value)
    assert not Environment.objects.exists()


def test_every_state_change_leaves_one_audit_event(people, fake_gateway):
    change = drive(request_env(people).pk)
    actions = list(
        AuditEvent.objects.filter(object_type="changerequest", object_id=str(change.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "change.requested.create",
        "change.approved",
        "change.applying",
        "change.applied",
    ]


def test_a_failed_create_can_be_retried(people, fake_gateway):
    change = request_env(people)
    fake_gateway.script("ladder-web-shop", "ROLLBACK_COMPLETE", failing=("WebInstance", "capacity"))
    drive(change.pk)
    env = Environment.objects.get(pk=change.environment_id)
    assert env.status == E.FAILED
    retry = services.environment_retry(user=people["alice"], environment=env)
    assert retry.kind == "create" and retry.to_tier == 1
    assert workflow.plan_change(retry.pk).outcome == "clearing-failed-stack"
    fake_gateway.describe_stack(stack_name="ladder-web-shop")  # the delete completes
    assert drive(retry.pk).status == S.APPLIED
    env.refresh_from_db()
    assert env.status == E.READY and env.tier == 1
    assert ("delete_stack", f"ladder-clear-{retry.pk}") in fake_gateway.mutations
    with pytest.raises(Conflict, match="nothing to retry"):
        services.environment_retry(user=people["alice"], environment=env)


def test_the_dns_record_gets_the_zone_id_from_the_account(people, fake_gateway):
    fake_gateway.zones["example.com"] = "Z0123456789"
    change = services.environment_request(
        user=people["alice"], team=people["web"], name="shop", tier=1, region="us-east-1",
        parameters={"hosted_zone_name": "example.com", "record_name": "shop"},
    )  # fmt: skip
    assert drive(change.pk).status == S.APPLIED
    assert "DnsRecord" in fake_gateway.stacks["ladder-web-shop"].template["Resources"]
    missing = services.environment_request(
        user=people["alice"], team=people["web"], name="blog", tier=1, region="us-east-1",
        parameters={"hosted_zone_name": "nowhere.org", "record_name": "blog"},
    )  # fmt: skip
    workflow.plan_change(missing.pk)
    missing.refresh_from_db()
    assert missing.status == S.ERRORED
    assert "no Route 53 hosted zone named nowhere.org" in missing.explanation


def test_a_move_destructive_by_its_notes_needs_confirmation_and_approval(people, fake_gateway):
    TeamPolicy.objects.update_or_create(team=people["web"], defaults={"auto_approve_max_tier": 5})
    env = ready_env(people, fake_gateway, tier=5)
    with pytest.raises(InvalidRequest) as refused:
        services.change_request(user=people["alice"], environment=env, tier=4)
    assert "type the environment's name (shop)" in refused.value.fields["confirm"]
    change = services.change_request(user=people["alice"], environment=env, tier=4, confirm="shop")
    workflow.plan_change(change.pk)
    change.refresh_from_db()
    assert change.status == S.AWAITING_APPROVAL
    assert change.policy["reasons"][0].startswith("destructive:")


def test_the_reconciler_rings_again_for_a_lost_doorbell(
    people, fake_gateway, monkeypatch, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from provisioning.services import changes as change_services

    settings.RECONCILE_AFTER_SECONDS = 60
    rung = []
    monkeypatch.setattr(change_services, "enqueue", lambda task, pk: rung.append((task, pk)))
    monkeypatch.setattr(reconcile, "enqueue", lambda task, pk: rung.append((task, pk)))
    change = request_env(people)  # committed, but its doorbell never rang
    assert reconcile.reconcile()["plan"] == 0  # too fresh to call lost
    ChangeRequest.objects.filter(pk=change.pk).update(
        updated_at=timezone.now() - timedelta(minutes=5)
    )
    assert reconcile.reconcile() == {"plan": 1, "apply": 0, "superseded": 0}
    assert ("provisioning_plan", change.pk) in rung


def test_a_plan_that_went_stale_is_superseded(people, fake_gateway, monkeypatch):
    env = ready_env(people, fake_gateway, tier=2)
    move = services.change_request(user=people["alice"], environment=env, tier=3, confirm="shop")
    workflow.plan_change(move.pk)
    move.refresh_from_db()
    assert move.status == S.AWAITING_APPROVAL
    # the environment moved on under the plan (here: resized behind the portal's back)
    Environment.objects.filter(pk=env.pk).update(
        parameters={**env.parameters, "instance_type": "t3.large"}
    )
    assert reconcile.reconcile()["superseded"] == 1
    move.refresh_from_db()
    assert move.status == S.SUPERSEDED and "went stale" in move.explanation
    with pytest.raises(Conflict):
        services.change_approve(user=people["carol"], change=move)


def test_the_sweep_finds_a_deleted_stack_whose_name_is_taken_again(people, fake_gateway):
    """Filtered to stacks in progress, ListStacks no longer lists a deleted stack: the sweep
    describes it by name, once, and a newer stack of that name is not ours."""
    env = ready_env(people, fake_gateway)
    gone = services.environment_decommission(user=people["alice"], environment=env, confirm="shop")
    workflow.plan_change(gone.pk)
    fake_gateway.script(env.stack_name, "DELETE_IN_PROGRESS", "DELETE_IN_PROGRESS")
    workflow.apply_change(gone.pk)
    reconcile.sweep(gateway_factory=fakes.factory)  # deleting: listed, nothing settles
    assert ChangeRequest.objects.get(pk=gone.pk).status == S.APPLYING
    # Ours is deleted, and a newer stack (another id) took the name and rolled back: settled,
    # so not listed; were it taken for ours, the decommission would read as failed.
    ours = fake_gateway.stacks.pop(env.stack_name)
    ours.status, ours.pending = "DELETE_COMPLETE", []
    fake_gateway.deleted[ours.stack_id] = ours
    fake_gateway.stacks[env.stack_name] = fakes.FakeStack(
        env.stack_name, f"{env.stack_id}-newer", "ROLLBACK_COMPLETE"
    )
    before = fake_gateway.calls["describe_stack"]
    reconcile.sweep(gateway_factory=fakes.factory)
    assert fake_gateway.calls["describe_stack"] - before == 1
    gone.refresh_from_db()
    env.refresh_from_db()
    assert gone.status == S.APPLIED and env.status == E.DECOMMISSIONED
