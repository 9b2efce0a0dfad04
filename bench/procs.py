"""What the bench does with the processes it starts: their memory, and stopping them."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any


def rss_mb(main_pid: int) -> dict[str, Any]:
    """VmRSS (MB) of a process and of its children (a prefork pool, gunicorn's workers)."""

    def status(pid: int) -> dict[str, str]:
        text = (Path("/proc") / str(pid) / "status").read_text()
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)

    def mb(fields: dict[str, str]) -> float:
        return round(int(fields["VmRSS"].split()[0]) / 1024, 1)

    children = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = status(int(entry.name))
        except (OSError, ValueError):
            continue  # a process that ended meanwhile
        if fields.get("PPid", "").strip() == str(main_pid) and "VmRSS" in fields:
            children[int(entry.name)] = mb(fields)
    main = mb(status(main_pid))
    return {"main": main, "children": children, "total": round(main + sum(children.values()), 1)}


def stop_group(process: subprocess.Popen[bytes], *, timeout: float = 15) -> None:
    """SIGTERM to the process's session (started with start_new_session), then SIGKILL."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
