"""RQ jobs of the web side (notifications, metric prefetch): short, never provisioning."""

from __future__ import annotations

import os


def ping(payload: str = "pong") -> dict[str, object]:
    """Proves the RQ wiring: runs in an RQ worker process."""
    return {"answer": payload, "pid": os.getpid()}
