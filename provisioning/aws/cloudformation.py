"""CloudFormation, SNS and SQS through boto3: the real StackGateway (AWS or the local cloud)."""

from __future__ import annotations

import contextlib
import json
import re
import time
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from provisioning.aws import clients
from provisioning.aws.clients import DEFAULT_CONFIG
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

# An assumed role's session is kept until this long before its credentials expire.
ROLE_SESSION_MARGIN_SECONDS = 300
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)
_NOTIFICATION_LINE = re.compile(r"^(\w+)='(.*)'$")


def _translate(exc: Exception) -> GatewayError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", exc))
        if code in THROTTLING_CODES:
            return Throttled(message, code=code)
        if code in {"AlreadyExistsException", "AlreadyExists"}:
            return AlreadyExists(message, code=code)
        if code == "ChangeSetNotFound" or "does not exist" in message:
            return StackNotFound(message, code=code or "NotFound")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return GatewayError(message, code=code, retryable=int(status or 0) >= 500)
    if isinstance(exc, ResponseParserError):
        # The local cloud answers its own internal errors with an HTML 500.
        return GatewayError(f"unreadable answer from the cloud: {exc}", code="InternalFailure")
    return GatewayError(f"{type(exc).__name__}: {exc}", code="ConnectionError", retryable=True)


def _call(method: Any, **kwargs: Any) -> Any:
    try:
        return method(**kwargs)
    except (ClientError, BotoCoreError, ResponseParserError) as exc:
        raise _translate(exc) from exc


def session_for(
    *, region: str, role_arn: str = "", external_id: str = "", session_name: str = "ladder"
) -> boto3.session.Session:
    """A boto3 session from the standard chain, or from an assumed per-team role. Both are
    kept (provisioning.aws.clients): one AssumeRole per role and hour, not one per call."""
    if not role_arn:
        return clients.default_session(region)

    def assume() -> tuple[boto3.session.Session, float]:
        sts = clients.client("sts", region=region)
        kwargs: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name}
        if external_id:
            kwargs["ExternalId"] = external_id
        credentials = _call(sts.assume_role, **kwargs)["Credentials"]
        session = boto3.session.Session(
            region_name=region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        expiration = credentials.get("Expiration")
        expires = expiration.timestamp() if isinstance(expiration, datetime) else time.time()
        return session, expires - ROLE_SESSION_MARGIN_SECONDS

    return clients.cached_session(("role", region, role_arn, external_id, session_name), assume)


class Boto3StackGateway:
    """Clients are made on first use and kept with their session."""

    def __init__(self, session: boto3.session.Session) -> None:
        self.session = session
        self.region = session.region_name

    @property
    def cfn(self) -> Any:
        return clients.session_client(self.session, "cloudformation", DEFAULT_CONFIG)

    @property
    def sns(self) -> Any:
        return clients.session_client(self.session, "sns", DEFAULT_CONFIG)

    @property
    def sqs(self) -> Any:
        return clients.session_client(self.session, "sqs", DEFAULT_CONFIG)

    @property
    def route53(self) -> Any:
        return clients.session_client(self.session, "route53", DEFAULT_CONFIG)

    # --- change sets -----------------------------------------------------------------
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
    ) -> ChangeSetInfo:
        # AlreadyExists: asked before (a retried task); the change set made then is the answer.
        with contextlib.suppress(AlreadyExists):
            _call(
                self.cfn.create_change_set,
                StackName=stack_name,
                ChangeSetName=change_set_name,
                ChangeSetType=change_set_type,
                TemplateBody=template_body,
                Parameters=[
                    {"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())
                ],
                Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
                NotificationARNs=notification_arns,
                Capabilities=CAPABILITIES,
                ClientToken=client_token,
            )
        return self.describe_change_set(stack_name=stack_name, change_set_name=change_set_name)

    def describe_change_set(self, *, stack_name: str, change_set_name: str) -> ChangeSetInfo:
        changes: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StackName": stack_name, "ChangeSetName": change_set_name}
        while True:
            page = _call(self.cfn.describe_change_set, **kwargs)
            changes.extend(page.get("Changes") or [])
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        return ChangeSetInfo(
            change_set_id=page.get("ChangeSetId", ""),
            stack_id=page.get("StackId", ""),
            status=page.get("Status", ""),
            status_reason=page.get("StatusReason", "") or "",
            execution_status=page.get("ExecutionStatus", "") or "",
            changes=changes,
        )

    def execute_change_set(
        self, *, stack_name: str, change_set_name: str, client_request_token: str
    ) -> None:
        _call(
            self.cfn.execute_change_set,
            StackName=stack_name,
            ChangeSetName=change_set_name,
            ClientRequestToken=client_request_token,
        )

    def delete_change_set(self, *, stack_name: str, change_set_name: str) -> None:
        _call(self.cfn.delete_change_set, StackName=stack_name, ChangeSetName=change_set_name)

    # --- stacks ----------------------------------------------------------------------
    def create_stack(
        self,
        *,
        stack_name: str,
        template_body: str,
        parameters: dict[str, str],
        tags: dict[str, str],
        client_request_token: str,
    ) -> str:
        answer = _call(
            self.cfn.create_stack,
            StackName=stack_name,
            TemplateBody=template_body,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
            Capabilities=CAPABILITIES,
            ClientRequestToken=client_request_token,
        )
        return str(answer["StackId"])

    def delete_stack(self, *, stack_name: str, client_request_token: str) -> None:
        _call(self.cfn.delete_stack, StackName=stack_name, ClientRequestToken=client_request_token)

    def list_stacks_in_progress(self) -> dict[str, StackSummary]:
        """Every stack of the account in the region that is in progress, by stack id: one
        call per page of 100 (the sweep's backstop), whatever else the account holds."""
        stacks: dict[str, StackSummary] = {}
        kwargs: dict[str, Any] = {"StackStatusFilter": list(IN_PROGRESS_STATUSES)}
        while True:
            page = _call(self.cfn.list_stacks, **kwargs)
            for item in page.get("StackSummaries") or []:
                stacks[item["StackId"]] = StackSummary(
                    name=item["StackName"],
                    stack_id=item["StackId"],
                    status=item["StackStatus"],
                    reason=item.get("StackStatusReason", "") or "",
                )
            if not page.get("NextToken"):
                return stacks
            kwargs["NextToken"] = page["NextToken"]

    def describe_stack(self, *, stack_name: str) -> StackInfo | None:
        """A live stack by name (never by a deleted stack's id: the local cloud revives it)."""
        try:
            answer = _call(self.cfn.describe_stacks, StackName=stack_name)
        except StackNotFound:
            return None
        stack = answer["Stacks"][0]
        return StackInfo(
            name=stack["StackName"],
            stack_id=stack["StackId"],
            status=stack["StackStatus"],
            reason=stack.get("StackStatusReason", "") or "",
            outputs={
                o["OutputKey"]: str(o.get("OutputValue", "")) for o in stack.get("Outputs", [])
            },
        )

    def stack_events(self, *, stack_name: str) -> list[StackEventInfo]:
        events: list[StackEventInfo] = []
        kwargs: dict[str, Any] = {"StackName": stack_name}
        while True:
            page = _call(self.cfn.describe_stack_events, **kwargs)
            for item in page.get("StackEvents") or []:
                events.append(
                    StackEventInfo(
                        event_id=item["EventId"],
                        stack_id=item["StackId"],
                        logical_id=item.get("LogicalResourceId", ""),
                        resource_type=item.get("ResourceType", ""),
                        physical_id=item.get("PhysicalResourceId", "") or "",
                        status=item.get("ResourceStatus", ""),
                        reason=item.get("ResourceStatusReason", "") or "",
                        timestamp=item["Timestamp"],
                    )
                )
            if not page.get("NextToken"):
                return events
            kwargs["NextToken"] = page["NextToken"]

    def hosted_zone_id(self, *, name: str) -> str | None:
        wanted = name.rstrip(".") + "."
        answer = _call(self.route53.list_hosted_zones_by_name, DNSName=wanted, MaxItems="1")
        for zone in answer.get("HostedZones") or []:
            if zone["Name"] == wanted:
                return str(zone["Id"]).rsplit("/", 1)[-1]
        return None

    # --- notifications: CloudFormation → SNS → SQS ------------------------------------
    def ensure_notifications(self, *, name: str) -> tuple[str, str]:
        topic_arn = _call(self.sns.create_topic, Name=name)["TopicArn"]
        queue_url = _call(self.sqs.create_queue, QueueName=name)["QueueUrl"]
        queue_arn = _call(
            self.sqs.get_queue_attributes, QueueUrl=queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }
        _call(
            self.sqs.set_queue_attributes,
            QueueUrl=queue_url,
            Attributes={"Policy": json.dumps(policy)},
        )
        _call(self.sns.subscribe, TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        return topic_arn, queue_url

    def receive_notifications(self, *, queue_url: str, limit: int) -> list[Notification]:
        notifications: list[Notification] = []
        while len(notifications) < limit:
            answer = _call(
                self.sqs.receive_message,
                QueueUrl=queue_url,
                MaxNumberOfMessages=min(10, limit - len(notifications)),
                WaitTimeSeconds=0,
            )
            messages = answer.get("Messages") or []
            if not messages:
                break
            notifications.extend(parse_notification(m) for m in messages)
        return notifications

    def ack_notifications(self, *, queue_url: str, receipts: list[str]) -> None:
        for start in range(0, len(receipts), 10):
            batch = receipts[start : start + 10]
            _call(
                self.sqs.delete_message_batch,
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(batch)],
            )


def parse_notification(message: dict[str, Any]) -> Notification:
    """An SQS message with an SNS envelope; its Message holds CloudFormation's Key='value' lines."""
    body = message.get("Body", "")
    try:
        text = json.loads(body).get("Message", "")
    except (ValueError, AttributeError):
        text = body
    fields: dict[str, str] = {}
    for line in str(text).splitlines():
        match = _NOTIFICATION_LINE.match(line.strip())
        if match:
            fields[match.group(1)] = match.group(2)
    return Notification(
        receipt=message.get("ReceiptHandle", ""),
        stack_id=fields.get("StackId", ""),
        stack_name=fields.get("StackName", ""),
        logical_id=fields.get("LogicalResourceId", ""),
        resource_type=fields.get("ResourceType", ""),
        status=fields.get("ResourceStatus", ""),
    )
