"""Metrics: the catalogue's dimensions from real stack Outputs on the local cloud, one
GetMetricData call per environment view and none on a repeat within the period, splitting
beyond 500 queries, the percentile fallback, the portfolio's batching, alarms, and a failing
cloud giving "metrics unavailable" instead of an exception."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from provisioning import metrics, portfolio
from provisioning.aws import cloudwatch as aws
from provisioning.metric_catalogue import catalogue_for, plan_queries, resources_from_stack
from provisioning.models import TeamPolicy
from tests.factories import make_environment

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning"),
    pytest.mark.django_db,
    pytest.mark.usefixtures("fresh_cache"),
]
NOW = datetime(2026, 3, 4, 15, 7, 42, tzinfo=UTC)


def env_on(cloud, web_alice, tier, name):
    stack = cloud.create(tier)
    team, user = web_alice
    return make_environment(
        team, user, name, tier=tier, stack_name=stack["name"], stack_id=stack["stack_id"],
        outputs=stack["outputs"], parameters=stack["parameters"],
    ), stack  # fmt: skip


class Calls:
    """Counts AWS API calls by operation through botocore's event hooks."""

    def __init__(self) -> None:
        self.counter: Counter[str] = Counter()

    def hook(self, client):
        # Clients are kept per process (provisioning.aws.clients): count each call once
        # however often the same client is handed out.
        client.meta.events.register(
            "before-call.*.*",
            lambda model, **_: self.counter.update([model.name]),
            unique_id=f"count-calls-{id(self)}",
        )
        return client


@pytest.fixture
def calls(monkeypatch):
    counting = Calls()
    real = metrics.cloudwatch_client
    monkeypatch.setattr(metrics, "cloudwatch_client", lambda **kw: counting.hook(real(**kw)))
    return counting


# --- dimensions -------------------------------------------------------------------------------
def test_dimensions_from_real_tier_3_and_4_stacks(cloud, web_alice):
    env3, stack3 = env_on(cloud, web_alice, 3, "three")
    res = metrics.environment_resources(env3)
    physical = stack3["physical"]
    assert [i for _, i in res.web_instances] == [physical["WebInstanceA"], physical["WebInstanceB"]]
    elbv2 = cloud.client("elbv2")
    lb = elbv2.describe_load_balancers(LoadBalancerArns=[physical["LoadBalancer"]])
    arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    assert res.load_balancer == arn.split(":loadbalancer/")[1] and res.load_balancer.startswith(
        "app/"
    )
    tg_arn = physical["WebPairTargetGroup"]
    assert res.target_group == tg_arn.split(":")[5] and res.target_group.startswith("targetgroup/")
    assert res.database == physical["Database"]
    queries, missing = plan_queries(3, res, region="us-east-1", percentiles=False)
    assert missing == []
    assert {q.spec.key for q in queries} == {s.key for s in catalogue_for(3)}
    cpu = [q for q in queries if q.spec.key == "web_cpu"]
    assert [dict(q.dimensions) for q in cpu] == [{"InstanceId": i} for _, i in res.web_instances]
    healthy = next(q for q in queries if q.spec.key == "alb_healthy")
    assert dict(healthy.dimensions) == {
        "LoadBalancer": res.load_balancer,
        "TargetGroup": res.target_group,
    }

    env4, stack4 = env_on(cloud, web_alice, 4, "four")
    res4 = metrics.environment_resources(env4)
    groups = cloud.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    assert res4.web_asg in {g["AutoScalingGroupName"] for g in groups}
    assert res4.web_instances == ()
    assert res4.target_group == stack4["physical"]["WebAsgTargetGroup"].split(":")[5]
    # The local cloud skips CloudFront: a stable stand-in id, the same the simulator uses.
    assert res4.stand_ins == ("cache", "distribution") and res4.distribution.startswith("E")
    assert metrics.environment_resources(env4) == res4
    queries4, missing4 = plan_queries(4, res4, region="eu-west-1", percentiles=True)
    assert missing4 == []
    cdn = next(q for q in queries4 if q.spec.key == "cdn_requests")
    assert cdn.region == "us-east-1" and dict(cdn.dimensions)["Region"] == "Global"
    assert next(q for q in queries4 if q.spec.key == "alb_response_time").stat == "p95"


def test_dimensions_without_stand_ins_leave_unknown_resources_out():
    res = resources_from_stack({"WebAutoScalingGroupName": "g", "DatabaseInstanceId": "db"})
    queries, missing = plan_queries(5, res, region="us-east-1", percentiles=False)
    assert {"cache_cpu", "cdn_requests", "queue_age", "alb_requests"} <= set(missing)
    assert {q.spec.key for q in queries} == {"asg_cpu", "asg_in_service", "db_cpu",
        "db_connections", "db_free_storage", "db_read_latency", "db_write_latency"}  # fmt: skip


# --- one call per view ---------------------------------------------------------------------
@pytest.mark.parametrize("window", ["1h", "24h", "7d"])
def test_windows_are_aligned_and_small(window):
    w = metrics.window_for(window)
    start, end = metrics.time_range(w, NOW)
    assert w.points <= 1440
    assert start.timestamp() % w.period == 0 and end.timestamp() % w.period == 0
    assert end <= NOW < end + timedelta(seconds=w.period)
    assert (end - start).total_seconds() == w.seconds


def test_one_call_per_view_and_none_on_a_repeat_within_the_period(cloud, web_alice, calls):
    env, _ = env_on(cloud, web_alice, 3, "shop")
    cw = cloud.client("cloudwatch")
    start, _ = metrics.time_range(metrics.WINDOWS["1h"], NOW)
    instance = metrics.environment_resources(env).web_instances[0][1]
    cw.put_metric_data(Namespace="AWS/EC2", MetricData=[
        {"MetricName": "CPUUtilization", "Dimensions": [{"Name": "InstanceId", "Value": instance}],
         "Timestamp": start + timedelta(minutes=m), "Value": 40.0 + m, "Unit": "Percent"}
        for m in range(60)
    ])  # fmt: skip

    first = metrics.environment_metrics(environment=env, window="1h", now=NOW)
    assert calls.counter == {"GetMetricData": 1}
    assert first.available and not first.cached and first.simulated
    assert first.chart("web_cpu").series[0].values == [40.0 + m for m in range(60)]
    assert len(first.chart("web_cpu").series) == 2  # web-a has data, web-b none
    body = first.as_dict()
    assert body["groups"][0]["name"] == "Web servers" and body["period"] == 60

    calls.counter.clear()
    again = metrics.environment_metrics(
        environment=env, window="1h", now=NOW + timedelta(seconds=15)
    )
    assert calls.counter == {}
    assert again.cached and again.as_dict()["groups"] == {**body, "cached": True}["groups"]

    metrics.environment_metrics(environment=env, window="1h", now=NOW + timedelta(seconds=60))
    metrics.environment_metrics(environment=env, window="24h", now=NOW)
    assert calls.counter == {"GetMetricData": 2}  # a new period, another window: one each


def test_more_than_500_queries_are_split_into_calls_of_500():
    class Stub:
        def __init__(self):
            self.sizes = []

        def get_metric_data(self, **kwargs):
            queries = kwargs["MetricDataQueries"]
            self.sizes.append(len(queries))
            return {"MetricDataResults": [
                {"Id": q["Id"], "Timestamps": [NOW], "Values": [1.0]} for q in queries
            ]}  # fmt: skip

    stub = Stub()
    queries = [{"Id": f"q{n}"} for n in range(1100)]
    answers = aws.get_metric_data(stub, queries=queries, start=NOW - timedelta(hours=1), end=NOW)
    assert stub.sizes == [500, 500, 100] and len(answers) == 1100


# --- failures and fallbacks ------------------------------------------------------------------
class Failing:
    def __init__(self, exc, *, only_percentiles=False):
        self.exc, self.only_percentiles, self.calls = exc, only_percentiles, 0

    def get_metric_data(self, **kwargs):
        self.calls += 1
        stats = {q["MetricStat"]["Stat"] for q in kwargs["MetricDataQueries"]}
        if not self.only_percentiles or "p95" in stats:
            raise self.exc
        return {"MetricDataResults": []}

    def describe_alarms(self, **kwargs):
        raise self.exc

    def list_stack_resources(self, **kwargs):
        raise self.exc


@pytest.mark.parametrize(
    "exc",
    [
        ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "GetMetricData"),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
    ],
)
def test_a_failing_call_gives_metrics_unavailable_not_an_exception(web_alice, monkeypatch, exc):
    env = make_environment(*web_alice, "shop", tier=5, outputs={"DatabaseInstanceId": "db-1"})
    monkeypatch.setattr(metrics, "cloudwatch_client", lambda **kw: Failing(exc))
    result = metrics.environment_metrics(environment=env, window="24h", now=NOW)
    assert not result.available and result.reason and result.charts == []
    assert result.as_dict()["available"] is False
    alarms = metrics.environment_alarms(environment=env)
    assert not alarms.available and alarms.reason
    line = portfolio.portfolio_cpu(environments=[env], now=NOW)[env.pk]
    assert not line.available


def test_percentiles_fall_back_to_maximum_with_a_label(web_alice, monkeypatch, settings):
    env = make_environment(
        *web_alice,
        "shop",
        tier=3,
        outputs={
            "LoadBalancerArn": "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/lb/1"
        },
    )
    settings.METRICS_PERCENTILES = False
    queries, _ = plan_queries(3, metrics.environment_resources(env), region="us-east-1",
                              percentiles=False)  # fmt: skip
    assert next(q for q in queries if q.spec.key == "alb_response_time").stat == "Maximum"
    stub = Failing(RuntimeError("unused"), only_percentiles=True)
    monkeypatch.setattr(metrics, "cloudwatch_client", lambda **kw: stub)
    chart = metrics.environment_metrics(environment=env, now=NOW).chart("alb_response_time")
    assert chart.stat == "Maximum" and "p95 not available" in chart.stat_label
    # Where percentiles are on but the cloud chokes on them: once more without, labelled,
    # and without for a while (no failing call per view).
    settings.METRICS_PERCENTILES = True
    stub.exc = aws.CloudWatchError("percentile crash", code="Internal")
    result = metrics.environment_metrics(environment=env, now=NOW + timedelta(minutes=5))
    assert result.available and stub.calls == 3
    assert result.chart("alb_response_time").stat == "Maximum"
    assert any("percentiles unavailable" in n for n in result.notes)
    later = metrics.environment_metrics(environment=env, now=NOW + timedelta(minutes=10))
    assert later.available and stub.calls == 4
    assert later.chart("alb_response_time").stat == "Maximum"


# --- alarms and the portfolio ------------------------------------------------------------------
def test_alarms_of_the_stack_by_name_prefix(cloud, web_alice, calls):
    env, _ = env_on(cloud, web_alice, 5, "big")
    cw = cloud.client("cloudwatch")
    for name, state in ((f"{env.stack_name}-DatabaseCpuHighAlarm-X1", "ALARM"),
                        (f"{env.stack_name}-QueueBacklogAgeAlarm-X2", "OK"),
                        ("someone-else-Alarm", "ALARM")):  # fmt: skip
        cw.put_metric_alarm(AlarmName=name, Namespace="AWS/RDS", MetricName="CPUUtilization",
                            Statistic="Average", Period=300, EvaluationPeriods=3, Threshold=80,
                            ComparisonOperator="GreaterThanThreshold")  # fmt: skip
        cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")
    result = metrics.environment_alarms(environment=env)
    assert [(a.name.split("-")[-2], a.state) for a in result.alarms] == [
        ("DatabaseCpuHighAlarm", "ALARM"), ("QueueBacklogAgeAlarm", "OK")]  # fmt: skip
    assert calls.counter["DescribeAlarms"] == 1
    assert metrics.environment_alarms(environment=env).cached
    assert calls.counter["DescribeAlarms"] == 1
    small = make_environment(*web_alice, "small", tier=2)
    assert metrics.environment_alarms(environment=small).alarms == []
    assert calls.counter["DescribeAlarms"] == 1  # tiers without alarms ask nothing


def test_portfolio_batches_environments_into_one_call_and_caches_it(cloud, web_alice, calls):
    envs = [env_on(cloud, web_alice, tier, f"p{tier}")[0] for tier in (1, 3, 4)]
    cw = cloud.client("cloudwatch")
    start, _ = metrics.time_range(portfolio.SPARKLINE, NOW)
    res = metrics.environment_resources(envs[2])
    cw.put_metric_data(Namespace="AWS/EC2", MetricData=[
        {"MetricName": "CPUUtilization", "Timestamp": start + timedelta(hours=h), "Value": 10.0 * h,
         "Dimensions": [{"Name": "AutoScalingGroupName", "Value": res.web_asg}]}
        for h in range(1, 4)
    ])  # fmt: skip
    calls.counter.clear()
    lines = portfolio.portfolio_cpu(environments=envs, now=NOW)
    assert calls.counter == {"GetMetricData": 1}
    assert lines[envs[2].pk].values == [10.0, 20.0, 30.0] and lines[envs[2].pk].latest == 30.0
    assert lines[envs[0].pk].available and lines[envs[0].pk].values == []
    assert lines[envs[2].pk].as_dict()["simulated"] is True
    calls.counter.clear()
    assert portfolio.portfolio_cpu(environments=envs, now=NOW)[envs[2].pk].values == [10, 20, 30]
    assert calls.counter == {}


def test_clients_take_the_team_role_and_fail_fast(cloud, web_alice):
    team = web_alice[0]
    TeamPolicy.objects.update_or_create(
        team=team, defaults={"aws_role_arn": "arn:aws:iam::111111111111:role/ladder"}
    )
    client = metrics.cloudwatch_client(team=team, region="eu-west-1")
    assert client.meta.region_name == "eu-west-1"
    assert client._request_signer._credentials.access_key != "testing"  # the assumed role's
    assert client.meta.config.read_timeout == aws.METRICS_CONFIG.read_timeout == 15
