"""web_pair (tier 3): two fixed web instances in two AZs, registered in their target group."""

from __future__ import annotations

from provisioning.blueprints import common
from provisioning.blueprints.base import Context, Template, join, ref

TARGET_GROUP = "WebPairTargetGroup"


def build(t: Template, ctx: Context) -> None:
    common.web_instance(t, ctx, "WebInstanceA", "PublicSubnetA", "web-a")
    common.web_instance(t, ctx, "WebInstanceB", "PublicSubnetB", "web-b")
    targets = [
        {"Id": ref("WebInstanceA"), "Port": common.WEB_PORT},
        {"Id": ref("WebInstanceB"), "Port": common.WEB_PORT},
    ]
    common.target_group(t, TARGET_GROUP, targets)
    t.output(
        "WebInstanceIds",
        join(",", [ref("WebInstanceA"), ref("WebInstanceB")]),
        "Web instance ids, comma-separated",
    )
