"""The advisor's rules on synthetic series: each fires above its threshold and not below;
stored recommendations open, update, resolve and turn into change requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from provisioning import advisor, pricing, services
from provisioning.errors import Conflict, Forbidden
from provisioning.metrics import Chart, EnvironmentMetrics, Series
from provisioning.models import ChangeRequest, Recommendation
from provisioning.services import recommendations as recs
from provisioning.validation import validate_parameters
from tests.factories import make_environment

END = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
DAY = ("24h", 300, 288)
WEEK = ("7d", 900, 672)


def window(spec, **series: list[float]) -> EnvironmentMetrics:
    """An environment view whose charts hold ``series`` (key=values, oldest first)."""
    name, period, points = spec
    start = END - timedelta(seconds=period * points)
    charts = []
    for key, values in series.items():
        stamps = [start + timedelta(seconds=period * n) for n in range(len(values))]
        charts.append(Chart(key, "g", key, "ns", key, "u", "Average", "Average",
                            [Series(key, stamps, list(values))]))  # fmt: skip
    return EnvironmentMetrics(1, name, period, start, END, True, charts=charts)


def mix(high: float, low: float, share: float, points: int) -> list[float]:
    n = round(share * points)
    return [high] * n + [low] * (points - n)


def advise(tier, day=None, week=None, **params):
    values = validate_parameters(tier, params)
    return advisor.advise(
        tier=tier, parameters=values, region="us-east-1",
        day=day or window(DAY), week=week or window(WEEK),
    )  # fmt: skip


def kinds(advice):
    return [(a.kind, a.target_tier) for a in advice]


# --- each rule at its threshold --------------------------------------------------------------
@pytest.mark.parametrize("tier", [1, 2, 3])
def test_sustained_high_cpu_on_a_fixed_size_tier_moves_up(tier):
    busy = window(DAY, web_cpu=mix(85, 40, advisor.CPU_HIGH_SHARE + 0.02, 288))
    (advice,) = advise(tier, day=busy)
    assert (advice.kind, advice.target_tier, advice.from_tier) == ("move_up", tier + 1, tier)
    assert advice.evidence[0].window == "24h" and advice.evidence[0].value >= 25
    assert advice.as_dict()["evidence"][1]["text"] == "peak 85%"
    calm = window(DAY, web_cpu=mix(85, 40, advisor.CPU_HIGH_SHARE - 0.02, 288))
    assert advise(tier, day=calm) == []
    at_threshold = window(DAY, web_cpu=[advisor.CPU_HIGH_PERCENT] * 288)
    assert advise(tier, day=at_threshold) == []


def test_high_cpu_at_tier_4_is_the_scaling_groups_job():
    assert kinds(advise(4, day=window(DAY, web_cpu=[95] * 288, asg_cpu=[95] * 288))) == []


def test_too_little_data_judges_nothing():
    sparse = window(DAY, web_cpu=[99] * int(288 * advisor.MIN_COVERAGE - 1))
    assert advise(2, day=sparse) == []


def test_a_single_failing_server_goes_to_tier_3():
    failing = [0.0] * 285 + [1.0] * advisor.UNHEALTHY_PERIODS
    assert kinds(advise(1, day=window(DAY, web_status_failed=failing))) == [
        ("high_availability", 3)
    ]
    once = [0.0] * 286 + [1.0] * (advisor.UNHEALTHY_PERIODS - 1)
    assert advise(2, day=window(DAY, web_status_failed=once)) == []
    assert advise(3, day=window(DAY, web_status_failed=failing)) == []  # already two


def test_a_busy_database_goes_to_tier_5():
    busy = window(DAY, db_cpu=mix(90, 30, 0.3, 288))
    (advice,) = advise(3, day=busy)
    assert (advice.kind, advice.target_tier) == ("data_tier", 5)
    assert advise(3, day=window(DAY, db_cpu=mix(90, 30, 0.2, 288))) == []
    assert advise(5, day=busy) == []  # tier 5 has the cache and the replica


def test_database_connections_near_the_class_limit_go_to_tier_5():
    limit = advisor.db_max_connections("db.t4g.small", "postgres")
    assert limit == 225  # 2 GiB / 9,531,392 bytes
    near = window(DAY, db_connections=mix(0.85 * limit, 50, 0.3, 288))
    (advice,) = advise(2, day=near, db_instance_class="db.t4g.small")
    assert advice.kind == "data_tier" and advice.evidence[0].metric == "db_connections"
    below = window(DAY, db_connections=mix(0.75 * limit, 50, 0.3, 288))
    assert advise(2, day=below, db_instance_class="db.t4g.small") == []


def test_a_queue_falling_behind_raises_the_worker_maximum():
    growing = window(DAY, queue_age=[100 + 5 * n for n in range(288)])  # 60 s an hour, to 1535
    (advice,) = advise(5, day=growing, worker_max_size=4)
    assert (advice.kind, advice.target_tier) == ("more_workers", 5)
    assert advice.target_parameters == {"worker_max_size": 8}
    slow = window(DAY, queue_age=[100 + 4 * n for n in range(288)])  # 48 s an hour
    assert advise(5, day=slow) == []
    young = window(DAY, queue_age=[1 + 1 * n for n in range(288)])  # growing, still short
    assert advise(5, day=young) == []
    flat_but_old = window(DAY, queue_age=[1500.0] * 288)
    assert advise(5, day=flat_but_old) == []
    assert advise(5, day=growing, worker_max_size=50) == []


@pytest.mark.parametrize(("tier", "cpu_key"), [(3, "web_cpu"), (4, "asg_cpu"), (5, "asg_cpu")])
def test_a_quiet_week_on_tier_3_and_up_moves_down_with_the_saving(tier, cpu_key):
    quiet = window(WEEK, **{cpu_key: [advisor.LOW_CPU_PERCENT - 5] * 672, "db_cpu": [10] * 672})
    (advice,) = advise(tier, week=quiet)
    assert (advice.kind, advice.target_tier) == ("move_down", tier - 1)
    params = validate_parameters(tier, {})
    expected = advisor.monthly_saving(tier, params, tier - 1, "us-east-1")
    assert advice.monthly_saving == expected > 0
    assert expected == (
        pricing.estimate(tier, params, "us-east-1").total
        - pricing.estimate(tier - 1, advisor.params_for_move(params, tier - 1), "us-east-1").total
    ).quantize(Decimal("0.01"))
    assert pricing.format_usd(expected) in advice.title
    assert advice.as_dict()["monthly_saving"] == str(expected)
    busy_peaks = {cpu_key: mix(advisor.LOW_CPU_PERCENT + 5, 5, 0.1, 672), "db_cpu": [10] * 672}
    assert advise(tier, week=window(WEEK, **busy_peaks)) == []
    busy_db = {cpu_key: [5] * 672, "db_cpu": [advisor.LOW_DB_CPU_PERCENT + 5] * 672}
    assert advise(tier, week=window(WEEK, **busy_db)) == []


def test_never_move_down_below_tier_3_or_while_something_is_too_small():
    quiet = window(WEEK, web_cpu=[5] * 672, db_cpu=[5] * 672)
    assert advise(2, week=quiet) == []
    busy_db = window(DAY, db_cpu=[95] * 288)
    assert kinds(advise(3, day=busy_db, week=quiet)) == [("data_tier", 5)]


def test_statistics():
    assert advisor.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) == 10
    assert advisor.percentile(list(range(100)), 95) == 94
    assert advisor.slope_per_hour([0, 5, 10, 15], 300) == pytest.approx(60)
    assert advisor.share_above([1, 5, 9, 10], 5) == 0.5


# --- stored recommendations ------------------------------------------------------------------
@pytest.fixture
def people(db):
    team = services.team_ensure(slug="web", name="Web")
    alice, _ = services.user_ensure(username="alice", password="a-long-test-password-1")
    bob, _ = services.user_ensure(username="bob", password="a-long-test-password-1")
    services.membership_ensure(team=team, user=alice)
    return team, alice, bob


@pytest.fixture
def advice_is(monkeypatch):
    said: dict[str, list | None] = {"advice": []}
    monkeypatch.setattr(advisor, "advice_for", lambda **kw: said["advice"])
    return said


def up_from(tier):
    return advise(tier, day=window(DAY, web_cpu=[95] * 288))


def test_refresh_opens_updates_and_resolves(people, advice_is, django_capture_on_commit_callbacks,
                                            monkeypatch):  # fmt: skip
    team, alice, _ = people
    env = make_environment(team, alice, "shop", tier=2)
    rung = []
    monkeypatch.setattr(recs.notifications, "recommendation_created", rung.append)
    advice_is["advice"] = up_from(2)
    with django_capture_on_commit_callbacks(execute=True):
        (rec,) = recs.recommendations_refresh(environment=env)
    assert (rec.kind, rec.status, rec.from_tier, rec.target_tier) == ("move_up", "open", 2, 3)
    assert rec.simulated and rung == [rec.pk]
    assert rec.change_request_payload() == {
        "tier": 3, "parameters": {}, "reason": f"Advisor: {rec.title}"}  # fmt: skip
    assert list(advisor.recommendation_list(environment=env)) == [rec]

    with django_capture_on_commit_callbacks(execute=True):
        (same,) = recs.recommendations_refresh(environment=env)
    assert same.pk == rec.pk and rung == [rec.pk]  # still true: updated, not re-announced

    advice_is["advice"] = None  # metrics unavailable: nothing judged, nothing changes
    assert [r.pk for r in recs.recommendations_refresh(environment=env)] == [rec.pk]

    advice_is["advice"] = []
    assert recs.recommendations_refresh(environment=env) == []
    rec.refresh_from_db()
    assert rec.status == "resolved" and rec.closed_at
    counts = advisor.open_recommendation_counts(environments=type(env).objects.all())
    assert counts == {}


def test_a_recommendation_opens_a_prefilled_change(people, advice_is):
    team, alice, bob = people
    env = make_environment(team, alice, "shop", tier=2)
    advice_is["advice"] = up_from(2)
    (rec,) = recs.recommendations_refresh(environment=env)
    with pytest.raises(Forbidden):
        recs.recommendation_open_change(user=bob, recommendation=rec)
    # Like any move that replaces the web server, the plan asks for the name as confirmation.
    change = recs.recommendation_open_change(user=alice, recommendation=rec, confirm="shop")
    assert (change.kind, change.from_tier, change.to_tier) == ("upgrade", 2, 3)
    assert change.reason == f"Advisor: {rec.title}" and change.status == "planning"
    rec.refresh_from_db()
    assert rec.status == "accepted" and rec.change_id == change.pk and rec.closed_by == alice
    with pytest.raises(Conflict):
        recs.recommendation_open_change(user=alice, recommendation=rec)
    assert ChangeRequest.objects.filter(environment=env).count() == 1


def test_a_dismissed_recommendation_stays_quiet(people, advice_is):
    team, alice, _ = people
    env = make_environment(team, alice, "shop", tier=2)
    advice_is["advice"] = up_from(2)
    (rec,) = recs.recommendations_refresh(environment=env)
    recs.recommendation_dismiss(user=alice, recommendation=rec)
    assert recs.recommendations_refresh(environment=env) == []
    assert Recommendation.objects.filter(environment=env).count() == 1


def test_advise_all_refreshes_every_ready_environment(people, advice_is):
    team, alice, _ = people
    make_environment(team, alice, "one", tier=1)
    make_environment(team, alice, "two", tier=2)
    make_environment(team, alice, "gone", tier=2, status="decommissioned")
    advice_is["advice"] = up_from(1)
    assert recs.advise_all() == {"environments": 2, "open": 2, "errors": 0}
