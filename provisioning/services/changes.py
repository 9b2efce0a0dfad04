"""Requesting, approving, rejecting and cancelling changes. The faces call these, nothing else.

Each function takes objects the caller read through a selector (so another team's objects
never get here), works in one transaction, and rings the worker's doorbell on commit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from provisioning import engine, planner, policy
from provisioning.audit import audit_record
from provisioning.errors import Conflict, Forbidden, InvalidRequest, PolicyRefused
from provisioning.models import Approval, ChangeRequest, Environment, Team
from provisioning.pricing import PricingError
from provisioning.roles import is_approver, is_platform_admin
from provisioning.validation import (
    SUPPORTED_REGIONS,
    ParameterValidationError,
    params_for_move,
    validate_environment_name,
    validate_parameters,
)

S = ChangeRequest.Status
E = Environment.Status
Kind = ChangeRequest.Kind


def stack_name_for(*, team: Team, name: str) -> str:
    return f"ladder-{team.slug}-{name}"


def enqueue(task_name: str, change_id: int) -> None:
    """Ring the doorbell once the row is committed; the reconciler rings again if it is lost.

    Robust: the row is already committed, so a broker that does not answer (Redis down) is
    logged and left to the reconciler, never turned into an error for the request."""
    from provisioning import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.delay(change_id), robust=True)


def _require_member(*, user: Any, team: Team) -> None:
    if is_platform_admin(user) or team.memberships.filter(user=user).exists():
        return
    raise Forbidden(f"you are not a member of team {team.slug}")


def _validated(tier: Any, parameters: Any, *, region: str) -> tuple[int, dict[str, Any]]:
    try:
        tier_number = int(tier)
    except (TypeError, ValueError):
        raise InvalidRequest(
            "bad tier", fields={"tier": "a tier is a number from 1 to 5"}
        ) from None
    if not isinstance(parameters, dict):
        raise InvalidRequest("bad parameters", fields={"parameters": "must be an object"})
    try:
        return tier_number, validate_parameters(tier_number, parameters, region=region)
    except ParameterValidationError as exc:
        raise InvalidRequest("some parameters are not valid", fields=dict(exc.errors)) from None


def _plan(
    current: tuple[int, dict[str, Any]] | None,
    target: tuple[int, dict[str, Any]] | None,
    *,
    region: str,
) -> planner.Plan:
    try:
        return planner.plan(
            planner.TierParams(*current) if current else None,
            planner.TierParams(*target) if target else None,
            region=region,
        )
    except PricingError as exc:
        raise InvalidRequest(str(exc), fields={"parameters": str(exc)}) from None
    except ParameterValidationError as exc:
        raise InvalidRequest("some parameters are not valid", fields=dict(exc.errors)) from None


def _check_confirmation(*, plan: planner.Plan, environment_name: str, confirm: str) -> bool:
    if not plan.destructive:
        return False
    if (confirm or "").strip() != environment_name:
        raise InvalidRequest(
            "this change puts data at risk",
            fields={"confirm": f"type the environment's name ({environment_name}) to confirm: "
                    f"{_what_is_at_risk(plan)}"},
        )  # fmt: skip
    return True


def _what_is_at_risk(plan: planner.Plan) -> str:
    """One line: the resources at risk, else the destructive migration notes."""
    if plan.data_at_risk:
        return "data at risk in " + ", ".join(c.logical_id for c in plan.data_at_risk)
    return "; ".join(n.text for n in plan.notes if n.destructive)


def _new_change(
    *,
    user: Any,
    environment: Environment,
    kind: str,
    plan: planner.Plan | None,
    reason: str,
    confirmed: bool,
    ip: str | None,
) -> ChangeRequest:
    monthly_after = Decimal(str(plan.cost.target_total)) if plan else Decimal("0")
    verdict = policy.evaluate(
        team=environment.team,
        environment=environment,
        kind=kind,
        to_tier=plan.target.tier if plan and plan.target else None,
        monthly_cost_after=monthly_after,
        data_at_risk=_what_is_at_risk(plan) if plan and plan.destructive else "",
    )
    if verdict.refused:
        raise PolicyRefused("; ".join(verdict.refused))
    try:
        with transaction.atomic():
            change = ChangeRequest.objects.create(
                environment=environment,
                kind=kind,
                status=S.PLANNING,
                from_tier=plan.current.tier if plan and plan.current else None,
                to_tier=plan.target.tier if plan and plan.target else None,
                from_parameters=dict(plan.current.params) if plan and plan.current else {},
                to_parameters=dict(plan.target.params) if plan and plan.target else {},
                reason=reason,
                requester=user,
                plan=plan.as_dict() if plan else {"kind": kind, "changes": [], "notes": []},
                cost_delta=Decimal(str(plan.cost.delta)) if plan else Decimal("0"),
                monthly_cost_after=monthly_after,
                policy=verdict.as_dict(),
                confirmed=confirmed,
            )
    except IntegrityError:
        raise Conflict(
            f"environment {environment.name} already has an active change: wait for it, "
            "or cancel it first"
        ) from None
    change.change_set_name = f"ladder-change-{change.pk}"
    change.save(update_fields=["change_set_name"])
    audit_record(
        actor=user,
        action=f"change.requested.{kind}",
        obj=change,
        team=environment.team,
        after={"kind": kind, "from_tier": change.from_tier, "to_tier": change.to_tier},
        ip=ip,
    )
    enqueue("provisioning_plan", change.pk)
    return change


@transaction.atomic
def environment_request(
    *,
    user: Any,
    team: Team,
    name: str,
    tier: Any,
    region: str,
    parameters: dict[str, Any] | None = None,
    reason: str = "",
    ip: str | None = None,
) -> ChangeRequest:
    """Ask for a new environment: the row and its create change, planned by a worker."""
    _require_member(user=user, team=team)
    errors: dict[str, str] = {}
    try:
        name = validate_environment_name(name)
    except ParameterValidationError as exc:
        errors.update(exc.errors)
    if region not in SUPPORTED_REGIONS:
        errors["region"] = f"{region!r} is not supported (use {', '.join(SUPPORTED_REGIONS)})"
    if (
        not errors
        and Environment.objects.filter(team=team, name=name)
        .exclude(status=E.DECOMMISSIONED)
        .exists()
    ):
        errors["name"] = f"team {team.slug} already has an environment called {name}"
    if errors:
        raise InvalidRequest("the request is not valid", fields=errors)
    target = _validated(tier, parameters or {}, region=region)
    plan = _plan(None, target, region=region)
    environment = Environment.objects.create(
        team=team,
        name=name,
        region=region,
        tier=None,
        parameters={},
        status=E.PROVISIONING,
        stack_name=stack_name_for(team=team, name=name),
        created_by=user,
    )
    audit_record(
        actor=user, action="environment.requested", obj=environment, team=team,
        after={"name": name, "tier": target[0], "region": region}, ip=ip,
    )  # fmt: skip
    return _new_change(
        user=user, environment=environment, kind=Kind.CREATE, plan=plan,
        reason=reason, confirmed=False, ip=ip,
    )  # fmt: skip


@transaction.atomic
def change_request(
    *,
    user: Any,
    environment: Environment,
    tier: Any = None,
    parameters: dict[str, Any] | None = None,
    reason: str = "",
    confirm: str = "",
    ip: str | None = None,
) -> ChangeRequest:
    """Move an environment along the ladder (any rung) or resize it in place."""
    _require_member(user=user, team=environment.team)
    environment = Environment.objects.select_for_update().get(pk=environment.pk)
    if environment.status != E.READY or environment.tier is None:
        if environment.changes.filter(status__in=ChangeRequest.ACTIVE).exists():
            raise Conflict(f"environment {environment.name} already has an active change")
        raise Conflict(f"environment {environment.name} is {environment.status}, not ready")
    target_tier = environment.tier if tier in (None, "") else tier
    try:
        target_tier = int(target_tier)
    except (TypeError, ValueError):
        raise InvalidRequest(
            "bad tier", fields={"tier": "a tier is a number from 1 to 5"}
        ) from None
    if not isinstance(parameters, dict | None):
        raise InvalidRequest("bad parameters", fields={"parameters": "must be an object"})
    try:
        carried = params_for_move(environment.parameters, target_tier)
    except ParameterValidationError as exc:
        raise InvalidRequest("some parameters are not valid", fields=dict(exc.errors)) from None
    carried.update(parameters or {})
    target = _validated(target_tier, carried, region=environment.region)
    current = (environment.tier, dict(environment.parameters))
    if target == current:
        raise InvalidRequest("nothing to change", fields={"tier": "same tier and parameters"})
    kind = (
        Kind.UPGRADE if target[0] > current[0]
        else Kind.DOWNGRADE if target[0] < current[0]
        else Kind.RESIZE
    )  # fmt: skip
    plan = _plan(current, target, region=environment.region)
    confirmed = _check_confirmation(plan=plan, environment_name=environment.name, confirm=confirm)
    return _new_change(
        user=user, environment=environment, kind=kind, plan=plan,
        reason=reason, confirmed=confirmed, ip=ip,
    )  # fmt: skip


@transaction.atomic
def environment_decommission(
    *, user: Any, environment: Environment, confirm: str, reason: str = "", ip: str | None = None
) -> ChangeRequest:
    """Delete the environment's stack. Always confirmed by typing the environment's name."""
    _require_member(user=user, team=environment.team)
    environment = Environment.objects.select_for_update().get(pk=environment.pk)
    if environment.status not in {E.READY, E.FAILED}:
        raise Conflict(f"environment {environment.name} is {environment.status}")
    if (confirm or "").strip() != environment.name:
        raise InvalidRequest(
            "decommissioning needs confirmation",
            fields={"confirm": f"type the environment's name ({environment.name}) to confirm"},
        )
    if environment.tier is None:
        plan = None  # a failed create: delete what is left of its stack
    else:
        plan = _plan(
            (environment.tier, dict(environment.parameters)), None, region=environment.region
        )
    return _new_change(
        user=user, environment=environment, kind=Kind.DECOMMISSION, plan=plan,
        reason=reason, confirmed=True, ip=ip,
    )  # fmt: skip


@transaction.atomic
def environment_retry(
    *, user: Any, environment: Environment, reason: str = "", ip: str | None = None
) -> ChangeRequest:
    """Try a failed create again, with the tier and parameters it asked for."""
    _require_member(user=user, team=environment.team)
    environment = Environment.objects.select_for_update().get(pk=environment.pk)
    if environment.status != E.FAILED or environment.tier is not None:
        raise Conflict(f"environment {environment.name} is {environment.status}: nothing to retry")
    last = environment.changes.filter(kind=Kind.CREATE).order_by("-created_at").first()
    if last is None or last.to_tier is None:
        raise Conflict(f"environment {environment.name} has no create to retry")
    plan = _plan(None, (last.to_tier, dict(last.to_parameters)), region=environment.region)
    engine.environment_transition(environment=environment, to=E.PROVISIONING, actor=user)
    return _new_change(
        user=user, environment=environment, kind=Kind.CREATE, plan=plan,
        reason=reason or f"retry of change {last.pk}", confirmed=False, ip=ip,
    )  # fmt: skip


@transaction.atomic
def change_approve(
    *, user: Any, change: ChangeRequest, note: str = "", ip: str | None = None
) -> ChangeRequest:
    if not is_approver(user):
        raise Forbidden("only approvers may approve changes")
    if change.requester_id == user.pk:
        raise Forbidden("you requested this change; another approver must approve it")
    try:
        Approval.objects.create(change=change, approver=user, decision="approve", note=note)
    except IntegrityError:
        raise Conflict("you have already decided on this change") from None
    # Registered before the transition's own on-commit work (its webhook job), so the apply
    # is rung first; a refused transition raises and rolls back, and nothing is rung.
    enqueue("provisioning_apply", change.pk)
    try:
        change = engine.change_transition(
            change_id=change.pk, to=S.APPROVED, actor=user, expect={S.AWAITING_APPROVAL}, ip=ip
        )
    except engine.TransitionError:
        raise Conflict(f"change {change.pk} is {change.status}, not awaiting approval") from None
    return change


@transaction.atomic
def change_reject(
    *, user: Any, change: ChangeRequest, note: str = "", ip: str | None = None
) -> ChangeRequest:
    if not is_approver(user):
        raise Forbidden("only approvers may reject changes")
    try:
        Approval.objects.create(change=change, approver=user, decision="reject", note=note)
        change = engine.change_transition(
            change_id=change.pk, to=S.REJECTED, actor=user, expect={S.AWAITING_APPROVAL},
            explanation=_decided("rejected", user, note), ip=ip,
        )  # fmt: skip
    except (engine.TransitionError, IntegrityError):
        raise Conflict(f"change {change.pk} is {change.status}, not awaiting approval") from None
    _release_environment(change, actor=user)
    return change


@transaction.atomic
def change_cancel(
    *, user: Any, change: ChangeRequest, note: str = "", ip: str | None = None
) -> ChangeRequest:
    team = change.environment.team
    is_lead = team.memberships.filter(user=user, role="lead").exists()
    if not (change.requester_id == user.pk or is_lead or is_platform_admin(user)):
        raise Forbidden("only the requester, a team lead or a platform admin may cancel")
    try:
        change = engine.change_transition(
            change_id=change.pk, to=S.CANCELLED, actor=user,
            expect={S.PLANNING, S.AWAITING_APPROVAL, S.APPROVED},
            explanation=_decided("cancelled", user, note), ip=ip,
        )  # fmt: skip
    except engine.TransitionError:
        raise Conflict(f"change {change.pk} is {change.status}: too late to cancel") from None
    _release_environment(change, actor=user)
    return change


def _decided(verb: str, user: Any, note: str) -> str:
    return f"{verb} by {user.get_username()}" + (f": {note}" if note else "")


def _release_environment(change: ChangeRequest, *, actor: Any) -> None:
    """A create that never ran leaves nothing behind: its environment goes to history."""
    if change.kind != Kind.CREATE:
        return
    environment = Environment.objects.select_for_update().get(pk=change.environment_id)
    if environment.status == E.PROVISIONING and not environment.stack_id:
        engine.environment_transition(environment=environment, to=E.DECOMMISSIONED, actor=actor)
