"""RQ jobs of the web side (notifications, metric prefetch): short, never provisioning.

Each is a thin wrapper: the work and its bookkeeping live in provisioning.notifications.
"""

from __future__ import annotations

import os
from typing import Any

from provisioning import notifications


def ping(payload: str = "pong") -> dict[str, object]:
    """Proves the RQ wiring: runs in an RQ worker process."""
    return {"answer": payload, "pid": os.getpid()}


def notify_change(change_id: int, event: str) -> dict[str, int]:
    """Email and webhooks for a change's transition (``event``: change.approved, ...)."""
    return notifications.notify_change(change_id, event)


def notify_recommendation(recommendation_id: int) -> dict[str, int]:
    return notifications.notify_recommendation(recommendation_id)


def deliver_webhook(delivery_id: int) -> str:
    """One attempt at a webhook delivery; a failure schedules the next one itself."""
    return notifications.deliver(delivery_id)


def prefetch_metrics(environment_id: int, window: str = "24h") -> dict[str, Any]:
    """Warm the metrics cache for an environment (the `metrics` queue)."""
    from provisioning.metrics import environment_metrics
    from provisioning.models import Environment

    environment = Environment.objects.select_related("team").get(pk=environment_id)
    result = environment_metrics(environment=environment, window=window)
    return {"available": result.available, "cached": result.cached}
