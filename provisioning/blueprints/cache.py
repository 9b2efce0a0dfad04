"""cache (tier 5): ElastiCache Redis, primary and replica in two AZs with automatic failover,
encrypted at rest and in transit, in the private subnets."""

from __future__ import annotations

from provisioning.blueprints import common
from provisioning.blueprints.base import Context, Template, get_att, ref

REDIS_PORT = 6379


def build(t: Template, ctx: Context) -> None:
    group = common.security_group(t, "CacheSecurityGroup", "Redis cache", "cache")
    common.web_security_group(t)
    common.ingress(
        t,
        "CacheIngressFromWeb",
        "CacheSecurityGroup",
        REDIS_PORT,
        "Redis from the web servers only",
        SourceSecurityGroupId=get_att(common.WEB_SECURITY_GROUP, "GroupId"),
    )
    t.resource(
        "CacheSubnetGroup",
        "AWS::ElastiCache::SubnetGroup",
        {
            "Description": "Private subnets of the cache",
            "SubnetIds": [t.network_ref("PrivateSubnetA"), t.network_ref("PrivateSubnetB")],
        },
    )
    t.resource(
        "Cache",
        "AWS::ElastiCache::ReplicationGroup",
        {
            "ReplicationGroupDescription": "Application cache",
            "Engine": "redis",
            "CacheNodeType": ctx.params["cache_node_type"],
            "NumCacheClusters": 2,
            "MultiAZEnabled": True,
            "AutomaticFailoverEnabled": True,
            "AtRestEncryptionEnabled": True,
            "TransitEncryptionEnabled": True,
            "Port": REDIS_PORT,
            "CacheSubnetGroupName": ref("CacheSubnetGroup"),
            "SecurityGroupIds": [group],
            "SnapshotRetentionLimit": 1,
            "AutoMinorVersionUpgrade": True,
        },
        policy="Snapshot",
    )
    # No output names the group: the local cloud skips it, and there an output referring to
    # it breaks the stack's description after a change set. Its id is the physical id of
    # Cache (DescribeStackResource); its endpoint comes from ElastiCache.
    t.output("CachePort", str(REDIS_PORT), "Redis port (TLS)")
