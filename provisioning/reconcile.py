"""The backstops: the batched sweep of applying changes, the notification drain, and the
reconciler that rings again for any change that should be moving and is not."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from provisioning import engine
from provisioning.aws.gateway import GatewayError, StackGateway, StackInfo, stack_is_settled
from provisioning.cloud import account_key, gateway_for, notification_channel
from provisioning.models import ChangeRequest, Environment
from provisioning.services.changes import enqueue
from provisioning.workflow import check_change, finish_change

logger = logging.getLogger(__name__)
S = ChangeRequest.Status


def _applying() -> list[ChangeRequest]:
    return list(
        ChangeRequest.objects.filter(status=S.APPLYING, apply_started_at__isnull=False)
        .select_related("environment__team")
        .order_by("pk")
    )


def sweep(*, gateway_factory=gateway_for) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """One ListStacks (its pages) per (AWS account, region) for every change in flight;
    events are read only for stacks whose status settled."""
    # Teams that share an AWS account share its ListStacks: group by account, not by team.
    groups: dict[tuple[str, str], list[ChangeRequest]] = defaultdict(list)
    accounts: dict[int, str] = {}
    for change in _applying():
        team = change.environment.team
        if team.pk not in accounts:
            accounts[team.pk] = account_key(team)
        groups[(accounts[team.pk], change.environment.region)].append(change)
    finished = 0
    for (_, region), changes in groups.items():
        gateway: StackGateway = gateway_factory(team=changes[0].environment.team, region=region)
        try:
            stacks = gateway.list_stacks_in_progress()
        except GatewayError as exc:
            logger.warning("sweep: list_stacks failed in %s: %s", region, exc)
            continue
        by_name = {listed.name: listed for listed in stacks.values()}
        for change in changes:
            env = change.environment
            summary = stacks.get(env.stack_id) or by_name.get(env.stack_name)
            try:
                if summary:
                    described, status = None, summary.status
                else:  # settled or deleted since it was last listed in progress
                    described = _described(gateway, env)
                    status = described.status if described else "DELETE_COMPLETE"
                if stack_is_settled(status):
                    step = finish_change(
                        change, status=status, gateway=gateway, described=described
                    )
                    finished += step.outcome in {"applied", "failed"}
            except GatewayError as exc:
                # One throttled call must not stop the rest of the sweep: this change is
                # looked at again by the next one.
                logger.warning("sweep: change %s not finished yet: %s", change.pk, exc)
    return {"in_flight": sum(len(c) for c in groups.values()), "finished": finished}


def _described(gateway: StackGateway, env: Environment) -> StackInfo | None:
    """A stack of ours that ListStacks no longer lists as in progress: it settled, or it was
    deleted. One DescribeStacks, only for a stack that dropped out; None when it is gone or
    its name now belongs to a newer stack."""
    info = gateway.describe_stack(stack_name=env.stack_name)
    if info is None or (env.stack_id and info.stack_id != env.stack_id):
        return None
    return info


def drain_notifications(*, limit: int = 100) -> int:
    """Stack notifications (CloudFormation → SNS → SQS): check each change they name, once.

    One receive per account and region with changes in flight, whatever their number."""
    if not settings.STACK_NOTIFICATIONS:
        return 0
    checked = 0
    drained: set[tuple[str, str]] = set()
    in_flight = (
        Environment.objects.filter(changes__status=S.APPLYING)
        .select_related("team")
        .order_by("team_id", "region")
    )
    for environment in in_flight:
        channel_key = (account_key(environment.team), environment.region)
        if channel_key in drained:
            continue
        drained.add(channel_key)
        team, region = environment.team, environment.region
        gateway = gateway_for(team=team, region=region)
        _, queue_url = notification_channel(gateway=gateway, team=team, region=region)
        messages = gateway.receive_notifications(queue_url=queue_url, limit=limit)
        stack_ids = {
            m.stack_id for m in messages
            if m.resource_type == "AWS::CloudFormation::Stack" and stack_is_settled(m.status)
        }  # fmt: skip
        for change in ChangeRequest.objects.filter(
            status=S.APPLYING, environment__stack_id__in=stack_ids
        ):
            check_change(change.pk, gateway=gateway)
            checked += 1
        if messages:
            gateway.ack_notifications(queue_url=queue_url, receipts=[m.receipt for m in messages])
    return checked


def _plan_is_stale(change: ChangeRequest, *, expired: datetime) -> bool:
    """Too old to trust, or the environment is no longer what the plan started from."""
    if change.created_at < expired:
        return True
    if change.kind == ChangeRequest.Kind.CREATE:
        return False
    env = change.environment
    return (env.tier, env.parameters) != (change.from_tier, change.from_parameters)


def reconcile() -> dict[str, int]:
    """Ring again for rows that should be moving; supersede stale plans."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    rung = {"plan": 0, "apply": 0, "superseded": 0}
    for change_id in ChangeRequest.objects.filter(
        status=S.PLANNING, updated_at__lt=stale
    ).values_list("pk", flat=True):
        enqueue("provisioning_plan", change_id)
        rung["plan"] += 1
    resume = ChangeRequest.objects.filter(
        Q(status=S.APPROVED) | Q(status=S.APPLYING, apply_started_at__isnull=True),
        updated_at__lt=stale,
    )
    for change_id in resume.values_list("pk", flat=True):
        enqueue("provisioning_apply", change_id)
        rung["apply"] += 1

    expired = now - timedelta(seconds=settings.PLAN_TTL_SECONDS)
    awaiting = ChangeRequest.objects.filter(status=S.AWAITING_APPROVAL).select_related(
        "environment"
    )
    for change in awaiting:
        if not _plan_is_stale(change, expired=expired):
            continue
        try:
            engine.change_transition(
                change_id=change.pk, to=S.SUPERSEDED, expect={S.AWAITING_APPROVAL},
                explanation="the plan went stale before it was approved; request it again",
            )  # fmt: skip
            rung["superseded"] += 1
        except engine.TransitionError:
            continue
    return rung
