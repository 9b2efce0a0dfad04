"""What the workers do with a change: plan it with a change set, apply it once, follow it.

Every step starts an action or looks at progress and returns; none waits on AWS. Each step
re-reads the row and does nothing when the change has moved on, so a repeated doorbell,
a redelivered task or the reconciler ringing again are all harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from provisioning import engine, planner
from provisioning.aws.gateway import (
    TERMINAL_FAILED,
    TERMINAL_OK,
    GatewayError,
    StackGateway,
    StackInfo,
    StackNotFound,
)
from provisioning.blueprints import compose, render_json
from provisioning.cloud import gateway_for, notification_arns
from provisioning.events import first_failure, ingest_events
from provisioning.models import ChangeRequest, Environment
from provisioning.network import network_ready, template_parameters

logger = logging.getLogger(__name__)
S = ChangeRequest.Status
E = Environment.Status
Kind = ChangeRequest.Kind
NO_CHANGES = ("didn't contain changes", "No updates are to be performed", "no changes")


@dataclass(frozen=True)
class Step:
    """What a step did: ``retry_in`` seconds when it must look again later."""

    outcome: str
    retry_in: float | None = None


def _load(change_id: int) -> ChangeRequest:
    return ChangeRequest.objects.select_related("environment__team").get(pk=change_id)


def error_change(change: ChangeRequest, message: str) -> Step:
    """Our side or the API failed in a way retrying will not mend: errored, with the reason."""
    with transaction.atomic():
        current = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if current.status not in engine.TRANSITIONS or not engine.allowed(
            current.status, S.ERRORED
        ):
            return Step("moved-on")
        engine.change_transition(change_id=change.pk, to=S.ERRORED, explanation=message[:2000])
        _settle_environment(change, succeeded=False, errored=True)
    logger.warning("change %s errored: %s", change.pk, message)
    return Step("errored")


# --- plan ---------------------------------------------------------------------------------
def plan_change(change_id: int, *, gateway: StackGateway | None = None) -> Step:
    change = _load(change_id)
    if change.status != S.PLANNING:
        return Step("moved-on")
    environment = change.environment
    if change.kind == Kind.DECOMMISSION:
        return decide_change(change)
    gateway = gateway or gateway_for(team=environment.team, region=environment.region)
    try:
        network = network_ready(team=environment.team, region=environment.region, gateway=gateway)
        if network is None:
            return Step("waiting-for-network", retry_in=5)
        if not environment.tier and _clear_failed_stack(change, gateway):
            return Step("clearing-failed-stack", retry_in=5)
        template = compose(change.to_tier or 1, dict(change.to_parameters), network=network.outputs)
        info = gateway.create_change_set(
            stack_name=environment.stack_name,
            change_set_name=change.change_set_name,
            change_set_type="UPDATE" if environment.tier else "CREATE",
            template_body=render_json(template),
            parameters=template_parameters(
                template, network=network, params=change.to_parameters, gateway=gateway
            ),
            tags={"ladder:team": environment.team.slug, "ladder:environment": environment.name},
            notification_arns=notification_arns(
                gateway=gateway, team=environment.team, region=environment.region
            ),
            client_token=change.client_token,
        )
    except GatewayError as exc:
        if exc.retryable:
            raise
        return error_change(change, f"CloudFormation refused the change set: {exc}")
    if info.status in {"CREATE_PENDING", "CREATE_IN_PROGRESS"}:
        return Step("change-set-pending", retry_in=3)
    no_op = info.status == "FAILED" and any(t in info.status_reason for t in NO_CHANGES)
    if info.status == "FAILED" and not no_op:
        return error_change(change, f"change set failed: {info.status_reason}")

    merged = _merged_plan(change, [] if no_op else info.changes)
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if locked.status != S.PLANNING:
            return Step("moved-on")
        locked.plan = merged
        locked.change_set_id = "" if no_op else info.change_set_id
        locked.save(update_fields=["plan", "change_set_id", "updated_at"])
        if info.stack_id and not environment.stack_id and not no_op:
            Environment.objects.filter(pk=environment.pk).update(stack_id=info.stack_id)
    return decide_change(_load(change_id))


def _clear_failed_stack(change: ChangeRequest, gateway: StackGateway) -> bool:
    """A create retried after a rollback: AWS keeps the dead stack under the same name until
    it is deleted. Starts (once) and waits for that delete; False once the name is free."""
    stack = gateway.describe_stack(stack_name=change.environment.stack_name)
    if stack is None or stack.status == "REVIEW_IN_PROGRESS":
        return False
    if stack.status in {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"}:
        gateway.delete_stack(
            stack_name=stack.name, client_request_token=f"ladder-clear-{change.pk}"
        )
    return True


def _merged_plan(change: ChangeRequest, aws_changes: list[dict[str, Any]]) -> dict[str, Any]:
    current = (
        planner.TierParams(change.from_tier, change.from_parameters) if change.from_tier else None
    )
    target = planner.TierParams(change.to_tier, change.to_parameters) if change.to_tier else None
    offline = planner.plan(current, target, region=change.environment.region)
    merged = planner.merge_change_set(offline, aws_changes) if aws_changes else offline
    return merged.as_dict()


def decide_change(change: ChangeRequest) -> Step:
    """After planning: to an approver, or straight on to apply."""
    needs_approval = bool(change.policy.get("needs_approval"))
    to = S.AWAITING_APPROVAL if needs_approval else S.APPROVED
    with transaction.atomic():
        try:
            engine.change_transition(change_id=change.pk, to=to, expect={S.PLANNING})
        except engine.TransitionError:
            return Step("moved-on")
        if to == S.APPROVED:
            from provisioning.services.changes import enqueue

            enqueue("provisioning_apply", change.pk)
    return Step(to)


# --- apply --------------------------------------------------------------------------------
def apply_change(change_id: int, *, gateway: StackGateway | None = None) -> Step:
    """Record the intent, then make the one mutating call, then record that AWS took it."""
    with transaction.atomic():
        change = ChangeRequest.objects.select_for_update().get(pk=change_id)
        # Intent recorded but the call not confirmed (a crash in between): look, then call.
        resuming = change.status == S.APPLYING and change.apply_started_at is None
        if change.status != S.APPROVED and not resuming:
            return Step("moved-on")
        if change.attempts >= settings.PROVISIONING_MAX_ATTEMPTS:
            engine.change_transition(
                change_id=change.pk, to=S.ERRORED,
                explanation=f"gave up after {change.attempts} attempts to apply; "
                "the worker stopped before AWS confirmed each time",
            )  # fmt: skip
            _settle_environment(change, succeeded=False, errored=True)
            return Step("errored")
        if resuming:
            change.attempts += 1
            change.save(update_fields=["attempts", "updated_at"])
        else:
            engine.change_transition(
                change_id=change.pk, to=S.APPLYING, expect={S.APPROVED},
                fields={"apply_requested_at": timezone.now(), "attempts": change.attempts + 1},
            )  # fmt: skip
            _environment_starts(change)
    change = _load(change_id)
    environment = change.environment
    gateway = gateway or gateway_for(team=environment.team, region=environment.region)
    try:
        if resuming and _already_started(change, gateway):
            outcome = "adopted"
        elif change.kind == Kind.DECOMMISSION:
            gateway.delete_stack(
                stack_name=environment.stack_name, client_request_token=change.client_token
            )
            outcome = "delete-started"
        elif not change.change_set_id:
            outcome = "no-op"  # nothing for CloudFormation to do (a parameter-only resize)
        else:
            gateway.execute_change_set(
                stack_name=environment.stack_name,
                change_set_name=change.change_set_name,
                client_request_token=change.client_token,
            )
            outcome = "execute-started"
    except GatewayError as exc:
        if exc.retryable:
            raise
        return error_change(change, f"CloudFormation refused to apply: {exc}")
    ChangeRequest.objects.filter(pk=change_id, apply_started_at__isnull=True).update(
        apply_started_at=timezone.now()
    )
    if outcome == "no-op":
        finish_change(_load(change_id), status="UPDATE_COMPLETE", gateway=gateway)
    return Step(outcome)


def _already_started(change: ChangeRequest, gateway: StackGateway) -> bool:
    """After a crash between the call and its record: did AWS already take the change?"""
    environment = change.environment
    if change.kind == Kind.DECOMMISSION:
        stack = gateway.describe_stack(stack_name=environment.stack_name)
        return stack is None or stack.status.startswith("DELETE")
    if not change.change_set_id:
        return False
    try:
        info = gateway.describe_change_set(
            stack_name=environment.stack_name, change_set_name=change.change_set_name
        )
    except StackNotFound:
        # Executed change sets disappear once the stack moves on.
        return gateway.describe_stack(stack_name=environment.stack_name) is not None
    return info.execution_status not in {"AVAILABLE", "UNAVAILABLE", ""}


def _locked_environment(change: ChangeRequest) -> Environment:
    """The change's environment, its row locked, with its team (for the audit row)."""
    return (
        Environment.objects.select_for_update(of=("self",))
        .select_related("team")
        .get(pk=change.environment_id)
    )


def _environment_starts(change: ChangeRequest) -> None:
    environment = _locked_environment(change)
    to = {
        Kind.CREATE: E.PROVISIONING,
        Kind.DECOMMISSION: E.DECOMMISSIONING,
    }.get(ChangeRequest.Kind(change.kind), E.UPDATING)
    engine.environment_transition(environment=environment, to=to)


# --- track --------------------------------------------------------------------------------
def check_change(change_id: int, *, gateway: StackGateway | None = None) -> Step:
    """Look at one applying change's stack (after a notification or right after apply)."""
    change = _load(change_id)
    if change.status != S.APPLYING or change.apply_started_at is None:
        return Step("moved-on")
    environment = change.environment
    gateway = gateway or gateway_for(team=environment.team, region=environment.region)
    stack = gateway.describe_stack(stack_name=environment.stack_name)
    status = "DELETE_COMPLETE" if stack is None else stack.status
    return finish_change(change, status=status, gateway=gateway, described=stack)


def finish_change(
    change: ChangeRequest,
    *,
    status: str,
    gateway: StackGateway,
    described: StackInfo | None = None,
) -> Step:
    """Record where the change's stack stands; settle the change when the stack has.
    ``described``: the stack as DescribeStacks just gave it, so it is not asked again."""
    ChangeRequest.objects.filter(pk=change.pk).update(last_checked_at=timezone.now())
    settled = status in TERMINAL_OK or status in TERMINAL_FAILED
    environment = change.environment
    if settled or change.kind != Kind.DECOMMISSION:
        ingest_events(change=change, gateway=gateway)
    if not settled:
        return Step("in-progress")
    outputs: dict[str, str] = {}
    if status in TERMINAL_OK and change.kind != Kind.DECOMMISSION:
        stack = described or gateway.describe_stack(stack_name=environment.stack_name)
        outputs = stack.outputs if stack else {}
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if locked.status != S.APPLYING:
            return Step("moved-on")
        if status in TERMINAL_OK:
            engine.change_transition(
                change_id=change.pk, to=S.APPLIED, explanation=_success_note(change, status)
            )
            _settle_environment(change, succeeded=True, outputs=outputs)
            return Step("applied")
        reason = first_failure(change) or f"stack ended {status}"
        engine.change_transition(change_id=change.pk, to=S.FAILED, explanation=reason)
        _settle_environment(change, succeeded=False)
        return Step("failed")


def _success_note(change: ChangeRequest, status: str) -> str:
    if change.kind != Kind.DECOMMISSION:
        return f"stack {status}"
    kept = [
        f"{c['logical_id']}: {c['data']['kept']}"
        for c in change.plan.get("changes", [])
        if c.get("data") and c["data"].get("kept")
    ]
    return "stack deleted" + (f"; kept: {'; '.join(kept)}" if kept else "")


def _settle_environment(
    change: ChangeRequest,
    *,
    succeeded: bool,
    errored: bool = False,
    outputs: dict[str, str] | None = None,
) -> None:
    environment = _locked_environment(change)
    if succeeded and change.kind == Kind.DECOMMISSION:
        engine.environment_transition(
            environment=environment, to=E.DECOMMISSIONED,
            fields={"decommissioned_at": timezone.now(), "monthly_cost": 0, "outputs": {}},
        )  # fmt: skip
    elif succeeded:
        engine.environment_transition(
            environment=environment, to=E.READY,
            fields={
                "tier": change.to_tier, "parameters": change.to_parameters,
                "outputs": outputs or environment.outputs,
                "monthly_cost": change.monthly_cost_after,
            },
        )  # fmt: skip
    elif environment.tier is None:
        # A create that did not make it: retry it, or decommission what is left.
        if environment.status != E.FAILED:
            engine.environment_transition(environment=environment, to=E.FAILED)
    elif environment.status in {E.UPDATING, E.DECOMMISSIONING}:
        # AWS rolled the update back (or we never started): the environment is as it was.
        engine.environment_transition(environment=environment, to=E.READY)
