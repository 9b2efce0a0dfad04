"""Sessions and clients are kept per process: made once, remade when the chain changes or an
assumed role's credentials are about to expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from provisioning.aws import clients
from provisioning.aws.cloudformation import ROLE_SESSION_MARGIN_SECONDS, session_for


@pytest.fixture
def chain(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    return monkeypatch


def test_a_client_is_made_once_per_service_region_and_config(chain):
    first = clients.client("cloudformation", region="us-east-1")
    assert clients.client("cloudformation", region="us-east-1") is first
    assert clients.client("cloudformation", region="eu-west-1") is not first
    assert (
        clients.client("cloudformation", region="us-east-1", config=clients.PROBE_CONFIG)
        is not first
    )
    assert clients.client("sqs", region="us-east-1") is not first


def test_a_changed_endpoint_gets_a_new_session_and_client(chain):
    first = clients.client("sts", region="us-east-1")
    chain.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:10")
    second = clients.client("sts", region="us-east-1")
    assert second is not first
    assert second.meta.endpoint_url == "http://127.0.0.1:10"


def test_reset_forgets_everything(chain):
    first = clients.client("sts", region="us-east-1")
    clients.reset()
    assert clients.client("sts", region="us-east-1") is not first


class FakeSts:
    def __init__(self, expires_in: timedelta) -> None:
        self.calls = 0
        self.expires_in = expires_in

    def assume_role(self, **kwargs):
        self.calls += 1
        return {
            "Credentials": {
                "AccessKeyId": f"AKIA{self.calls}",
                "SecretAccessKey": "secret",
                "SessionToken": "token",
                "Expiration": datetime.now(UTC) + self.expires_in,
            }
        }


@pytest.mark.parametrize(
    ("expires_in", "assumed"),
    [(timedelta(hours=1), 1), (timedelta(seconds=ROLE_SESSION_MARGIN_SECONDS - 10), 2)],
)
def test_an_assumed_role_is_kept_until_near_its_expiry(chain, expires_in, assumed):
    sts = FakeSts(expires_in)
    chain.setattr(clients, "client", lambda service, **kwargs: sts)
    role = {"region": "us-east-1", "role_arn": "arn:aws:iam::111111111111:role/x"}
    first = session_for(**role)
    again = session_for(**role)
    assert sts.calls == assumed
    assert isinstance(first, boto3.session.Session)
    assert (again is first) == (assumed == 1)
    assert session_for(**role, external_id="other") is not again  # another key
