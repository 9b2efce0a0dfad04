"""The Celery app: broker and queues come from Django settings (CELERY_*)."""

from __future__ import annotations

import logging
import os

from celery import Celery, bootsteps
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# In the order a worker takes from them (the broker's queue_order_strategy is "priority"):
# starting a change first, then watching changes in flight, then the rest. A burst of
# completions to record never holds up an approved change waiting to start.
QUEUES = ("provisioning", "tracking", "default")
WORKER_QUEUES = ",".join(QUEUES)

logger = logging.getLogger(__name__)

app = Celery("ladder")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.autodiscover_tasks(["provisioning"])


class Heartbeat(bootsteps.StartStopStep):
    """Writes a timestamp to Redis every few seconds; /healthz reads it."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker):  # type: ignore[no-untyped-def]
        from django.conf import settings

        self.beat(worker)
        self.tref = worker.timer.call_repeatedly(
            settings.WORKER_HEARTBEAT_SECONDS, self.beat, (worker,), priority=10
        )

    def stop(self, worker):  # type: ignore[no-untyped-def]
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    def beat(self, worker):  # type: ignore[no-untyped-def]
        from provisioning.health import record_worker_heartbeat

        try:
            record_worker_heartbeat(hostname=worker.hostname)
        except Exception:  # a missed beat shows in /healthz, not as a crash
            logger.warning("could not record the worker heartbeat", exc_info=True)


app.steps["worker"].add(Heartbeat)
