"""A scripted StackGateway for what the local cloud cannot do: stacks that take time,
roll back or fail, throttling, API errors, duplicate notifications. Counts every call."""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from provisioning.aws.gateway import (
    IN_PROGRESS_STATUSES,
    AlreadyExists,
    ChangeSetInfo,
    GatewayError,
    Notification,
    StackEventInfo,
    StackInfo,
    StackNotFound,
    StackSummary,
    Throttled,
)

MUTATING = frozenset({"create_change_set", "execute_change_set", "create_stack", "delete_stack"})
_ids = itertools.count(1)


@dataclass
class FakeStack:
    name: str
    stack_id: str
    status: str
    template: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)  # statuses still to come, one per look
    events: list[StackEventInfo] = field(default_factory=list)


class ScriptedGateway:
    def __init__(self) -> None:
        self.stacks: dict[str, FakeStack] = {}  # live stacks by name
        self.deleted: dict[str, FakeStack] = {}  # by stack id
        self.change_sets: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self.mutations: list[tuple[str, str]] = []  # (method, token or name)
        self.tokens: set[str] = set()
        self.scripts: dict[str, list[str]] = {}  # stack name -> statuses after the next action
        self.failures: dict[str, tuple[str, str]] = {}  # stack name -> (logical id, reason)
        self.raise_next: dict[str, list[Exception]] = defaultdict(list)
        self.notifications: list[Notification] = []
        self.zones: dict[str, str] = {}
        self.clock = datetime(2026, 1, 1, tzinfo=UTC)

    # --- scripting helpers ------------------------------------------------------------
    def script(
        self, stack_name: str, *statuses: str, failing: tuple[str, str] | None = None
    ) -> None:
        """After the next execute/delete, the stack shows these statuses, one per look."""
        self.scripts[stack_name] = list(statuses)
        if failing:
            self.failures[stack_name] = failing

    def throttle(self, method: str, times: int = 1) -> None:
        self.raise_next[method].extend(Throttled("Rate exceeded") for _ in range(times))

    def fail(self, method: str, error: Exception) -> None:
        self.raise_next[method].append(error)

    def _enter(self, method: str) -> None:
        self.calls[method] += 1
        if self.raise_next.get(method):
            raise self.raise_next[method].pop(0)

    def _tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return datetime.now(UTC) + (self.clock - datetime(2026, 1, 1, tzinfo=UTC))

    def _event(
        self, stack: FakeStack, logical_id: str, rtype: str, status: str, reason: str = ""
    ) -> None:
        event = StackEventInfo(
            event_id=f"ev-{next(_ids)}", stack_id=stack.stack_id, logical_id=logical_id,
            resource_type=rtype, physical_id=f"phys-{logical_id}", status=status, reason=reason,
            timestamp=self._tick(),
        )  # fmt: skip
        stack.events.insert(0, event)  # newest first, as AWS answers
        if rtype == "AWS::CloudFormation::Stack":
            self.notifications.append(
                Notification(
                    receipt=f"r-{next(_ids)}",
                    stack_id=stack.stack_id,
                    stack_name=stack.name,
                    logical_id=logical_id,
                    resource_type=rtype,
                    status=status,
                )
            )

    def _set(self, stack: FakeStack, status: str) -> None:
        if status.endswith("FAILED") or "ROLLBACK" in status:
            logical_id, reason = self.failures.get(stack.name, ("WebInstance", "scripted failure"))
            if status in {
                "CREATE_FAILED",
                "ROLLBACK_COMPLETE",
                "UPDATE_ROLLBACK_COMPLETE",
                "DELETE_FAILED",
            }:
                failed = {"DELETE_FAILED": "DELETE_FAILED"}.get(
                    status,
                    "CREATE_FAILED" if status != "UPDATE_ROLLBACK_COMPLETE" else "UPDATE_FAILED",
                )
                if not any(e.logical_id == logical_id and e.status == failed for e in stack.events):
                    self._event(stack, logical_id, "AWS::EC2::Instance", failed, reason)
        stack.status = status
        self._event(stack, stack.name, "AWS::CloudFormation::Stack", status)
        if status == "DELETE_COMPLETE":
            self.stacks.pop(stack.name, None)
            self.deleted[stack.stack_id] = stack

    def _advance(self, stack: FakeStack) -> None:
        if stack.pending:
            self._set(stack, stack.pending.pop(0))

    def _start(self, stack: FakeStack, in_progress: str, complete: str) -> None:
        self._set(stack, in_progress)
        stack.pending = self.scripts.pop(stack.name, None) or [complete]

    # --- StackGateway -------------------------------------------------------------------
    def create_change_set(
        self, *, stack_name: str, change_set_name: str, change_set_type: str, template_body: str,
        parameters: dict[str, str], tags: dict[str, str], notification_arns: list[str],
        client_token: str,
    ) -> ChangeSetInfo:  # fmt: skip
        self._enter("create_change_set")
        key = (stack_name, change_set_name)
        if key not in self.change_sets:
            self.mutations.append(("create_change_set", client_token))
            template = json.loads(template_body)
            stack = self.stacks.get(stack_name)
            if change_set_type == "CREATE":
                if stack and stack.status != "REVIEW_IN_PROGRESS":
                    raise AlreadyExists(f"Stack [{stack_name}] already exists")
                stack = stack or FakeStack(
                    stack_name, f"arn:aws:cloudformation:us-east-1:123456789012:stack/{stack_name}/{next(_ids)}",
                    "REVIEW_IN_PROGRESS",
                )  # fmt: skip
                self.stacks[stack_name] = stack
            elif stack is None:
                raise StackNotFound(f"Stack with id {stack_name} does not exist")
            old = stack.template.get("Resources", {})
            new = template.get("Resources", {})
            changes = [
                {"Type": "Resource", "ResourceChange": {"Action": action, "LogicalResourceId": lid,
                 "ResourceType": (new.get(lid) or old.get(lid))["Type"]}}
                for lid, action in sorted(
                    [(k, "Add") for k in new.keys() - old.keys()]
                    + [(k, "Remove") for k in old.keys() - new.keys()]
                    + [(k, "Modify") for k in new.keys() & old.keys() if new[k] != old[k]]
                )
            ]  # fmt: skip
            self.change_sets[key] = {
                "id": f"arn:aws:cloudformation:us-east-1:123456789012:changeSet/{change_set_name}/{next(_ids)}",
                "stack_id": stack.stack_id, "template": template, "changes": changes,
                "status": "CREATE_COMPLETE" if changes else "FAILED",
                "reason": "" if changes else "The submitted information didn't contain changes.",
                "execution": "AVAILABLE" if changes else "UNAVAILABLE",
            }  # fmt: skip
        return self.describe_change_set(stack_name=stack_name, change_set_name=change_set_name)

    def describe_change_set(self, *, stack_name: str, change_set_name: str) -> ChangeSetInfo:
        self._enter("describe_change_set")
        cs = self.change_sets.get((stack_name, change_set_name))
        if cs is None:
            raise StackNotFound(
                f"ChangeSet [{change_set_name}] does not exist", code="ChangeSetNotFound"
            )
        return ChangeSetInfo(
            cs["id"],
            cs["stack_id"],
            cs["status"],
            cs["reason"],
            cs["execution"],
            list(cs["changes"]),
        )

    def execute_change_set(
        self, *, stack_name: str, change_set_name: str, client_request_token: str
    ) -> None:
        self._enter("execute_change_set")
        if client_request_token in self.tokens:
            return  # AWS: the same token again is the same request
        cs = self.change_sets.get((stack_name, change_set_name))
        if cs is None or cs["execution"] != "AVAILABLE":
            raise GatewayError(
                f"ChangeSet [{change_set_name}] cannot be executed", code="InvalidChangeSetStatus"
            )
        self.tokens.add(client_request_token)
        self.mutations.append(("execute_change_set", client_request_token))
        stack = self.stacks[stack_name]
        creating = stack.status == "REVIEW_IN_PROGRESS"
        stack.template = cs["template"]
        stack.outputs = {k: f"value-of-{k}" for k in cs["template"].get("Outputs", {})}
        cs["execution"] = "EXECUTE_IN_PROGRESS"
        if creating:
            self._start(stack, "CREATE_IN_PROGRESS", "CREATE_COMPLETE")
        else:
            self._start(stack, "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE")

    def delete_change_set(self, *, stack_name: str, change_set_name: str) -> None:
        self._enter("delete_change_set")
        self.change_sets.pop((stack_name, change_set_name), None)

    def create_stack(
        self, *, stack_name: str, template_body: str, parameters: dict[str, str],
        tags: dict[str, str], client_request_token: str,
    ) -> str:  # fmt: skip
        self._enter("create_stack")
        if stack_name in self.stacks:
            if client_request_token in self.tokens:
                return self.stacks[stack_name].stack_id
            raise AlreadyExists(f"Stack [{stack_name}] already exists")
        self.tokens.add(client_request_token)
        self.mutations.append(("create_stack", client_request_token))
        template = json.loads(template_body)
        stack = FakeStack(
            stack_name, f"arn:aws:cloudformation:us-east-1:123456789012:stack/{stack_name}/{next(_ids)}",
            "CREATE_COMPLETE", template, {k: f"value-of-{k}" for k in template.get("Outputs", {})},
        )  # fmt: skip
        self.stacks[stack_name] = stack
        return stack.stack_id

    def delete_stack(self, *, stack_name: str, client_request_token: str) -> None:
        self._enter("delete_stack")
        if client_request_token in self.tokens:
            return
        self.tokens.add(client_request_token)
        self.mutations.append(("delete_stack", client_request_token))
        stack = self.stacks.get(stack_name)
        if stack is not None:
            self._start(stack, "DELETE_IN_PROGRESS", "DELETE_COMPLETE")

    def list_stacks_in_progress(self) -> dict[str, StackSummary]:
        self._enter("list_stacks")
        for stack in list(self.stacks.values()):
            self._advance(stack)
        every = [*self.stacks.values(), *self.deleted.values()]
        return {
            s.stack_id: StackSummary(s.name, s.stack_id, s.status)
            for s in every
            if s.status in IN_PROGRESS_STATUSES  # as ListStacks' StackStatusFilter does
        }

    def describe_stack(self, *, stack_name: str) -> StackInfo | None:
        self._enter("describe_stack")
        stack = self.stacks.get(stack_name)
        if stack is None:
            return None
        self._advance(stack)
        if stack.name not in self.stacks:
            return None
        return StackInfo(stack.name, stack.stack_id, stack.status, "", dict(stack.outputs))

    def stack_events(self, *, stack_name: str) -> list[StackEventInfo]:
        self._enter("stack_events")
        stack = self.stacks.get(stack_name) or self.deleted.get(stack_name)
        if stack is None:
            stack = next((s for s in self.stacks.values() if s.stack_id == stack_name), None)
        if stack is None:
            raise StackNotFound(f"Stack [{stack_name}] does not exist")
        return list(stack.events)

    def hosted_zone_id(self, *, name: str) -> str | None:
        self._enter("hosted_zone_id")
        return self.zones.get(name)

    def ensure_notifications(self, *, name: str) -> tuple[str, str]:
        self._enter("ensure_notifications")
        return f"arn:aws:sns:us-east-1:123456789012:{name}", f"https://sqs.local/{name}"

    def receive_notifications(self, *, queue_url: str, limit: int) -> list[Notification]:
        self._enter("receive_notifications")
        taken, self.notifications = self.notifications[:limit], self.notifications[limit:]
        return taken

    def ack_notifications(self, *, queue_url: str, receipts: list[str]) -> None:
        self._enter("ack_notifications")


CURRENT: ScriptedGateway | None = None


def factory(*, team: Any, region: str) -> ScriptedGateway:
    """settings.STACK_GATEWAY_FACTORY for tests: the gateway the test installed."""
    assert CURRENT is not None, "install a ScriptedGateway first (fixture fake_gateway)"
    return CURRENT
