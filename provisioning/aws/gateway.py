"""The interface the engine uses to talk to CloudFormation, and what it returns.

`Boto3StackGateway` (cloudformation.py) implements it for AWS and the local cloud alike;
tests script a fake with the same methods for what the local cloud cannot do. No Django here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class GatewayError(Exception):
    """A CloudFormation call failed. ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, code: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class StackNotFound(GatewayError):
    pass


class AlreadyExists(GatewayError):
    pass


class Throttled(GatewayError):
    def __init__(self, message: str, *, code: str = "Throttling") -> None:
        super().__init__(message, code=code, retryable=True)


@dataclass(frozen=True)
class ChangeSetInfo:
    change_set_id: str
    stack_id: str
    status: str  # CREATE_PENDING | CREATE_IN_PROGRESS | CREATE_COMPLETE | FAILED | ...
    status_reason: str
    execution_status: str  # UNAVAILABLE | AVAILABLE | EXECUTE_IN_PROGRESS | EXECUTE_COMPLETE ...
    changes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class StackSummary:
    name: str
    stack_id: str
    status: str
    reason: str = ""


@dataclass(frozen=True)
class StackInfo:
    name: str
    stack_id: str
    status: str
    reason: str
    outputs: dict[str, str]


@dataclass(frozen=True)
class StackEventInfo:
    event_id: str
    stack_id: str
    logical_id: str
    resource_type: str
    physical_id: str
    status: str
    reason: str
    timestamp: datetime


@dataclass(frozen=True)
class Notification:
    receipt: str
    stack_id: str
    stack_name: str
    logical_id: str
    resource_type: str
    status: str


class StackGateway(Protocol):
    def create_change_set(
        self,
        *,
        stack_name: str,
        change_set_name: str,
        change_set_type: str,
        template_body: str,
        parameters: dict[str, str],
        tags: dict[str, str],
        notification_arns: list[str],
        client_token: str,
    ) -> ChangeSetInfo: ...

    def describe_change_set(self, *, stack_name: str, change_set_name: str) -> ChangeSetInfo: ...

    def execute_change_set(
        self, *, stack_name: str, change_set_name: str, client_request_token: str
    ) -> None: ...

    def delete_change_set(self, *, stack_name: str, change_set_name: str) -> None: ...

    def create_stack(
        self,
        *,
        stack_name: str,
        template_body: str,
        parameters: dict[str, str],
        tags: dict[str, str],
        client_request_token: str,
    ) -> str: ...

    def delete_stack(self, *, stack_name: str, client_request_token: str) -> None: ...

    def list_stacks_in_progress(self) -> dict[str, StackSummary]:
        """Every stack of the account and region whose status is in progress, by stack id."""
        ...

    def describe_stack(self, *, stack_name: str) -> StackInfo | None: ...

    def stack_events(self, *, stack_name: str) -> list[StackEventInfo]: ...

    def hosted_zone_id(self, *, name: str) -> str | None: ...

    def ensure_notifications(self, *, name: str) -> tuple[str, str]: ...

    def receive_notifications(self, *, queue_url: str, limit: int) -> list[Notification]: ...

    def ack_notifications(self, *, queue_url: str, receipts: list[str]) -> None: ...


TERMINAL_OK = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"}
)
TERMINAL_FAILED = frozenset(
    {
        "CREATE_FAILED",
        "ROLLBACK_COMPLETE",
        "ROLLBACK_FAILED",
        "UPDATE_ROLLBACK_COMPLETE",
        "UPDATE_ROLLBACK_FAILED",
        "DELETE_FAILED",
        "UPDATE_FAILED",
        "IMPORT_ROLLBACK_COMPLETE",
        "IMPORT_ROLLBACK_FAILED",
    }
)


# ListStacks' StackStatusFilter for the sweep: only stacks in flight. The account's settled
# stacks (thousands of ready environments) and its deleted ones (listed for 90 days) stay out
# of the pages, so the pages grow with the changes in flight, not with the account; a stack
# of ours that drops out of this list has settled and is looked up by itself.
IN_PROGRESS_STATUSES = (
    "CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "DELETE_IN_PROGRESS", "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "REVIEW_IN_PROGRESS", "IMPORT_IN_PROGRESS",
    "IMPORT_ROLLBACK_IN_PROGRESS",
)  # fmt: skip


def stack_is_settled(status: str) -> bool:
    return status in TERMINAL_OK or status in TERMINAL_FAILED
