"""The change state machine: one table of allowed transitions, one function that walks it.

Every status change of a ChangeRequest goes through `change_transition`: it locks the row,
checks the table, saves with update_fields and writes the audit event in one transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from provisioning import notifications
from provisioning.audit import audit_record
from provisioning.models import ChangeRequest, Environment

S = ChangeRequest.Status
E = Environment.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PLANNING: frozenset({S.AWAITING_APPROVAL, S.APPROVED, S.CANCELLED, S.ERRORED}),
    S.AWAITING_APPROVAL: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED, S.SUPERSEDED}),
    S.APPROVED: frozenset({S.APPLYING, S.CANCELLED, S.ERRORED}),
    S.APPLYING: frozenset({S.APPLIED, S.FAILED, S.ERRORED}),
}

ENVIRONMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    E.PROVISIONING: frozenset({E.READY, E.FAILED, E.DECOMMISSIONED}),
    E.READY: frozenset({E.UPDATING, E.DECOMMISSIONING}),
    E.UPDATING: frozenset({E.READY, E.FAILED}),
    E.FAILED: frozenset({E.PROVISIONING, E.DECOMMISSIONING}),
    E.DECOMMISSIONING: frozenset({E.DECOMMISSIONED, E.READY, E.FAILED}),
    E.DECOMMISSIONED: frozenset(),
}


class TransitionError(Exception):
    """The change is not in a state from which this step is allowed."""


def allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


@transaction.atomic
def change_transition(
    *,
    change_id: int,
    to: str,
    actor: Any = None,
    expect: frozenset[str] | set[str] | None = None,
    explanation: str | None = None,
    fields: dict[str, Any] | None = None,
    ip: str | None = None,
) -> ChangeRequest:
    """Move a change to status ``to``; raises TransitionError when the table forbids it.

    ``expect`` narrows the statuses the caller is prepared to move from (a task that applies
    only approved changes passes {"approved"}), so a stale caller cannot skip a step.
    """
    # The row alone is locked (of=self); its environment and team come in the same query.
    change = (
        ChangeRequest.objects.select_for_update(of=("self",))
        .select_related("environment__team")
        .get(pk=change_id)
    )
    if expect is not None and change.status not in expect:
        raise TransitionError(f"change {change_id} is {change.status}, not {sorted(expect)}")
    if not allowed(change.status, to):
        raise TransitionError(f"change {change_id} cannot go from {change.status} to {to}")
    before = {"status": change.status}
    change.status = to
    updated = ["status", "updated_at"]
    if explanation is not None:
        change.explanation = explanation
        updated.append("explanation")
    for name, value in (fields or {}).items():
        setattr(change, name, value)
        updated.append(name)
    if to in ChangeRequest.TERMINAL:
        change.finished_at = timezone.now()
        updated.append("finished_at")
    change.save(update_fields=updated)
    audit_record(
        actor=actor,
        action=f"change.{to}",
        obj=change,
        team=change.environment.team,
        before=before,
        after={"status": to, **({"explanation": explanation} if explanation else {})},
        ip=ip,
    )
    transaction.on_commit(lambda: notifications.change_status_changed(change.pk, to), robust=True)
    return change


def environment_transition(
    *, environment: Environment, to: str, actor: Any = None, fields: dict[str, Any] | None = None
) -> Environment:
    """Move a locked environment (the caller holds its row lock inside a transaction)."""
    if to != environment.status and to not in ENVIRONMENT_TRANSITIONS[environment.status]:
        raise TransitionError(
            f"environment {environment.pk} cannot go from {environment.status} to {to}"
        )
    before = {"status": environment.status, "tier": environment.tier}
    environment.status = to
    updated = ["status", "updated_at"]
    for name, value in (fields or {}).items():
        setattr(environment, name, value)
        updated.append(name)
    environment.save(update_fields=updated)
    audit_record(
        actor=actor,
        action=f"environment.{to}",
        obj=environment,
        team=environment.team,
        before=before,
        after={"status": to, "tier": environment.tier},
    )
    return environment
