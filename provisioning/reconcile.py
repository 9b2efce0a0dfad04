"""The backstops: the batched sweep of applying changes, the notification drain, and the
reconciler that rings again for any change that should be moving and is not."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from provisioning import engine
from provisioning.aws.gateway import GatewayError, StackGateway, StackSummary, stack_is_settled
from provisioning.cloud import account_key, gateway_for, notification_channel
from provisioning.models import ChangeRequest, Environment
from provisioning.services.changes import enqueue
from provisioning.workflow import _finish, check_change

logger = logging.getLogger(__name__)
S = ChangeRequest.Status


def _applying() -> list[ChangeRequest]:
    return list(
        ChangeRequest.objects.filter(status=S.APPLYING, apply_started_at__isnull=False)
        .select_related("environment__team")
        .order_by("pk")
    )


def sweep(*, gateway_factory=gateway_for) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """One ListStacks per (team account, region) for every change in flight; events are read
    only for stacks whose status settled."""
    groups: dict[tuple[int, str], list[ChangeRequest]] = defaultdict(list)
    for change in _applying():
        groups[(change.environment.team_id, change.environment.region)].append(change)
    finished = 0
    for (_, region), changes in groups.items():
        gateway: StackGateway = gateway_factory(team=changes[0].environment.team, region=region)
        try:
            stacks = gateway.list_stacks()
        except GatewayError as exc:
            logger.warning("sweep: list_stacks failed in %s: %s", region, exc)
            continue
        by_name: dict[str, StackSummary] = {}
        for listed in stacks.values():
            # A name can recur (deleted stacks stay listed); the live one wins.
            if listed.name not in by_name or listed.status != "DELETE_COMPLETE":
                by_name[listed.name] = listed
        for change in changes:
            env = change.environment
            summary = stacks.get(env.stack_id) or by_name.get(env.stack_name)
            status = summary.status if summary else "DELETE_COMPLETE"
            if stack_is_settled(status):
                step = _finish(change, status=status, gateway=gateway)
                finished += step.outcome in {"applied", "failed"}
    return {"in_flight": sum(len(c) for c in groups.values()), "finished": finished}


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
    moved = awaiting.filter(
        Q(created_at__lt=expired) | Q(environment__updated_at__gt=F("created_at"))
    )
    for change in moved:
        env = change.environment
        if (
            change.created_at >= expired
            and (env.tier, env.parameters)
            == (
                change.from_tier,
                change.from_parameters,
            )
            and change.kind != ChangeRequest.Kind.CREATE
        ):
            continue  # the environment was touched but is as the plan assumed
        if change.kind == ChangeRequest.Kind.CREATE and change.created_at >= expired:
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
