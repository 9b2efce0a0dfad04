"""The composed templates on the local cloud (in-process moto): every tier creates, and every
adjacent move up and down applies as a change set, with resources really present in the
service APIs and the database keeping its physical id.

What moto does not do is worked around here, never in the templates (LOCALCLOUD.md):
- It skips CloudFront, ElastiCache, scaling policies, alarms, SES and bucket policies, so
  those are checked offline in test_blueprints.py.
- Changing any property of an RDS instance drops it from the stack, so the database keeps the
  same properties through every move here (Multi-AZ on from tier 2; on AWS the tier 2 -> 3
  Multi-AZ switch is an in-place update).
- A logical id removed and later re-added in the same stack comes back as the deleted
  resource, so each move runs on a fresh stack created at the tier it starts from.
- Executing an UPDATE change set leaves the old template's Outputs: a no-op update_stack
  after it recomputes them.
- A target group's Targets are ignored: tier 3's registration is checked in the template.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provisioning import ladder
from provisioning.blueprints import capabilities, compose, network_template, render_json
from provisioning.blueprints import stack_parameters as parameters_for
from provisioning.validation import params_for_move, validate_parameters
from tests.provisioning.test_blueprints import SKIPPED_BY_MOTO

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning"),
    pytest.mark.filterwarnings("ignore:Unable to delete:UserWarning"),
]

REGION = "us-east-1"
ZONE = "ladder-test.example.com"
# Sizes every tier from 2 up offers, so the database's properties never change on a move.
WANTED = {
    "instance_type": "t3.medium",
    "db_instance_class": "db.t4g.medium",
    "db_allocated_storage": 50,
    "db_multi_az": True,
    "hosted_zone_name": ZONE,
    "alert_email": "ops@example.com",
}
ADJACENT = [(1, 2), (2, 1), (2, 3), (3, 2), (3, 4), (4, 3), (4, 5), (5, 4)]
_names = itertools.count(1)


def params(tier: int, record: str) -> dict[str, Any]:
    """The tier's parameters; each stack gets its own DNS record in the shared zone."""
    wanted = {k: v for k, v in WANTED.items() if ladder.PARAMETERS_BY_NAME[k].applies_to(tier)}
    return validate_parameters(tier, {**wanted, "record_name": record})


def new_name() -> str:
    return f"env{next(_names)}"


@dataclass
class Cloud:
    network: dict[str, str]  # network stack outputs + HostedZoneId: the template parameter values

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def stack(self, name: str) -> tuple[dict[str, str], dict[str, str]]:
        """(logical id -> physical id, output key -> value) of a live stack."""
        cfn = self.client("cloudformation")
        summaries = cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
        described = cfn.describe_stacks(StackName=name)["Stacks"][0]
        assert described["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        return {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries}, outputs

    def create(self, name: str, tier: int, values: dict[str, Any]) -> None:
        template = compose(tier, values)
        self.client("cloudformation").create_stack(
            StackName=name,
            TemplateBody=render_json(template),
            Parameters=parameters_for(template, self.network),
            Capabilities=capabilities(template),
        )

    def move(self, name: str, tier: int, values: dict[str, Any]) -> list[tuple[str, str]]:
        """Apply the move as a change set; returns its (action, logical id) pairs."""
        cfn = self.client("cloudformation")
        template = compose(tier, values)
        change_set = cfn.create_change_set(
            StackName=name,
            ChangeSetName=f"to-tier-{tier}",
            ChangeSetType="UPDATE",
            TemplateBody=render_json(template),
            Parameters=parameters_for(template, self.network),
            Capabilities=capabilities(template),
        )
        described = cfn.describe_change_set(ChangeSetName=change_set["Id"], StackName=name)
        changes = [
            (c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"])
            for c in described["Changes"]
        ]
        cfn.execute_change_set(ChangeSetName=change_set["Id"], StackName=name)
        # moto keeps the old template's Outputs after a change set; a no-op update_stack
        # recomputes them (and must change nothing).
        resources, _ = self.stack(name)
        cfn.update_stack(
            StackName=name,
            TemplateBody=render_json(template),
            Parameters=parameters_for(template, self.network),
            Capabilities=capabilities(template),
        )
        assert self.stack(name)[0] == resources
        return changes


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    with pytest.MonkeyPatch.context() as patch:
        # mock_aws does not intercept clients that have an endpoint URL.
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        with mock_aws():
            cfn = boto3.client("cloudformation", region_name=REGION)
            cfn.create_stack(StackName="ladder-team-network", TemplateBody=render_json(
                network_template(REGION)
            ))  # fmt: skip
            stack = cfn.describe_stacks(StackName="ladder-team-network")["Stacks"][0]
            network = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
            zone = boto3.client("route53").create_hosted_zone(Name=ZONE, CallerReference="t")
            network["HostedZoneId"] = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
            yield Cloud(network)


def test_network_stack(cloud):
    ec2 = cloud.client("ec2")
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [cloud.network["VpcId"]]}])
    by_id = {s["SubnetId"]: s for s in subnets["Subnets"]}
    public = [by_id[cloud.network[k]] for k in ("PublicSubnetA", "PublicSubnetB")]
    private = [by_id[cloud.network[k]] for k in ("PrivateSubnetA", "PrivateSubnetB")]
    assert {s["AvailabilityZone"] for s in public} == {"us-east-1a", "us-east-1b"}
    assert {s["AvailabilityZone"] for s in private} == {"us-east-1a", "us-east-1b"}
    # moto ignores MapPublicIpOnLaunch and does not list subnet associations: check the route
    vpc = [{"Name": "vpc-id", "Values": [cloud.network["VpcId"]]}]
    routes = [r for t in ec2.describe_route_tables(Filters=vpc)["RouteTables"] for r in t["Routes"]]
    (default,) = [r for r in routes if r["DestinationCidrBlock"] == "0.0.0.0/0"]
    gateways = ec2.describe_internet_gateways(InternetGatewayIds=[default["GatewayId"]])
    attached = gateways["InternetGateways"][0]["Attachments"]
    assert attached == [{"State": "available", "VpcId": cloud.network["VpcId"]}]


# --- what each tier must have in the service APIs ------------------------------------------


def running(cloud: Cloud, ids: list[str]) -> list[dict[str, Any]]:
    pages = cloud.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    instances = [i for page in pages for i in page["Instances"]]
    assert [i["State"]["Name"] for i in instances] == ["running"] * len(ids)
    return instances


def registered(cloud: Cloud, target_group_arn: str) -> set[str]:
    health = cloud.client("elbv2").describe_target_health(TargetGroupArn=target_group_arn)
    return {t["Target"]["Id"] for t in health["TargetHealthDescriptions"]}


def group_instances(cloud: Cloud, name: str) -> list[str]:
    groups = cloud.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    return [i["InstanceId"] for i in groups["AutoScalingGroups"][0]["Instances"]]


def dns_answer(cloud: Cloud, fqdn: str) -> dict[str, Any]:
    records = cloud.client("route53").list_resource_record_sets(
        HostedZoneId=cloud.network["HostedZoneId"]
    )["ResourceRecordSets"]
    return next(r for r in records if r["Name"].rstrip(".") == fqdn and r["Type"] == "A")


def check_tier(cloud: Cloud, name: str, tier: int, values: dict[str, Any]) -> dict[str, str]:
    """Assert the stack ``name`` really is ``tier`` with ``values``; returns its resources."""
    res, out = cloud.stack(name)
    fqdn = f"{values['record_name']}.{ZONE}"
    supported_missing = {
        lid
        for lid, r in compose(tier, values)["Resources"].items()
        if lid not in res and r["Type"] not in SKIPPED_BY_MOTO
    }
    assert not supported_missing
    assert out["URL"] == f"http://{fqdn}"
    if tier <= 2:
        (instance,) = running(cloud, [res["WebInstance"]])
        addresses = cloud.client("ec2").describe_addresses(PublicIps=[out["PublicIp"]])
        assert addresses["Addresses"][0]["InstanceId"] == instance["InstanceId"]
        assert dns_answer(cloud, fqdn)["ResourceRecords"] == [{"Value": out["PublicIp"]}]
    else:
        lb = cloud.client("elbv2").describe_load_balancers(
            LoadBalancerArns=[out["LoadBalancerArn"]]
        )
        assert lb["LoadBalancers"][0]["DNSName"] == out["LoadBalancerDnsName"]
        assert out["LoadBalancerFullName"].startswith("app/")
        assert (
            dns_answer(cloud, fqdn)["AliasTarget"]["DNSName"].rstrip(".")
            == out["LoadBalancerDnsName"]
        )
    if tier >= 2:
        db = cloud.client("rds").describe_db_instances(DBInstanceIdentifier=res["Database"])
        instance = db["DBInstances"][0]
        assert instance["Engine"] == "postgres" and instance["StorageEncrypted"] is True
        subnets = {s["SubnetIdentifier"] for s in instance["DBSubnetGroup"]["Subnets"]}
        assert subnets == {cloud.network["PrivateSubnetA"], cloud.network["PrivateSubnetB"]}
        assert out["DatabaseInstanceId"] == res["Database"]
    if tier == 3:
        pair = running(cloud, [res["WebInstanceA"], res["WebInstanceB"]])
        assert len({i["Placement"]["AvailabilityZone"] for i in pair}) == 2
        # moto ignores a target group's Targets: check the group, and the template registers
        # exactly this pair (test_blueprints checks the rest offline).
        groups = cloud.client("elbv2").describe_target_groups(
            TargetGroupArns=[out["TargetGroupArn"]]
        )
        assert groups["TargetGroups"][0]["VpcId"] == cloud.network["VpcId"]
        targets = compose(tier, values)["Resources"]["WebPairTargetGroup"]["Properties"]["Targets"]
        assert [t["Id"] for t in targets] == [{"Ref": "WebInstanceA"}, {"Ref": "WebInstanceB"}]
    if tier >= 4:
        web = group_instances(cloud, out["WebAutoScalingGroupName"])
        assert len(web) == values["web_min_size"]
        running(cloud, web)
        assert set(web) <= registered(cloud, out["TargetGroupArn"])
        listener = cloud.client("elbv2").describe_listeners(ListenerArns=[out["ListenerArn"]])
        action = listener["Listeners"][0]["DefaultActions"][0]
        assert action["TargetGroupArn"] == out["TargetGroupArn"]
        encryption = cloud.client("s3").get_bucket_encryption(Bucket=out["StaticBucketName"])
        assert encryption["ServerSideEncryptionConfiguration"]["Rules"]
    if tier == 5:
        check_tier_5(cloud, res, out, values)
    return res


def check_tier_5(
    cloud: Cloud, res: dict[str, str], out: dict[str, str], values: dict[str, Any]
) -> None:
    sqs = cloud.client("sqs")
    queue = sqs.get_queue_attributes(QueueUrl=out["QueueUrl"], AttributeNames=["All"])
    dlq = sqs.get_queue_attributes(QueueUrl=out["DeadLetterQueueUrl"], AttributeNames=["All"])
    redrive = json.loads(queue["Attributes"]["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq["Attributes"]["QueueArn"]
    workers = group_instances(cloud, out["WorkerAutoScalingGroupName"])
    assert len(workers) == values["worker_min_size"]
    running(cloud, workers)
    replica = cloud.client("rds").describe_db_instances(
        DBInstanceIdentifier=out["DatabaseReplicaId"]
    )
    source = replica["DBInstances"][0]["ReadReplicaSourceDBInstanceIdentifier"]
    assert source.rsplit(":", 1)[-1] == res["Database"]
    assert cloud.client("cloudwatch").get_dashboard(DashboardName=out["DashboardName"])
    topic = cloud.client("sns").get_topic_attributes(TopicArn=out["AlertTopicArn"])
    assert topic["Attributes"]["TopicArn"] == out["AlertTopicArn"]


# --- creating each tier, and every adjacent move --------------------------------------------


@pytest.mark.parametrize("tier", [1, 2, 3, 4, 5])
def test_each_tier_creates(cloud, tier):
    name = new_name()
    values = params(tier, record=name)
    cloud.create(name, tier, values)
    check_tier(cloud, name, tier, values)


@pytest.mark.parametrize(("frm", "to"), ADJACENT, ids=[f"{a}to{b}" for a, b in ADJACENT])
def test_adjacent_move_as_change_set(cloud, frm, to):
    name = new_name()
    current = params(frm, record=name)
    cloud.create(name, frm, current)
    before = check_tier(cloud, name, frm, current)
    target = params(to, record=name)
    assert params_for_move(current, to).items() >= {"instance_type": "t3.medium"}.items()
    changes = cloud.move(name, to, target)

    after = check_tier(cloud, name, to, target)
    gone = set(compose(frm, current)["Resources"]) - set(compose(to, target)["Resources"])
    assert {lid for action, lid in changes if action == "Remove"} == gone
    assert not gone & set(after)
    if min(frm, to) >= 2:
        assert after["Database"] == before["Database"]
        assert ("Modify", "Database") not in changes
    if to == 1:
        rds = cloud.client("rds")
        remaining = [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]]
        assert before["Database"] not in remaining
