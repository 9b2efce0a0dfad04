"""monitoring (tier 5): an SNS alert topic, CloudWatch alarms on what breaks first, and a
dashboard of the same metrics.

Metric dimensions for the load balancer and target group are cut from their ARNs: the local
cloud has no *FullName attributes, and the same template must work on both clouds.
"""

from __future__ import annotations

import json
from typing import Any

from provisioning.blueprints import load_balancer
from provisioning.blueprints.base import (
    Context,
    Json,
    Template,
    arn_resource,
    get_att,
    ref,
    sub,
)

GIB = 1024**3


def _alarm(
    t: Template,
    logical_id: str,
    description: str,
    *,
    namespace: str,
    metric: str,
    dimensions: dict[str, Any],
    statistic: str,
    threshold: float,
    comparison: str = "GreaterThanThreshold",
    period: int = 300,
    periods: int = 3,
) -> None:
    t.resource(
        logical_id,
        "AWS::CloudWatch::Alarm",
        {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dimensions.items())],
            "Statistic": statistic,
            "Period": period,
            "EvaluationPeriods": periods,
            "Threshold": threshold,
            "ComparisonOperator": comparison,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [ref("AlertTopic")],
            "OKActions": [ref("AlertTopic")],
        },
    )


def _web_alarms(t: Template, ctx: Context) -> None:
    lb = {"LoadBalancer": load_balancer.load_balancer_full_name()}
    tg = arn_resource(ref(load_balancer.target_group_id(ctx)))
    elb = "AWS/ApplicationELB"
    _alarm(
        t,
        "LoadBalancer5xxAlarm",
        "The load balancer answers 5xx errors",
        namespace=elb,
        metric="HTTPCode_ELB_5XX_Count",
        dimensions=lb,
        statistic="Sum",
        threshold=10,
        periods=2,
    )
    _alarm(
        t,
        "TargetResponseTimeAlarm",
        "Web servers answer slower than 1 s on average",
        namespace=elb,
        metric="TargetResponseTime",
        dimensions=lb,
        statistic="Average",
        threshold=1,
    )
    _alarm(
        t,
        "UnhealthyHostsAlarm",
        "A web server fails its health checks",
        namespace=elb,
        metric="UnHealthyHostCount",
        dimensions={**lb, "TargetGroup": tg},
        statistic="Maximum",
        threshold=0,
        period=60,
        periods=3,
    )
    if ctx.uses("web_asg"):
        _alarm(
            t,
            "WebCpuHighAlarm",
            "Web servers above 85% CPU: the group is at its maximum?",
            namespace="AWS/EC2",
            metric="CPUUtilization",
            dimensions={"AutoScalingGroupName": ref("WebAutoScalingGroup")},
            statistic="Average",
            threshold=85,
        )


def _data_alarms(t: Template, ctx: Context) -> None:
    db = {"DBInstanceIdentifier": ref("Database")}
    _alarm(
        t,
        "DatabaseCpuHighAlarm",
        "Database above 80% CPU",
        namespace="AWS/RDS",
        metric="CPUUtilization",
        dimensions=db,
        statistic="Average",
        threshold=80,
    )
    free_bytes = int(ctx.params["db_allocated_storage"]) * GIB // 10
    _alarm(
        t,
        "DatabaseStorageLowAlarm",
        "Less than 10% of database storage is free",
        namespace="AWS/RDS",
        metric="FreeStorageSpace",
        dimensions=db,
        statistic="Minimum",
        threshold=free_bytes,
        comparison="LessThanThreshold",
        periods=1,
    )
    if ctx.uses("read_replica"):
        _alarm(
            t,
            "ReplicaLagAlarm",
            "The read replica is more than 60 s behind",
            namespace="AWS/RDS",
            metric="ReplicaLag",
            dimensions={"DBInstanceIdentifier": ref("DatabaseReadReplica")},
            statistic="Maximum",
            threshold=60,
        )
    if ctx.uses("cache"):
        _alarm(
            t,
            "CacheMemoryHighAlarm",
            "Redis primary above 80% of its memory",
            namespace="AWS/ElastiCache",
            metric="DatabaseMemoryUsagePercentage",
            dimensions={"CacheClusterId": sub("${Cache}-001")},
            statistic="Maximum",
            threshold=80,
        )
    if ctx.uses("queue_workers"):
        sqs = "AWS/SQS"
        _alarm(
            t,
            "QueueBacklogAgeAlarm",
            "The oldest job waits more than 15 minutes",
            namespace=sqs,
            metric="ApproximateAgeOfOldestMessage",
            dimensions={"QueueName": get_att("JobQueue", "QueueName")},
            statistic="Maximum",
            threshold=900,
        )
        _alarm(
            t,
            "DeadLetterQueueAlarm",
            "Jobs failed and landed in the dead-letter queue",
            namespace=sqs,
            metric="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": get_att("JobDeadLetterQueue", "QueueName")},
            statistic="Maximum",
            threshold=0,
            period=60,
            periods=1,
        )


def _widget(title: str, metrics: list[list[Any]], x: int, y: int, stat: str = "Average") -> Json:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "stat": stat,
            "period": 300,
            "metrics": metrics,
        },
    }


def _dashboard(t: Template, ctx: Context) -> None:
    elb, names = "AWS/ApplicationELB", {}
    names["Lb"] = load_balancer.load_balancer_full_name()
    names["Db"] = ref("Database")
    widgets = [
        _widget("Requests", [[elb, "RequestCount", "LoadBalancer", "${Lb}"]], 0, 0, "Sum"),
        _widget("Response time (s)", [[elb, "TargetResponseTime", "LoadBalancer", "${Lb}"]], 12, 0),
        _widget(
            "5xx errors",
            [
                [elb, "HTTPCode_Target_5XX_Count", "LoadBalancer", "${Lb}"],
                [elb, "HTTPCode_ELB_5XX_Count", "LoadBalancer", "${Lb}"],
            ],
            0,
            6,
            "Sum",
        ),
        _widget(
            "Database CPU %",
            [["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "${Db}"]],
            12,
            6,
        ),
    ]
    if ctx.uses("web_asg"):
        names["Web"] = ref("WebAutoScalingGroup")
        widgets.append(
            _widget(
                "Web CPU %",
                [["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", "${Web}"]],
                0,
                12,
            )
        )
    if ctx.uses("queue_workers"):
        names["Queue"] = get_att("JobQueue", "QueueName")
        widgets.append(
            _widget(
                "Queue backlog",
                [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${Queue}"]],
                12,
                12,
                "Maximum",
            )
        )
    body = json.dumps({"widgets": widgets}, sort_keys=True, separators=(",", ":"))
    t.resource("Dashboard", "AWS::CloudWatch::Dashboard", {"DashboardBody": sub(body, names)})
    t.output("DashboardName", ref("Dashboard"), "CloudWatch dashboard")


def build(t: Template, ctx: Context) -> None:
    topic: Json = {"DisplayName": "Ladder alerts"}
    if ctx.params.get("alert_email"):
        topic["Subscription"] = [{"Endpoint": ctx.params["alert_email"], "Protocol": "email"}]
    # No KMS key: CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key,
    # and the alerts carry no data beyond metric names.
    t.resource("AlertTopic", "AWS::SNS::Topic", topic)
    t.output("AlertTopicArn", ref("AlertTopic"), "SNS topic of the alarms")
    if ctx.uses("load_balancer"):
        _web_alarms(t, ctx)
    if ctx.uses("database"):
        _data_alarms(t, ctx)
        if ctx.uses("load_balancer"):
            _dashboard(t, ctx)
