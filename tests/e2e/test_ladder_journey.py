"""The whole ladder with real Celery worker and beat processes and a moto server: create at
tier 1, climb to 5, come back down to 1, decommission. Approvals by carol where policy asks."""

from __future__ import annotations

import sys
from urllib.parse import quote

import boto3
import pytest
from django.db import connection

from provisioning import services
from provisioning.blueprints import compose
from provisioning.models import ChangeRequest, Environment
from provisioning.roles import APPROVERS
from tests.conftest import free_port, wait_for
from worker.celery import app as celery_app

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420), pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-test-password-1"
# The local cloud completes these without creating them (LOCALCLOUD.md, measured with moto
# 5.2.5: "No Moto CloudFormation support for ..."). AWS creates them.
SKIPPED_BY_LOCAL_CLOUD = {
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::SubnetGroup",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::S3::BucketPolicy",
    "AWS::AutoScaling::ScalingPolicy",
    "AWS::CloudWatch::Alarm",
}


def database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "postgres") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def stack(processes, child_env, embedded_redis, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("worker processes share the test database only on PostgreSQL (make test)")
    cloud_port = free_port()
    endpoint = f"http://127.0.0.1:{cloud_port}"
    env = {
        **child_env,
        "DATABASE_URL": database_url(),
        "REDIS_URL": embedded_redis.url,
        "PORTAL_CLOUD": "local",
        "LOCAL_CLOUD_PORT": str(cloud_port),
        "SWEEP_SECONDS": "2",
        "NOTIFICATION_DRAIN_SECONDS": "0.5",
        "RECONCILE_SECONDS": "5",
        "RECONCILE_AFTER_SECONDS": "10",
    }
    processes.start(
        [sys.executable, "-m", "worker.localcloud", "--port", str(cloud_port)],
        env=env,
        name="cloud",
    )
    wait_for(lambda: _answers(endpoint), timeout=30)
    common = ["-A", "worker.celery"]
    processes.start(
        [sys.executable, "-m", "celery", *common, "worker", "--queues", "provisioning,default",
         "--concurrency", "1", "--hostname", "journey@%h", "--without-gossip", "--without-mingle"],
        env=env, name="worker",
    )  # fmt: skip
    processes.start(
        [sys.executable, "-m", "celery", *common, "beat", "--schedule", f"{child_env['PORTAL_STATE_DIR']}/beat"],
        env=env, name="beat",
    )  # fmt: skip
    # This process enqueues (services ring on commit) to the same Redis as the worker.
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    previous = celery_app.conf.broker_url, celery_app.conf.result_backend
    celery_app.close()
    celery_app.conf.broker_url = celery_app.conf.result_backend = embedded_redis.url
    celery_app.amqp._producer_pool = None
    yield endpoint
    celery_app.close()
    celery_app.conf.broker_url, celery_app.conf.result_backend = previous
    celery_app.amqp._producer_pool = None


def _answers(endpoint: str) -> bool:
    import urllib.request

    try:
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
        return True
    except OSError:
        return False


def settle(
    change: ChangeRequest,
    processes,
    *,
    until=frozenset(ChangeRequest.TERMINAL | {"awaiting_approval"}),
):
    def done():
        change.refresh_from_db()
        return change.status in until

    try:
        wait_for(done, timeout=90, interval=0.2)
    except AssertionError:
        logs = "\n".join(processes.log(p)[-3000:] for p, _ in processes.children)
        raise AssertionError(f"change {change.pk} stuck in {change.status}\n{logs}") from None
    return change


def stack_logical_ids(endpoint: str, stack_name: str) -> set[str]:
    cfn = boto3.client("cloudformation", region_name="us-east-1", endpoint_url=endpoint)
    resources = cfn.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    # moto lists one nameless entry at tier 5 (none on AWS)
    return {r["LogicalResourceId"] for r in resources} - {""}


def expected_logical_ids(env: Environment) -> set[str]:
    template = compose(env.tier, dict(env.parameters))
    return {
        lid for lid, r in template["Resources"].items() if r["Type"] not in SKIPPED_BY_LOCAL_CLOUD
    }


def test_climb_the_ladder_and_come_back_down(stack, processes):
    web = services.team_ensure(slug="web", name="Web")
    alice, _ = services.user_ensure(username="alice", password=PASSWORD)
    carol, _ = services.user_ensure(username="carol", password=PASSWORD, groups=(APPROVERS,))
    services.membership_ensure(team=web, user=alice)

    change = services.environment_request(
        user=alice, team=web, name="shop", tier=1, region="us-east-1"
    )
    assert settle(change, processes).status == "applied", change.explanation
    env = Environment.objects.get(pk=change.environment_id)
    assert env.status == "ready" and env.tier == 1 and env.outputs
    assert stack_logical_ids(stack, env.stack_name) == expected_logical_ids(env)

    database_id = None
    for tier in (2, 3, 4, 5, 4, 3, 2, 1):
        move = services.change_request(user=alice, environment=env, tier=tier, confirm="shop")
        settle(move, processes)
        if move.status == "awaiting_approval":
            services.change_approve(user=carol, change=move, note="ok")
            settle(move, processes)
        assert move.status == "applied", (tier, move.status, move.explanation)
        env.refresh_from_db()
        assert env.status == "ready" and env.tier == tier
        assert stack_logical_ids(stack, env.stack_name) == expected_logical_ids(env), tier
        if tier >= 2:
            rds = boto3.client("rds", region_name="us-east-1", endpoint_url=stack)
            ids = {d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]
                   if not d.get("ReadReplicaSourceDBInstanceIdentifier")}  # fmt: skip
            database_id = database_id or ids
            assert ids == database_id, f"the database changed at tier {tier}"

    gone = services.environment_decommission(user=alice, environment=env, confirm="shop")
    settle(gone, processes)
    if gone.status == "awaiting_approval":
        services.change_approve(user=carol, change=gone)
        settle(gone, processes)
    assert gone.status == "applied", gone.explanation
    env.refresh_from_db()
    assert env.status == "decommissioned" and env.decommissioned_at is not None
    kinds = list(env.changes.order_by("created_at").values_list("kind", flat=True))
    assert kinds == ["create", *["upgrade"] * 4, *["downgrade"] * 4, "decommission"]
