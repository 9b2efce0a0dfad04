"""The template under construction, the context builders read, and intrinsic helpers.

Templates are plain dicts with long-form intrinsics only (``{"Fn::GetAtt": [id, attr]}``):
the local cloud mis-reads YAML short forms, and a dict dumps to the same bytes every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioning.ladder import DB_PORTS

Json = dict[str, Any]

# Environment template parameters: the team's network stack outputs (same keys) and the
# hosted zone id. Declared only when used; ``Template.network`` may give their Defaults.
NETWORK_PARAMETERS: dict[str, tuple[str, str]] = {
    "VpcId": ("AWS::EC2::VPC::Id", "VPC of the team's network stack"),
    "PublicSubnetA": ("AWS::EC2::Subnet::Id", "Public subnet in the first AZ"),
    "PublicSubnetB": ("AWS::EC2::Subnet::Id", "Public subnet in the second AZ"),
    "PrivateSubnetA": ("AWS::EC2::Subnet::Id", "Private subnet in the first AZ"),
    "PrivateSubnetB": ("AWS::EC2::Subnet::Id", "Private subnet in the second AZ"),
    # Not a network output: the engine resolves it from hosted_zone_name (see dns.py).
    "HostedZoneId": ("AWS::Route53::HostedZone::Id", "Route 53 zone of hosted_zone_name"),
}
AMI_PARAMETER = "LatestAmiId"
AMI_DEFAULT = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


def ref(name: str) -> Json:
    return {"Ref": name}


def get_att(logical_id: str, attribute: str) -> Json:
    return {"Fn::GetAtt": [logical_id, attribute]}


def sub(text: str, variables: Mapping[str, Any] | None = None) -> Json:
    return {"Fn::Sub": [text, dict(variables)] if variables else text}


def join(delimiter: str, parts: list[Any]) -> Json:
    return {"Fn::Join": [delimiter, parts]}


def select(index: int, value: Any) -> Json:
    return {"Fn::Select": [str(index), value]}


def split(delimiter: str, value: Any) -> Json:
    return {"Fn::Split": [delimiter, value]}


def arn_resource(arn: Any) -> Json:
    """The part of an ARN after its fifth colon (``loadbalancer/app/name/id``)."""
    return select(5, split(":", arn))


def name_tag(suffix: str) -> list[Json]:
    return [{"Key": "Name", "Value": sub(f"${{AWS::StackName}}-{suffix}")}]


def user_data(script: str) -> Json:
    return {"Fn::Base64": script}


@dataclass
class Template:
    """A CloudFormation template being composed; builders add to it, never overwrite."""

    description: str
    network: Mapping[str, Any] = field(default_factory=dict)
    parameters: Json = field(default_factory=dict)
    conditions: Json = field(default_factory=dict)
    resources: Json = field(default_factory=dict)
    outputs: Json = field(default_factory=dict)

    def resource(
        self,
        logical_id: str,
        resource_type: str,
        properties: Json,
        *,
        policy: str | None = None,
        **attributes: Any,
    ) -> Json:
        """Add a resource; ``policy`` sets both DeletionPolicy and UpdateReplacePolicy."""
        if logical_id in self.resources:
            raise ValueError(f"resource {logical_id} added twice")
        body: Json = {"Type": resource_type, "Properties": properties, **attributes}
        if policy:
            body["DeletionPolicy"] = policy
            body["UpdateReplacePolicy"] = policy
        self.resources[logical_id] = body
        return body

    def output(self, key: str, value: Any, description: str, *, replace: bool = False) -> None:
        if key in self.outputs and not replace:
            raise ValueError(f"output {key} added twice")
        self.outputs[key] = {"Description": description, "Value": value}

    def network_ref(self, name: str) -> Json:
        """Ref to a network parameter, declared on first use (unused parameters are lint
        warnings, and AWS rejects parameters a template does not declare)."""
        if name not in self.parameters:
            kind, description = NETWORK_PARAMETERS[name]
            spec: Json = {"Type": kind, "Description": description}
            if self.network.get(name):
                spec["Default"] = str(self.network[name])
            self.parameters[name] = spec
        return ref(name)

    def ami_ref(self) -> Json:
        if AMI_PARAMETER not in self.parameters:
            self.parameters[AMI_PARAMETER] = {
                "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
                "Default": AMI_DEFAULT,
                "Description": "Amazon Linux 2023 AMI, resolved from the public SSM parameter",
            }
        return ref(AMI_PARAMETER)

    def as_dict(self) -> Json:
        template: Json = {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": self.description,
        }
        for key, section in (
            ("Parameters", self.parameters),
            ("Conditions", self.conditions),
            ("Resources", self.resources),
            ("Outputs", self.outputs),
        ):
            if section:
                template[key] = section
        return template


@dataclass(frozen=True)
class Context:
    """What builders may read: the tier, its validated parameters and its components."""

    tier: int
    params: Mapping[str, Any]
    components: frozenset[str]

    def uses(self, component: str) -> bool:
        return component in self.components

    @property
    def db_port(self) -> int:
        return DB_PORTS[str(self.params["db_engine"])]

    @property
    def fqdn(self) -> str:
        """The DNS record's name, "" without a hosted zone."""
        zone = str(self.params.get("hosted_zone_name") or "")
        record = str(self.params.get("record_name") or "")
        return ".".join(n for n in (record, zone) if n) if zone else ""
