"""Stack events: stored once each (AWS event id), numbered in the order they happened."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Max

from provisioning.aws.gateway import GatewayError, StackGateway
from provisioning.models import ChangeRequest, StackEvent

CLOCK_SKEW = timedelta(seconds=5)


def ingest_events(*, change: ChangeRequest, gateway: StackGateway) -> int:
    """Read the stack's events and store the new ones of this change. Returns how many."""
    environment = change.environment
    try:
        events = gateway.stack_events(stack_name=environment.stack_id or environment.stack_name)
    except GatewayError:
        return 0  # a deleted or unreadable stack: the outcome still comes from its status
    since = (change.apply_requested_at or change.created_at) - CLOCK_SKEW
    mine = sorted(
        (e for e in events if e.timestamp >= since), key=lambda e: (e.timestamp, e.event_id)
    )
    if not mine:
        return 0
    with transaction.atomic():
        # The lock serialises concurrent ingestion of one change (notification + sweep).
        ChangeRequest.objects.select_for_update().filter(pk=change.pk).first()
        known = set(
            StackEvent.objects.filter(event_id__in=[e.event_id for e in mine]).values_list(
                "event_id", flat=True
            )
        )
        fresh = [e for e in mine if e.event_id not in known]
        last = StackEvent.objects.filter(change=change).aggregate(m=Max("sequence"))["m"] or 0
        StackEvent.objects.bulk_create(
            [
                StackEvent(
                    change=change,
                    event_id=e.event_id,
                    sequence=last + n,
                    logical_id=e.logical_id,
                    resource_type=e.resource_type,
                    physical_id=e.physical_id[:1024],
                    status=e.status,
                    reason=e.reason,
                    timestamp=e.timestamp,
                )
                for n, e in enumerate(fresh, start=1)
            ]
        )
    return len(fresh)


def first_failure(change: ChangeRequest) -> str:
    """The first resource that failed, with CloudFormation's reason, for the explanation."""
    event = (
        change.events.filter(status__endswith="_FAILED")
        .exclude(reason="")
        .exclude(reason__icontains="Resource creation cancelled")
        .order_by("sequence")
        .first()
    )
    if event is None:
        return ""
    return f"{event.logical_id} ({event.resource_type}) {event.status}: {event.reason}"
