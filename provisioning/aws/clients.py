"""boto3 clients. No Django here: the endpoint (local cloud or AWS) comes from boto3's own
configuration chain (AWS_ENDPOINT_URL, credentials, region), so there is one code path."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

DEFAULT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=30,
    retries={"max_attempts": 5, "mode": "adaptive"},
)
PROBE_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 1})


def client(service: str, *, region: str, config: Config | None = None) -> Any:
    return boto3.session.Session().client(
        service, region_name=region, config=config or DEFAULT_CONFIG
    )


def caller_identity(*, region: str) -> dict[str, str]:
    """Who the cloud says we are; raises when the endpoint does not answer."""
    answer = client("sts", region=region, config=PROBE_CONFIG).get_caller_identity()
    return {"account": answer["Account"], "arn": answer["Arn"]}
