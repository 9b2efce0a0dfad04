from __future__ import annotations

import logging
import signal
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from provisioning import simulator

log = logging.getLogger(__name__)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def local_cloud_only() -> None:
    """Refuse unless every call goes to the local cloud on this machine: simulated metrics
    in a real account would be indistinguishable from real ones."""
    if settings.PORTAL_CLOUD != "local":
        raise CommandError(
            "simulate_traffic runs against the local cloud only (PORTAL_CLOUD=local)"
        )
    host = urlsplit(settings.AWS_ENDPOINT_URL or "").hostname
    if host not in LOOPBACK:
        raise CommandError(
            f"simulate_traffic needs the local cloud's endpoint on this machine, "
            f"not {settings.AWS_ENDPOINT_URL or 'AWS'}"
        )


class Command(BaseCommand):
    help = (
        "Publish simulated CloudWatch metrics for the local cloud's environments: a week of "
        "backfill for each new one, then one datapoint a minute per metric. Local cloud only."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then exit")
        parser.add_argument(
            "--max-sleep", type=float, default=60.0, help="longest pause between rounds (s)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        local_cloud_only()
        if options["once"]:
            self.stdout.write(self._round())
            return
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        max_sleep = max(1.0, float(options["max_sleep"]))
        while not stopping:
            self.stdout.write(self._round())
            # Wake at the next minute (a little after, so the minute is complete).
            pause = min(max_sleep, 61 - time.time() % 60)
            deadline = time.monotonic() + pause
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(1.0, deadline - time.monotonic()))

    def _round(self) -> str:
        try:
            counts = simulator.simulate()
        except Exception as exc:  # the local cloud still starting, a broken stack: next minute
            log.warning("simulated metrics not published: %s", exc, exc_info=True)
            return f"simulated metrics not published: {exc}"
        return (
            f"simulated metrics: {counts['environments']} environments, "
            f"{counts['backfilled']} backfilled, {counts['datums']} datapoints"
        )
