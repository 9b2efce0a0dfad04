"""database (tiers 2-5): RDS PostgreSQL or MySQL in the private subnets.

``Database`` keeps its logical id and properties from tier 2 to tier 5, so moving up or down
is an in-place update (Multi-AZ is switched in place). Its master password is an RDS-managed
Secrets Manager secret: no password exists in a template, a parameter or the portal.
"""

from __future__ import annotations

from provisioning.blueprints import common
from provisioning.blueprints.base import Context, Template, get_att, name_tag, ref

MASTER_USERNAME = "ladder_admin"


def build(t: Template, ctx: Context) -> None:
    port = ctx.db_port
    common.security_group(t, "DatabaseSecurityGroup", "Database", "db")
    common.web_security_group(t)
    common.ingress(
        t,
        "DatabaseIngressFromWeb",
        "DatabaseSecurityGroup",
        port,
        "Database port from the web servers only",
        SourceSecurityGroupId=get_att(common.WEB_SECURITY_GROUP, "GroupId"),
    )
    t.resource(
        "DatabaseSubnetGroup",
        "AWS::RDS::DBSubnetGroup",
        {
            "DBSubnetGroupDescription": "Private subnets of the database",
            "SubnetIds": [t.network_ref("PrivateSubnetA"), t.network_ref("PrivateSubnetB")],
            "Tags": name_tag("db"),
        },
    )
    t.resource(
        "Database",
        "AWS::RDS::DBInstance",
        {
            "Engine": ctx.params["db_engine"],
            "DBInstanceClass": ctx.params["db_instance_class"],
            "AllocatedStorage": str(ctx.params["db_allocated_storage"]),
            "StorageType": "gp3",
            "StorageEncrypted": True,
            "MultiAZ": bool(ctx.params["db_multi_az"]),
            "MasterUsername": MASTER_USERNAME,
            "ManageMasterUserPassword": True,
            "Port": str(port),
            "DBSubnetGroupName": ref("DatabaseSubnetGroup"),
            "VPCSecurityGroups": [get_att("DatabaseSecurityGroup", "GroupId")],
            "PubliclyAccessible": False,
            "BackupRetentionPeriod": 7,
            "CopyTagsToSnapshot": True,
            "AutoMinorVersionUpgrade": True,
            "DeletionProtection": False,
            "Tags": name_tag("db"),
        },
        policy="Snapshot",
    )
    common.web_role(t)
    common.role_policy(
        t,
        "WebDatabaseSecretPolicy",
        "read-database-secret",
        common.WEB_ROLE,
        [common.database_secret_statement()],
    )
    t.output("DatabaseEndpoint", get_att("Database", "Endpoint.Address"), "Database host name")
    # The local cloud reports 3306 for every engine: the port is known here, say it.
    t.output("DatabasePort", str(port), "Database port")
    t.output("DatabaseInstanceId", ref("Database"), "DBInstanceIdentifier of the database")
    t.output("DatabaseEngine", str(ctx.params["db_engine"]), "Database engine")
