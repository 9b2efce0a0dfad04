"""boto3 sessions and clients, made once per process and reused. No Django here: the
endpoint (local cloud or AWS) comes from boto3's own configuration chain (AWS_ENDPOINT_URL,
credentials, region), so there is one code path.

A new boto3 session loads botocore's data files again and each new client builds its
service model: ~50 ms of CPU a client, paid before every call when nothing is kept (it was
most of /healthz and of the worker's start on a change). Sessions are kept per region and
credential source; a session on an assumed role until five minutes before its credentials
expire; clients per session, service and config. What boto3's chain reads from the
environment is part of the key, so a changed endpoint or profile gets fresh ones.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any

import boto3
from botocore.config import Config

DEFAULT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=30,
    retries={"max_attempts": 5, "mode": "adaptive"},
)
PROBE_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 1})
# What boto3's chain reads from the environment when it makes a session or a client.
CHAIN_ENVIRONMENT = (
    "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)  # fmt: skip

_lock = threading.RLock()  # boto3 sessions are not safe to share while making clients
_sessions: dict[Hashable, tuple[boto3.session.Session, float]] = {}
_clients: weakref.WeakKeyDictionary[boto3.session.Session, dict[Hashable, Any]] = (
    weakref.WeakKeyDictionary()
)


def _chain() -> tuple[str, ...]:
    return tuple(os.environ.get(name, "") for name in CHAIN_ENVIRONMENT)


def reset() -> None:
    """Forget every kept session and client (tests that swap the cloud under a process)."""
    with _lock:
        _sessions.clear()
        _clients.clear()


def cached_session(
    key: Hashable, make: Callable[[], tuple[boto3.session.Session, float]]
) -> boto3.session.Session:
    """The session kept under ``key``, or ``make()``'s (session, expires at epoch seconds)."""
    full_key = (key, _chain())
    with _lock:
        kept = _sessions.get(full_key)
        if kept and kept[1] > time.time():
            return kept[0]
    session, expires = make()  # may call AWS (AssumeRole): not under the lock
    with _lock:
        _sessions[full_key] = (session, expires)
    return session


def default_session(region: str) -> boto3.session.Session:
    """The standard credential chain's session for a region."""
    return cached_session(
        ("default", region), lambda: (boto3.session.Session(region_name=region), float("inf"))
    )


def session_client(session: boto3.session.Session, service: str, config: Config) -> Any:
    """The session's client for a service and config, made once (clients are thread-safe)."""
    with _lock:
        kept = _clients.setdefault(session, {})
        key = (service, config)  # by identity; kept alive with the client
        if key not in kept:
            kept[key] = session.client(service, config=config)
        return kept[key]


def client(service: str, *, region: str, config: Config | None = None) -> Any:
    return session_client(default_session(region), service, config or DEFAULT_CONFIG)


def caller_identity(*, region: str) -> dict[str, str]:
    """Who the cloud says we are; raises when the endpoint does not answer."""
    answer = client("sts", region=region, config=PROBE_CONFIG).get_caller_identity()
    return {"account": answer["Account"], "arn": answer["Arn"]}
