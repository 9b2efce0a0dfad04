"""web_asg (tiers 4-5): a web Auto Scaling group across two AZs, CPU target tracking at 70%.

It gets its own target group rather than taking over tier 3's: on the way up the new group
registers its instances before the listener switches to it, and CloudFormation removes the
fixed pair only afterwards (and the reverse on the way down).
"""

from __future__ import annotations

from provisioning.blueprints import common
from provisioning.blueprints.base import Context, Template, ref

TARGET_GROUP = "WebAsgTargetGroup"
CPU_TARGET_PERCENT = 70.0


def build(t: Template, ctx: Context) -> None:
    group = common.web_security_group(t)
    common.web_role(t)
    template = common.launch_template(
        t,
        "WebLaunchTemplate",
        instance_type=str(ctx.params["instance_type"]),
        profile=common.WEB_PROFILE,
        group=group,
        script=common.WEB_USER_DATA,
        suffix="web",
    )
    common.target_group(t, TARGET_GROUP)
    low, high = int(ctx.params["web_min_size"]), int(ctx.params["web_max_size"])
    t.resource(
        "WebAutoScalingGroup",
        "AWS::AutoScaling::AutoScalingGroup",
        {
            "MinSize": str(low),
            "MaxSize": str(high),
            "VPCZoneIdentifier": [t.network_ref("PublicSubnetA"), t.network_ref("PublicSubnetB")],
            "LaunchTemplate": template,
            "TargetGroupARNs": [ref(TARGET_GROUP)],
            "HealthCheckType": "ELB",
            "HealthCheckGracePeriod": 300,
            "MetricsCollection": [{"Granularity": "1Minute"}],
        },
        UpdatePolicy={
            "AutoScalingRollingUpdate": {
                # AWS requires fewer than MaxSize in service during a rolling update.
                "MinInstancesInService": min(low, high - 1),
                "MaxBatchSize": 1,
            }
        },
    )
    t.resource(
        "WebCpuScalingPolicy",
        "AWS::AutoScaling::ScalingPolicy",
        {
            "AutoScalingGroupName": ref("WebAutoScalingGroup"),
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingConfiguration": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ASGAverageCPUUtilization"
                },
                "TargetValue": CPU_TARGET_PERCENT,
            },
        },
    )
    t.output("WebAutoScalingGroupName", ref("WebAutoScalingGroup"), "Web Auto Scaling group")
