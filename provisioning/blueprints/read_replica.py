"""read_replica (tier 5): an RDS read replica of ``Database`` for read-heavy traffic.

It holds no data of its own (the primary does), so deleting it needs no snapshot.
"""

from __future__ import annotations

from provisioning.blueprints.base import Context, Template, get_att, name_tag, ref


def build(t: Template, ctx: Context) -> None:
    t.resource(
        "DatabaseReadReplica",
        "AWS::RDS::DBInstance",
        {
            "SourceDBInstanceIdentifier": ref("Database"),
            "DBInstanceClass": ctx.params["db_instance_class"],
            "VPCSecurityGroups": [get_att("DatabaseSecurityGroup", "GroupId")],
            "PubliclyAccessible": False,
            "AutoMinorVersionUpgrade": True,
            "Tags": name_tag("db-replica"),
        },
        policy="Delete",
    )
    t.output(
        "DatabaseReadEndpoint",
        get_att("DatabaseReadReplica", "Endpoint.Address"),
        "Read replica host name",
    )
    t.output("DatabaseReplicaId", ref("DatabaseReadReplica"), "DBInstanceIdentifier of the replica")
