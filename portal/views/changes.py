"""A change request: its plan, policy result, approvals and events; deciding and cancelling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portal.forms import DecisionForm, parameter_label
from portal.views.common import change_or_404, client_ip
from provisioning import ladder, selectors, services
from provisioning.errors import Forbidden, ServiceError
from provisioning.models import ChangeRequest, Environment
from provisioning.roles import is_approver, is_platform_admin

S = ChangeRequest.Status
CANCELLABLE = {S.PLANNING, S.AWAITING_APPROVAL, S.APPROVED}


def _parameter_diff(change: ChangeRequest) -> list[dict[str, Any]]:
    before, after = change.from_parameters or {}, change.to_parameters or {}
    order = [p.name for p in ladder.PARAMETERS]
    names = [n for n in order if n in before or n in after]
    names += sorted((before.keys() | after.keys()) - set(order))
    return [
        {
            "label": parameter_label(name),
            "before": before.get(name),
            "after": after.get(name),
            "has_before": name in before,
            "has_after": name in after,
            "changed": (name in before, before.get(name)) != (name in after, after.get(name)),
        }
        for name in names
    ]


def _may_cancel(user: Any, change: ChangeRequest) -> bool:
    if change.status not in CANCELLABLE:
        return False
    if change.requester_id == user.pk or is_platform_admin(user):
        return True
    return selectors.user_leads_team(user=user, team=change.environment.team)


@login_required
def change_detail(request: HttpRequest, pk: int) -> HttpResponse:
    change = change_or_404(request, pk)
    plan = change.plan or {}
    user = request.user
    is_requester = change.requester_id == user.pk
    try:
        selectors.environment_get_for_user(user=user, pk=change.environment_id)
        environment_visible = True
    except Environment.DoesNotExist:
        environment_visible = False  # an approver from outside the team
    context = {
        "change": change,
        "environment": change.environment,
        "environment_visible": environment_visible,
        "plan": plan,
        "resource_changes": plan.get("changes", []),
        "notes": plan.get("notes", []),
        "cost": plan.get("cost") or {},
        "policy": change.policy or {},
        "approvals": list(change.approvals.all()),
        "parameters": _parameter_diff(change),
        "events": selectors.stack_event_list_for_change(change=change),
        "awaiting": change.status == S.AWAITING_APPROVAL,
        "can_decide": change.status == S.AWAITING_APPROVAL
        and is_approver(user)
        and not is_requester,
        "is_requester": is_requester,
        "can_cancel": _may_cancel(user, change),
        "decision_form": DecisionForm(),
    }
    return render(request, "portal/change_detail.html", context)


def _decide(
    request: HttpRequest,
    pk: int,
    action: Callable[..., ChangeRequest],
    done: str,
) -> HttpResponse:
    change = change_or_404(request, pk)
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        action(user=request.user, change=change, note=note, ip=client_ip(request))
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Change #{change.pk} {done}.")
    return redirect("change-detail", change.pk)


@login_required
@require_POST
def change_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, services.change_approve, "approved")


@login_required
@require_POST
def change_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, services.change_reject, "rejected")


@login_required
@require_POST
def change_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, services.change_cancel, "cancelled")
