"""The composed templates, offline: cfn-lint clean, small enough, deterministic, stable ids,
stateful resources protected, encrypted, no password anywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provisioning import ladder
from provisioning.blueprints import (
    MAX_TEMPLATE_BYTES,
    capabilities,
    compose,
    network_template,
    render_json,
    stack_parameters,
)
from provisioning.blueprints.lint import IGNORED_RULES, lint
from provisioning.validation import SUPPORTED_REGIONS, ParameterValidationError

TIERS = [1, 2, 3, 4, 5]
STATEFUL = {"AWS::RDS::DBInstance", "AWS::ElastiCache::ReplicationGroup", "AWS::S3::Bucket"}
# Types the local cloud (moto 5.2) accepts in a template but never creates.
SKIPPED_BY_MOTO = {
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::S3::BucketPolicy",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::SubnetGroup",
    "AWS::AutoScaling::ScalingPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::SES::EmailIdentity",
}
ZONE = ".".join(["a" * 63, "b" * 63, "c" * 58]) + ".com"  # 190 characters


def largest(tier: int) -> dict[str, Any]:
    """Every parameter of the tier at its largest: the biggest template the tier can make."""
    values: dict[str, Any] = {}
    for p in ladder.parameters_for(tier):
        if p.kind == "int":
            values[p.name] = p.maximum
        elif p.kind == "bool":
            values[p.name] = True
        elif p.kind == "choice":
            values[p.name] = p.choices_for(tier)[-1]
    values.update(hosted_zone_name=ZONE, record_name="r" * 60)
    if tier == 5:
        values["alert_email"] = "a" * 60 + "@" + "example.com"
    return values


def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


CASES = [(tier, "defaults", {}) for tier in TIERS] + [(tier, "largest", None) for tier in TIERS]


@pytest.mark.parametrize(("tier", "label", "params"), CASES, ids=lambda v: str(v))
def test_cfn_lint_clean_and_small(tier, label, params):
    template = compose(tier, largest(tier) if params is None else params)
    assert lint(template, SUPPORTED_REGIONS) == []
    assert len(render_json(template).encode()) < MAX_TEMPLATE_BYTES


@pytest.mark.parametrize("region", SUPPORTED_REGIONS)
def test_network_template_lint_clean(region):
    template = network_template(region)
    assert lint(template, [region]) == []
    assert len(render_json(template).encode()) < MAX_TEMPLATE_BYTES
    zones = {p["Default"] for p in template["Parameters"].values()}
    assert zones == {f"{region}a", f"{region}b"}
    subnets = [r for r in resources(template).values() if r["Type"] == "AWS::EC2::Subnet"]
    assert len(subnets) == 4
    assert set(template["Outputs"]) >= {
        "VpcId", "PublicSubnetA", "PublicSubnetB", "PrivateSubnetA", "PrivateSubnetB",
    }  # fmt: skip


def test_lint_finds_problems_and_ignores_only_listed_rules():
    template = compose(2, {})
    template["Resources"]["Database"]["Properties"]["Bogus"] = 1
    assert any(line.startswith("E3002") for line in lint(template))
    assert all(reason for reason in IGNORED_RULES.values())


@pytest.mark.parametrize("tier", TIERS)
def test_rendering_is_deterministic(tier):
    params = largest(tier)
    first = render_json(compose(tier, params))
    assert render_json(compose(tier, dict(reversed(list(params.items()))))) == first
    assert json.loads(first) == compose(tier, params)
    assert render_json(network_template("us-east-1")) == render_json(network_template("us-east-1"))


def test_stable_logical_ids_across_tiers():
    shared = {
        "db_multi_az": True,
        "db_instance_class": "db.t4g.medium",
        "db_allocated_storage": 50,
        "instance_type": "t3.large",
        "web_max_size": 8,
    }
    at = {
        t: compose(
            t, {k: v for k, v in shared.items() if ladder.PARAMETERS_BY_NAME[k].applies_to(t)}
        )
        for t in TIERS
    }
    database = [resources(at[t])["Database"] for t in (2, 3, 4, 5)]
    assert all(db == database[0] for db in database)  # same id AND same properties: no update
    for lid in ("WebSecurityGroup", "WebInstanceRole", "WebInstanceProfile"):
        assert all(resources(at[t])[lid] == resources(at[1])[lid] for t in TIERS)
    assert resources(at[1])["WebInstance"] == resources(at[2])["WebInstance"]
    assert resources(at[1])["WebAddress"] == resources(at[2])["WebAddress"]
    for lid in ("LoadBalancer", "LoadBalancerSecurityGroup", "WebIngressFromLoadBalancer"):
        assert resources(at[3])[lid] == resources(at[4])[lid] == resources(at[5])[lid]
    for lid in ("WebAutoScalingGroup", "WebLaunchTemplate", "StaticBucket", "WebAsgTargetGroup"):
        assert resources(at[4])[lid] == resources(at[5])[lid]
    assert {"WebInstanceA", "WebInstanceB", "WebPairTargetGroup"} <= set(resources(at[3]))
    assert "WebInstance" not in resources(at[3]) and "WebInstanceA" not in resources(at[4])


def test_database_differs_between_tier_2_and_3_only_in_multi_az():
    two, three = resources(compose(2, {}))["Database"], resources(compose(3, {}))["Database"]
    changed = {k for k in two["Properties"] if two["Properties"][k] != three["Properties"][k]}
    assert changed <= {"MultiAZ", "DBInstanceClass"}  # both update in place on AWS


@pytest.mark.parametrize("tier", TIERS)
def test_stateful_resources_have_both_policies(tier):
    template = compose(tier, largest(tier))
    stateful = {lid: r for lid, r in resources(template).items() if r["Type"] in STATEFUL}
    assert stateful or tier == 1
    for lid, resource in stateful.items():
        assert resource.get("DeletionPolicy") and resource.get("UpdateReplacePolicy"), lid
        if "SourceDBInstanceIdentifier" in resource["Properties"]:
            assert resource["DeletionPolicy"] == "Delete"  # a replica holds no data of its own
        elif resource["Type"] == "AWS::S3::Bucket":
            assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
        else:
            assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Snapshot"


def walk(value: Any):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
    else:
        yield value


@pytest.mark.parametrize("tier", TIERS)
def test_no_password_anywhere(tier):
    template = compose(tier, largest(tier))
    mentions = [v for v in walk(template) if isinstance(v, str) and "password" in v.lower()]
    assert set(mentions) <= {"ManageMasterUserPassword"}
    for resource in resources(template).values():
        props = resource["Properties"]
        if resource["Type"] == "AWS::RDS::DBInstance" and "SourceDBInstanceIdentifier" not in props:
            assert props["ManageMasterUserPassword"] is True
            assert "MasterUserPassword" not in props
    assert not any("password" in name.lower() for name in template.get("Parameters", {}))


@pytest.mark.parametrize("tier", TIERS)
def test_encryption_at_rest_and_imdsv2(tier):
    template = compose(tier, largest(tier))
    for lid, resource in resources(template).items():
        kind, props = resource["Type"], resource["Properties"]
        if kind == "AWS::RDS::DBInstance" and "SourceDBInstanceIdentifier" not in props:
            assert props["StorageEncrypted"] is True, lid
        elif kind == "AWS::S3::Bucket":
            rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"], lid
        elif kind == "AWS::ElastiCache::ReplicationGroup":
            assert props["AtRestEncryptionEnabled"] is True, lid
            assert props["MultiAZEnabled"] is True and props["AutomaticFailoverEnabled"] is True
        elif kind == "AWS::SQS::Queue":
            assert props["SqsManagedSseEnabled"] is True, lid
        elif kind in ("AWS::EC2::Instance", "AWS::EC2::LaunchTemplate"):
            data = props.get("LaunchTemplateData", props)
            assert all(d["Ebs"]["Encrypted"] is True for d in data["BlockDeviceMappings"]), lid
            assert data["MetadataOptions"]["HttpTokens"] == "required", lid
            assert data["ImageId"] == {"Ref": "LatestAmiId"}
    if any(r["Type"] == "AWS::EC2::Instance" for r in resources(template).values()) or tier > 3:
        ami = template["Parameters"]["LatestAmiId"]
        assert ami["Type"] == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
        assert ami["Default"].startswith("/aws/service/ami-amazon-linux-latest/al2023")


def test_long_form_intrinsics_only():
    template = compose(5, largest(5))
    text = render_json(template)
    assert "!Ref" not in text and "!GetAtt" not in text and "!Sub" not in text
    getatts = list(_values(template, "Fn::GetAtt"))
    assert getatts and all(isinstance(g, list) and len(g) == 2 for g in getatts)


def _values(value: Any, key: str):
    if isinstance(value, dict):
        for k, item in value.items():
            if k == key:
                yield item
            yield from _values(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _values(item, key)


def test_security_groups_are_least_privilege():
    one, three = resources(compose(1, {})), resources(compose(3, {}))
    assert one["WebIngressHttp"]["Properties"]["CidrIp"] == "0.0.0.0/0"
    web_rules = [r for r in three.values() if r["Type"] == "AWS::EC2::SecurityGroupIngress"
                 and r["Properties"]["GroupId"]["Fn::GetAtt"][0] == "WebSecurityGroup"]  # fmt: skip
    assert len(web_rules) == 1
    assert web_rules[0]["Properties"]["SourceSecurityGroupId"] == {
        "Fn::GetAtt": ["LoadBalancerSecurityGroup", "GroupId"]
    }
    db_rule = three["DatabaseIngressFromWeb"]["Properties"]
    assert db_rule["FromPort"] == db_rule["ToPort"] == 5432
    assert db_rule["SourceSecurityGroupId"] == {"Fn::GetAtt": ["WebSecurityGroup", "GroupId"]}
    mysql = resources(compose(2, {"db_engine": "mysql"}))["DatabaseIngressFromWeb"]
    assert mysql["Properties"]["FromPort"] == 3306
    db = three["DatabaseSubnetGroup"]["Properties"]["SubnetIds"]
    assert db == [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}]
    assert three["Database"]["Properties"]["PubliclyAccessible"] is False


def test_tier_shapes():
    four = compose(4, {"web_min_size": 3, "web_max_size": 9})
    asg = resources(four)["WebAutoScalingGroup"]
    assert (asg["Properties"]["MinSize"], asg["Properties"]["MaxSize"]) == ("3", "9")
    policy = resources(four)["WebCpuScalingPolicy"]["Properties"]["TargetTrackingConfiguration"]
    assert policy["TargetValue"] == 70.0
    five = resources(compose(5, {}))
    queue = five["JobQueue"]["Properties"]["RedrivePolicy"]
    assert queue["deadLetterTargetArn"] == {"Fn::GetAtt": ["JobDeadLetterQueue", "Arn"]}
    assert five["DatabaseReadReplica"]["Properties"]["SourceDBInstanceIdentifier"] == {
        "Ref": "Database"
    }
    assert five["Cache"]["Properties"]["NumCacheClusters"] == 2
    assert "EmailIdentity" not in five  # nothing to send from without a zone or an address
    assert "EmailIdentity" in resources(compose(5, {"alert_email": "ops@example.com"}))


@pytest.mark.parametrize("tier", TIERS)
def test_outputs_for_consumers(tier):
    outputs = compose(tier, {})["Outputs"]
    assert "URL" in outputs
    expected = {
        1: {"WebInstanceId", "PublicIp"},
        2: {"WebInstanceId", "DatabaseEndpoint", "DatabaseInstanceId"},
        3: {"WebInstanceIds", "LoadBalancerArn", "LoadBalancerFullName", "TargetGroupArn"},
        4: {"StaticBucketName", "WebAutoScalingGroupName", "TargetGroupFullName"},
        5: {"QueueUrl", "CachePort", "DatabaseReplicaId", "AlertTopicArn", "DashboardName"},
    }[tier]
    assert expected <= set(outputs)


def test_dns_record_follows_the_tier():
    dns = {"hosted_zone_name": "example.com", "record_name": "shop"}
    one, three = compose(1, dns), compose(3, dns)
    record = resources(one)["DnsRecord"]["Properties"]
    assert record["Name"] == "shop.example.com" and record["ResourceRecords"] == [
        {"Ref": "WebAddress"}
    ]
    assert "AliasTarget" in resources(three)["DnsRecord"]["Properties"]
    assert one["Outputs"]["URL"]["Value"] == "http://shop.example.com"
    assert one["Parameters"]["HostedZoneId"]["Type"] == "AWS::Route53::HostedZone::Id"
    assert "DnsRecord" not in resources(compose(1, {}))


def test_parameters_are_declared_only_when_used_and_network_gives_defaults():
    one = compose(1, {})
    assert set(one["Parameters"]) == {"LatestAmiId", "VpcId", "PublicSubnetA"}
    network = {"VpcId": "vpc-1", "PublicSubnetA": "subnet-a", "PrivateSubnetA": "subnet-p"}
    with_defaults = compose(1, {}, network=network)
    assert with_defaults["Parameters"]["VpcId"]["Default"] == "vpc-1"
    assert "PrivateSubnetA" not in with_defaults["Parameters"]
    assert stack_parameters(with_defaults, {}) == []
    values = {"VpcId": "vpc-2", "PublicSubnetA": "s-1", "PrivateSubnetB": "s-9"}
    assert stack_parameters(one, values) == [
        {"ParameterKey": "PublicSubnetA", "ParameterValue": "s-1"},
        {"ParameterKey": "VpcId", "ParameterValue": "vpc-2"},
    ]
    with pytest.raises(ladder.LadderError):
        stack_parameters(one, {"VpcId": "vpc-2"})
    assert capabilities(one) == ["CAPABILITY_IAM"]
    assert capabilities(network_template("us-east-1")) == []


def test_compose_validates():
    with pytest.raises(ParameterValidationError):
        compose(1, {"db_engine": "mysql"})
    with pytest.raises(ladder.LadderError):
        compose(7, {})


@pytest.mark.parametrize("tier", TIERS)
def test_nothing_the_local_cloud_creates_refers_to_what_it_skips(tier):
    """moto fails a stack on a GetAtt of a skipped resource, and an output referring to one
    breaks DescribeStacks after a change set: only skipped resources may point at them."""
    template = compose(tier, largest(tier))
    skipped = {lid for lid, r in resources(template).items() if r["Type"] in SKIPPED_BY_MOTO}
    for lid, resource in resources(template).items():
        if resource["Type"] not in SKIPPED_BY_MOTO:
            assert not {g[0] for g in _values(resource, "Fn::GetAtt")} & skipped, lid
            assert not set(_values(resource, "Ref")) & skipped, lid
    assert not set(_values(template["Outputs"], "Ref")) & skipped
    assert not {g[0] for g in _values(template["Outputs"], "Fn::GetAtt")} & skipped
