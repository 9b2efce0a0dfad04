"""load_balancer (tiers 3-5): an internet-facing ALB in both public subnets; the web servers
accept HTTP from it only."""

from __future__ import annotations

from provisioning.blueprints import common, web_asg, web_pair
from provisioning.blueprints.base import (
    Context,
    Template,
    arn_resource,
    get_att,
    join,
    name_tag,
    ref,
    select,
    split,
)


def target_group_id(ctx: Context) -> str:
    return web_pair.TARGET_GROUP if ctx.uses("web_pair") else web_asg.TARGET_GROUP


def load_balancer_full_name() -> dict[str, object]:
    """``app/<name>/<id>``, the CloudWatch dimension, cut from the ARN (the local cloud has no
    LoadBalancerFullName attribute)."""
    parts = split("/", arn_resource(ref("LoadBalancer")))
    return join("/", [select(1, parts), select(2, parts), select(3, parts)])


def build(t: Template, ctx: Context) -> None:
    t.resource(
        "LoadBalancerSecurityGroup",
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": "Load balancer",
            "VpcId": t.network_ref("VpcId"),
            "SecurityGroupIngress": [
                {
                    "IpProtocol": "tcp",
                    "FromPort": common.WEB_PORT,
                    "ToPort": common.WEB_PORT,
                    "CidrIp": "0.0.0.0/0",
                    "Description": "HTTP from anywhere",
                }
            ],
            "Tags": name_tag("alb"),
        },
    )
    common.web_security_group(t)
    common.ingress(
        t,
        "WebIngressFromLoadBalancer",
        common.WEB_SECURITY_GROUP,
        common.WEB_PORT,
        "HTTP from the load balancer only",
        SourceSecurityGroupId=get_att("LoadBalancerSecurityGroup", "GroupId"),
    )
    t.resource(
        "LoadBalancer",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "Type": "application",
            "Scheme": "internet-facing",
            "Subnets": [t.network_ref("PublicSubnetA"), t.network_ref("PublicSubnetB")],
            "SecurityGroups": [get_att("LoadBalancerSecurityGroup", "GroupId")],
            "LoadBalancerAttributes": [
                {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}
            ],
            "Tags": name_tag("alb"),
        },
    )
    t.resource(
        "HttpListener",
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "LoadBalancerArn": ref("LoadBalancer"),
            "Port": common.WEB_PORT,
            "Protocol": "HTTP",
            "DefaultActions": [{"Type": "forward", "TargetGroupArn": ref(target_group_id(ctx))}],
        },
    )
    dns_name = get_att("LoadBalancer", "DNSName")
    t.output("LoadBalancerArn", ref("LoadBalancer"), "Load balancer ARN")
    t.output("LoadBalancerFullName", load_balancer_full_name(), "CloudWatch LoadBalancer dimension")
    t.output("LoadBalancerDnsName", dns_name, "Load balancer DNS name")
    t.output("ListenerArn", ref("HttpListener"), "HTTP listener ARN")
    t.output("URL", join("", ["http://", dns_name]), "Address of the site")
