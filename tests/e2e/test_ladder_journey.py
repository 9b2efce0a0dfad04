"""The whole ladder with real Celery worker and beat processes and a moto server: create at
tier 1, climb to 5, come back down to 1, decommission. Approvals by carol where policy asks."""

from __future__ import annotations

import boto3
import pytest

from provisioning import services
from provisioning.blueprints import compose
from provisioning.models import ChangeRequest, Environment
from provisioning.roles import APPROVERS
from tests.conftest import wait_for

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
