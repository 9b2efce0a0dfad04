"""queue_workers (tier 5): an SQS job queue with a dead-letter queue, and a worker Auto
Scaling group that drains it, scaled on the queue's backlog.

Workers sit in the public subnets with no inbound rule: without a NAT gateway that is how
they reach SQS; nothing can connect to them.
"""

from __future__ import annotations

from provisioning.blueprints import cache, common
from provisioning.blueprints.base import Context, Json, Template, get_att, ref

WORKER_ROLE = "WorkerInstanceRole"
WORKER_PROFILE = "WorkerInstanceProfile"
MAX_RECEIVE_COUNT = 5
BACKLOG_TARGET = 100.0  # visible messages the group aims to keep the queue under

WORKER_USER_DATA = """#!/bin/bash
set -euo pipefail
# The application's worker is deployed here; it reads JOB_QUEUE_URL from the stack outputs.
dnf install -y amazon-cloudwatch-agent
"""


def _consume_statement() -> Json:
    return {
        "Effect": "Allow",
        "Action": [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
        ],
        "Resource": get_att("JobQueue", "Arn"),
    }


def build(t: Template, ctx: Context) -> None:
    t.resource(
        "JobDeadLetterQueue",
        "AWS::SQS::Queue",
        {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True},
    )
    t.resource(
        "JobQueue",
        "AWS::SQS::Queue",
        {
            "VisibilityTimeout": 300,
            "MessageRetentionPeriod": 345600,
            "SqsManagedSseEnabled": True,
            "RedrivePolicy": {
                "deadLetterTargetArn": get_att("JobDeadLetterQueue", "Arn"),
                "maxReceiveCount": MAX_RECEIVE_COUNT,
            },
        },
    )
    group = common.security_group(t, "WorkerSecurityGroup", "Queue workers", "worker")
    if ctx.uses("database"):
        common.ingress(
            t,
            "DatabaseIngressFromWorkers",
            "DatabaseSecurityGroup",
            ctx.db_port,
            "Database port from the workers",
            SourceSecurityGroupId=group,
        )
    if ctx.uses("cache"):
        common.ingress(
            t,
            "CacheIngressFromWorkers",
            "CacheSecurityGroup",
            cache.REDIS_PORT,
            "Redis from the workers",
            SourceSecurityGroupId=group,
        )
    statements = [_consume_statement()]
    if ctx.uses("database"):
        statements.append(common.database_secret_statement())
    common.instance_role(
        t,
        WORKER_ROLE,
        WORKER_PROFILE,
        [
            {
                "PolicyName": "worker",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
            }
        ],
    )
    template = common.launch_template(
        t,
        "WorkerLaunchTemplate",
        instance_type=str(ctx.params["worker_instance_type"]),
        profile=WORKER_PROFILE,
        group=group,
        script=WORKER_USER_DATA,
        suffix="worker",
    )
    low, high = int(ctx.params["worker_min_size"]), int(ctx.params["worker_max_size"])
    t.resource(
        "WorkerAutoScalingGroup",
        "AWS::AutoScaling::AutoScalingGroup",
        {
            "MinSize": str(low),
            "MaxSize": str(high),
            "VPCZoneIdentifier": [t.network_ref("PublicSubnetA"), t.network_ref("PublicSubnetB")],
            "LaunchTemplate": template,
            "HealthCheckType": "EC2",
            "MetricsCollection": [{"Granularity": "1Minute"}],
        },
    )
    t.resource(
        "WorkerBacklogScalingPolicy",
        "AWS::AutoScaling::ScalingPolicy",
        {
            "AutoScalingGroupName": ref("WorkerAutoScalingGroup"),
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingConfiguration": {
                "CustomizedMetricSpecification": {
                    "Namespace": "AWS/SQS",
                    "MetricName": "ApproximateNumberOfMessagesVisible",
                    "Dimensions": [
                        {"Name": "QueueName", "Value": get_att("JobQueue", "QueueName")}
                    ],
                    "Statistic": "Average",
                },
                "TargetValue": BACKLOG_TARGET,
            },
        },
    )
    common.web_role(t)
    common.role_policy(
        t,
        "WebQueuePolicy",
        "send-jobs",
        common.WEB_ROLE,
        [
            {
                "Effect": "Allow",
                "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                "Resource": get_att("JobQueue", "Arn"),
            }
        ],
    )
    t.output("QueueUrl", ref("JobQueue"), "Job queue URL")
    t.output("QueueArn", get_att("JobQueue", "Arn"), "Job queue ARN")
    t.output("QueueName", get_att("JobQueue", "QueueName"), "Job queue name")
    t.output("DeadLetterQueueUrl", ref("JobDeadLetterQueue"), "Dead-letter queue URL")
    t.output(
        "DeadLetterQueueName",
        get_att("JobDeadLetterQueue", "QueueName"),
        "Dead-letter queue name",
    )
    t.output("WorkerAutoScalingGroupName", ref("WorkerAutoScalingGroup"), "Worker group")
