"""CloudWatch through boto3: metric data in as few calls as AWS allows, alarm states, and the
physical ids a stack's Outputs do not carry. No Django here."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from provisioning.aws import clients

MAX_QUERIES_PER_CALL = 500  # GetMetricData's limit
MAX_DATUMS_PER_PUT = 1000  # PutMetricData's limit
# A dashboard waits on these calls: fail fast instead of retrying for half a minute.
METRICS_CONFIG = Config(
    connect_timeout=3, read_timeout=15, retries={"max_attempts": 2, "mode": "standard"}
)


class CloudWatchError(Exception):
    """A CloudWatch (or CloudFormation resource) call failed; the message says how."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def _call(method: Any, **kwargs: Any) -> Any:
    try:
        return method(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        raise CloudWatchError(str(error.get("Message", exc)), code=code) from exc
    except ResponseParserError as exc:  # the local cloud's own crash, as an HTML 500
        raise CloudWatchError(f"unreadable answer from the cloud: {exc}", code="Internal") from exc
    except BotoCoreError as exc:
        raise CloudWatchError(f"{type(exc).__name__}: {exc}", code="Connection") from exc


def client(session: boto3.session.Session, service: str = "cloudwatch") -> Any:
    return clients.session_client(session, service, METRICS_CONFIG)


Series = tuple[list[datetime], list[float]]


def get_metric_data(
    cloudwatch: Any,
    *,
    queries: Sequence[dict[str, Any]],
    start: datetime,
    end: datetime,
    on_call: Callable[[int], None] | None = None,
) -> dict[str, Series]:
    """Every query's (timestamps, values), oldest first: one call per 500 queries (plus
    continuation pages when AWS has more datapoints than one answer holds)."""
    results: dict[str, Series] = {}
    for first in range(0, len(queries), MAX_QUERIES_PER_CALL):
        chunk = list(queries[first : first + MAX_QUERIES_PER_CALL])
        kwargs: dict[str, Any] = {
            "MetricDataQueries": chunk,
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            if on_call:
                on_call(len(chunk))
            page = _call(cloudwatch.get_metric_data, **kwargs)
            for item in page.get("MetricDataResults") or []:
                times, values = results.setdefault(item["Id"], ([], []))
                for when, value in zip(
                    item.get("Timestamps") or [], item.get("Values") or [], strict=False
                ):
                    if value is not None:
                        times.append(when)
                        values.append(float(value))
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    for times, values in results.values():
        if any(a > b for a, b in itertools.pairwise(times)):
            pairs = sorted(zip(times, values, strict=True))
            times[:], values[:] = [p[0] for p in pairs], [p[1] for p in pairs]
    return results


@dataclass(frozen=True)
class AlarmInfo:
    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    reason: str
    updated_at: datetime | None
    namespace: str
    metric: str
    threshold: float | None
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "reason": self.reason,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "namespace": self.namespace,
            "metric": self.metric,
            "threshold": self.threshold,
            "description": self.description,
        }


def describe_alarms(cloudwatch: Any, *, prefix: str) -> list[AlarmInfo]:
    """The metric alarms whose names start with ``prefix`` (CloudFormation names a stack's
    alarms ``<stack name>-<logical id>-<suffix>``)."""
    alarms: list[AlarmInfo] = []
    kwargs: dict[str, Any] = {"AlarmNamePrefix": prefix, "AlarmTypes": ["MetricAlarm"]}
    while True:
        page = _call(cloudwatch.describe_alarms, **kwargs)
        for item in page.get("MetricAlarms") or []:
            threshold = item.get("Threshold")
            alarms.append(
                AlarmInfo(
                    name=item["AlarmName"],
                    state=item.get("StateValue", "INSUFFICIENT_DATA"),
                    reason=item.get("StateReason", "") or "",
                    updated_at=item.get("StateUpdatedTimestamp"),
                    namespace=item.get("Namespace", "") or "",
                    metric=item.get("MetricName", "") or "",
                    threshold=float(threshold) if threshold is not None else None,
                    description=item.get("AlarmDescription", "") or "",
                )
            )
        if not page.get("NextToken"):
            return sorted(alarms, key=lambda a: a.name)
        kwargs["NextToken"] = page["NextToken"]


def put_metric_data(cloudwatch: Any, *, namespace: str, data: Sequence[dict[str, Any]]) -> int:
    """Publish ``data`` (MetricDatum dicts) in calls of at most 1,000; returns the calls made."""
    calls = 0
    for first in range(0, len(data), MAX_DATUMS_PER_PUT):
        _call(
            cloudwatch.put_metric_data,
            Namespace=namespace,
            MetricData=list(data[first : first + MAX_DATUMS_PER_PUT]),
        )
        calls += 1
    return calls


def stack_physical_ids(cloudformation: Any, *, stack_name: str) -> dict[str, str]:
    """Logical id -> physical id of a live stack's resources (read by name, never by a
    deleted stack's id: the local cloud would revive it)."""
    ids: dict[str, str] = {}
    kwargs: dict[str, Any] = {"StackName": stack_name}
    while True:
        page = _call(cloudformation.list_stack_resources, **kwargs)
        for item in page.get("StackResourceSummaries") or []:
            if item.get("PhysicalResourceId"):
                ids[item["LogicalResourceId"]] = item["PhysicalResourceId"]
        if not page.get("NextToken"):
            return ids
        kwargs["NextToken"] = page["NextToken"]
