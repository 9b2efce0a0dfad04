"""Pieces the web components share: the web security group, instance role, instance settings.

These keep one logical id from tier 1 to tier 5 (and identical properties), so a move along the
ladder never replaces them: whichever web component runs first adds them.
"""

from __future__ import annotations

from typing import Any

from provisioning.blueprints.base import (
    Context,
    Json,
    Template,
    arn_resource,
    get_att,
    name_tag,
    ref,
    sub,
    user_data,
)

WEB_SECURITY_GROUP = "WebSecurityGroup"
WEB_ROLE = "WebInstanceRole"
WEB_PROFILE = "WebInstanceProfile"
WEB_PORT = 80

WEB_USER_DATA = """#!/bin/bash
set -euo pipefail
dnf install -y nginx
systemctl enable --now nginx
"""

_MANAGED_POLICIES = ("AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy")


def security_group(t: Template, logical_id: str, description: str, suffix: str) -> Json:
    """A security group without inline rules: rules are separate resources, so adding one at a
    higher tier never modifies (or, for a description change, replaces) the group."""
    if logical_id not in t.resources:
        t.resource(
            logical_id,
            "AWS::EC2::SecurityGroup",
            {
                "GroupDescription": description,
                "VpcId": t.network_ref("VpcId"),
                "Tags": name_tag(suffix),
            },
        )
    return get_att(logical_id, "GroupId")


def ingress(
    t: Template, logical_id: str, group: str, port: int, description: str, **source: Any
) -> None:
    """An ingress rule on ``group``; ``source`` is CidrIp=... or SourceSecurityGroupId=...."""
    t.resource(
        logical_id,
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": get_att(group, "GroupId"),
            "IpProtocol": "tcp",
            "FromPort": port,
            "ToPort": port,
            "Description": description,
            **source,
        },
    )


def web_security_group(t: Template) -> Json:
    return security_group(t, WEB_SECURITY_GROUP, "Web servers", "web")


def instance_role(t: Template, role: str, profile: str, policies: list[Json] | None = None) -> None:
    """An EC2 role reachable through Session Manager (no SSH, no key pair) plus its profile."""
    if role in t.resources:
        return
    properties: Json = {
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        "ManagedPolicyArns": [
            sub(f"arn:${{AWS::Partition}}:iam::aws:policy/{name}") for name in _MANAGED_POLICIES
        ],
    }
    if policies:
        properties["Policies"] = policies
    t.resource(role, "AWS::IAM::Role", properties)
    t.resource(profile, "AWS::IAM::InstanceProfile", {"Roles": [ref(role)]})


def web_role(t: Template) -> None:
    instance_role(t, WEB_ROLE, WEB_PROFILE)


def role_policy(t: Template, logical_id: str, name: str, role: str, statements: list[Json]) -> None:
    t.resource(
        logical_id,
        "AWS::IAM::Policy",
        {
            "PolicyName": name,
            "Roles": [ref(role)],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
        },
    )


def metadata_options() -> Json:
    """IMDSv2 only: a stolen SSRF GET cannot read the role's credentials."""
    return {"HttpEndpoint": "enabled", "HttpTokens": "required", "HttpPutResponseHopLimit": 1}


def block_devices() -> list[Json]:
    return [
        {
            "DeviceName": "/dev/xvda",
            "Ebs": {
                "VolumeSize": 20,
                "VolumeType": "gp3",
                "Encrypted": True,
                "DeleteOnTermination": True,
            },
        }
    ]


def web_instance(t: Template, ctx: Context, logical_id: str, subnet: str, suffix: str) -> None:
    """A fixed web instance (tiers 1-3): same settings as the Auto Scaling launch template."""
    group = web_security_group(t)
    web_role(t)
    t.resource(
        logical_id,
        "AWS::EC2::Instance",
        {
            "ImageId": t.ami_ref(),
            "InstanceType": ctx.params["instance_type"],
            "SubnetId": t.network_ref(subnet),
            "SecurityGroupIds": [group],
            "IamInstanceProfile": ref(WEB_PROFILE),
            "MetadataOptions": metadata_options(),
            "BlockDeviceMappings": block_devices(),
            "UserData": user_data(WEB_USER_DATA),
            "Tags": name_tag(suffix),
        },
    )


def launch_template(
    t: Template,
    logical_id: str,
    *,
    instance_type: str,
    profile: str,
    group: Json,
    script: str,
    suffix: str,
) -> Json:
    """A launch template with the fixed instances' settings; returns the ASG's reference."""
    tags = name_tag(suffix)
    t.resource(
        logical_id,
        "AWS::EC2::LaunchTemplate",
        {
            "LaunchTemplateData": {
                "ImageId": t.ami_ref(),
                "InstanceType": instance_type,
                "IamInstanceProfile": {"Name": ref(profile)},
                "SecurityGroupIds": [group],
                "MetadataOptions": metadata_options(),
                "BlockDeviceMappings": block_devices(),
                "UserData": user_data(script),
                "TagSpecifications": [
                    {"ResourceType": "instance", "Tags": tags},
                    {"ResourceType": "volume", "Tags": tags},
                ],
            }
        },
    )
    return {
        "LaunchTemplateId": ref(logical_id),
        "Version": get_att(logical_id, "LatestVersionNumber"),
    }


def target_group(t: Template, logical_id: str, targets: list[Json] | None = None) -> None:
    """The web fleet's target group; each web component owns its own (see web_asg)."""
    properties: Json = {
        "VpcId": t.network_ref("VpcId"),
        "Port": WEB_PORT,
        "Protocol": "HTTP",
        "TargetType": "instance",
        "HealthCheckPath": "/",
        "HealthCheckIntervalSeconds": 15,
        "HealthyThresholdCount": 2,
        "UnhealthyThresholdCount": 3,
        "Matcher": {"HttpCode": "200-399"},
        "TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
    }
    if targets:
        properties["Targets"] = targets
    t.resource(logical_id, "AWS::ElasticLoadBalancingV2::TargetGroup", properties)
    t.output("TargetGroupArn", ref(logical_id), "Web target group ARN")
    t.output(
        "TargetGroupFullName", arn_resource(ref(logical_id)), "CloudWatch TargetGroup dimension"
    )


def database_arn() -> Json:
    return sub("arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:${Database}")


def database_secret_statement() -> Json:
    """Read the RDS-managed master secret of this stack's database, and no other."""
    return {
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        "Resource": sub(
            "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:rds!db-*"
        ),
        "Condition": {
            "StringEquals": {
                "secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn": database_arn()
            }
        },
    }
