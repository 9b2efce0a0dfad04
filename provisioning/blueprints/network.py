"""The team network stack, one per team and region: a VPC with two public and two private
subnets in two AZs, an internet gateway and route tables.

Private subnets have no route out (no NAT gateway): they hold only the database and cache.
CIDRs are literal (the local cloud has no Fn::Cidr); AZs are parameters defaulting to the
region's "a" and "b" (the local cloud's Fn::GetAZs always answers us-east-1).
"""

from __future__ import annotations

from typing import Any

from provisioning.blueprints.base import Json, Template, get_att, name_tag, ref

VPC_CIDR = "10.0.0.0/16"
SUBNETS: dict[str, tuple[str, str, bool]] = {
    # logical id: (CIDR, AZ parameter, public)
    "PublicSubnetA": ("10.0.0.0/20", "AvailabilityZoneA", True),
    "PublicSubnetB": ("10.0.16.0/20", "AvailabilityZoneB", True),
    "PrivateSubnetA": ("10.0.128.0/20", "AvailabilityZoneA", False),
    "PrivateSubnetB": ("10.0.144.0/20", "AvailabilityZoneB", False),
}


def network_template(region: str) -> dict[str, Any]:
    t = Template(description=f"Ladder team network ({region}): VPC, public and private subnets")
    for suffix in ("A", "B"):
        t.parameters[f"AvailabilityZone{suffix}"] = {
            "Type": "AWS::EC2::AvailabilityZone::Name",
            "Default": f"{region}{suffix.lower()}",
            "Description": f"Availability Zone of the {suffix} subnets",
        }
    t.resource(
        "Vpc",
        "AWS::EC2::VPC",
        {
            "CidrBlock": VPC_CIDR,
            "EnableDnsSupport": True,
            "EnableDnsHostnames": True,
            "Tags": name_tag("vpc"),
        },
    )
    t.resource("InternetGateway", "AWS::EC2::InternetGateway", {"Tags": name_tag("igw")})
    t.resource(
        "InternetGatewayAttachment",
        "AWS::EC2::VPCGatewayAttachment",
        {"VpcId": ref("Vpc"), "InternetGatewayId": ref("InternetGateway")},
    )
    for table in ("Public", "Private"):
        t.resource(
            f"{table}RouteTable",
            "AWS::EC2::RouteTable",
            {"VpcId": ref("Vpc"), "Tags": name_tag(table.lower())},
        )
    t.resource(
        "PublicDefaultRoute",
        "AWS::EC2::Route",
        {
            "RouteTableId": ref("PublicRouteTable"),
            "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": ref("InternetGateway"),
        },
        DependsOn="InternetGatewayAttachment",
    )
    for logical_id, (cidr, zone, public) in SUBNETS.items():
        subnet: Json = {
            "VpcId": ref("Vpc"),
            "CidrBlock": cidr,
            "AvailabilityZone": ref(zone),
            "MapPublicIpOnLaunch": public,
            "Tags": name_tag(logical_id.lower()),
        }
        t.resource(logical_id, "AWS::EC2::Subnet", subnet)
        t.resource(
            f"{logical_id}RouteTableAssociation",
            "AWS::EC2::SubnetRouteTableAssociation",
            {
                "SubnetId": ref(logical_id),
                "RouteTableId": ref("PublicRouteTable" if public else "PrivateRouteTable"),
            },
        )
        t.output(logical_id, ref(logical_id), f"{logical_id} id")
    t.output("VpcId", ref("Vpc"), "VPC id")
    t.output("VpcCidr", get_att("Vpc", "CidrBlock"), "VPC CIDR block")
    return t.as_dict()
