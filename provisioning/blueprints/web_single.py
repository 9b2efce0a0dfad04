"""web_single (tiers 1-2): one web instance with an Elastic IP, open to the internet on HTTP."""

from __future__ import annotations

from provisioning.blueprints import common
from provisioning.blueprints.base import Context, Template, join, name_tag, ref


def build(t: Template, ctx: Context) -> None:
    common.web_security_group(t)
    common.ingress(
        t,
        "WebIngressHttp",
        common.WEB_SECURITY_GROUP,
        common.WEB_PORT,
        "HTTP from anywhere: the instance faces the internet at this tier",
        CidrIp="0.0.0.0/0",
    )
    common.web_instance(t, ctx, "WebInstance", "PublicSubnetA", "web")
    t.resource(
        "WebAddress",
        "AWS::EC2::EIP",
        {"Domain": "vpc", "InstanceId": ref("WebInstance"), "Tags": name_tag("web")},
    )
    t.output("WebInstanceId", ref("WebInstance"), "Web instance id")
    t.output("PublicIp", ref("WebAddress"), "Elastic IP address of the web instance")
    t.output("URL", join("", ["http://", ref("WebAddress")]), "Address of the site")
