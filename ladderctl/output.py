"""How ladderctl prints: aligned tables for people, JSON for scripts, progress on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any


class Output:
    def __init__(self, as_json: bool, out: Any = None, err: Any = None) -> None:
        self.as_json = as_json
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def json(self, data: Any) -> None:
        print(json.dumps(data, indent=2, sort_keys=True, default=str), file=self.out)

    def line(self, text: str = "") -> None:
        print(text, file=self.out)

    def note(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        cells = [[cell(v) for v in row] for row in rows]
        widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
        for row in [list(headers), *cells]:
            self.line("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def change_line(change: dict[str, Any]) -> str:
    move = f"tier {change['from_tier']} -> {change['to_tier']}"
    if change.get("from_tier") is None:
        move = f"tier {change['to_tier']}"
    if change.get("to_tier") is None:
        move = "delete the stack"
    return (
        f"change #{change['id']}: {change['kind']} of {change['team']}/"
        f"{change['environment_name']} ({move}), {change['status']}"
    )


def print_change(out: Output, change: dict[str, Any]) -> None:
    out.line(change_line(change))
    plan = change.get("plan") or {}
    counts = plan.get("counts") or {}
    cost = plan.get("cost") or {}
    out.line(
        f"plan: {counts.get('add', 0)} to add, {counts.get('modify', 0)} to modify, "
        f"{counts.get('remove', 0)} to remove; cost ${cost.get('current_total', '0')} -> "
        f"${cost.get('target_total', '0')}/month ({change.get('cost_delta')})"
    )
    resources = plan.get("resources") or []
    if resources:
        out.table(
            ["ACTION", "RESOURCE", "TYPE", "REPLACEMENT", "DATA AT RISK"],
            [
                [r["action"], r["logical_id"], r["type"], r["replacement"], r["risk"] or ""]
                for r in resources
            ],
        )
    for note in plan.get("notes") or []:
        out.line(f"note{' (destructive)' if note['destructive'] else ''}: {note['text']}")
    policy = change.get("policy") or {}
    if policy.get("needs_approval"):
        out.line("needs approval: " + "; ".join(policy.get("reasons") or []))
    for approval in change.get("approvals") or []:
        out.line(f"{approval['decision']} by {approval['approver']}: {approval['note'] or '-'}")
    if change.get("explanation"):
        out.line(f"explanation: {change['explanation']}")
