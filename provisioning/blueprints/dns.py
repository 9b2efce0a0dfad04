"""dns (any tier, when a hosted zone is given): an A record for the site in an existing zone,
pointing at the Elastic IP (tiers 1-2) or aliasing the load balancer (tiers 3-5).

``DnsRecord`` keeps its logical id across tiers, so a move re-points it in place. The zone is
named by id, a ``HostedZoneId`` parameter the engine resolves from ``hosted_zone_name``
(Route 53 ListHostedZonesByName): AWS wants HostedZoneName with a trailing dot and the local
cloud finds a zone only without one, while an id works on both.
"""

from __future__ import annotations

from provisioning.blueprints.base import Context, Json, Template, get_att, ref


def build(t: Template, ctx: Context) -> None:
    name = ctx.fqdn
    if not name:
        return
    record: Json = {"HostedZoneId": t.network_ref("HostedZoneId"), "Name": name, "Type": "A"}
    if ctx.uses("load_balancer"):
        record["AliasTarget"] = {
            "DNSName": get_att("LoadBalancer", "DNSName"),
            "HostedZoneId": get_att("LoadBalancer", "CanonicalHostedZoneID"),
            "EvaluateTargetHealth": True,
        }
    else:
        record["TTL"] = "300"
        record["ResourceRecords"] = [ref("WebAddress")]
    t.resource("DnsRecord", "AWS::Route53::RecordSet", record)
    t.output("URL", f"http://{name}", "Address of the site", replace=True)
    t.output("DnsName", name, "DNS name of the site")
