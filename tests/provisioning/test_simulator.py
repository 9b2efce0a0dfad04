"""The traffic simulator: a seeded load profile, real namespaces and dimensions on the local
cloud, a week of backfill once, one datapoint a minute after that, CPU that falls when the
environment moves up, and a command that refuses anything but the local cloud."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from provisioning import metrics, simulator
from provisioning.metric_catalogue import SPECS
from tests.factories import make_environment

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning"),
    pytest.mark.django_db,
    pytest.mark.usefixtures("fresh_cache"),
]
START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def on_cloud(env, stack):
    env.stack_name, env.stack_id = stack["name"], stack["stack_id"]
    env.outputs, env.parameters = stack["outputs"], stack["parameters"]
    env.save()
    return env


# --- the load profile ------------------------------------------------------------------------
def test_the_profile_is_seeded_cyclic_and_growing():
    profile = simulator.LoadProfile(seed=7, base=300, growth=0.03, day_zero=START.timestamp())
    again = simulator.LoadProfile(seed=7, base=300, growth=0.03, day_zero=START.timestamp())
    at = START + timedelta(days=2, hours=15)
    assert profile.requests(at.timestamp()) == again.requests(at.timestamp())

    def day_mean(day: int, hour: int) -> float:
        # the median of an hour's minutes: spikes and jitter aside
        t0 = (START + timedelta(days=day, hours=hour)).timestamp()
        values = sorted(profile.requests(t0 + 60 * m) for m in range(60))
        return values[30]

    assert day_mean(1, 15) > 2 * day_mean(1, 3)  # busy afternoons, quiet nights
    assert day_mean(6, 15) > day_mean(0, 15) * 1.1  # about 3% a day more
    spiky = [h for h in range(24 * 30) if simulator._noise(7, h, 3) < 0.03]
    assert 0 < len(spiky) < 24 * 30 * 0.1  # now and then


def test_a_bigger_tier_serves_the_same_load_at_lower_cpu():
    profile = simulator.LoadProfile(seed=3, base=250, growth=0.0, day_zero=START.timestamp())
    when = (START + timedelta(hours=10)).timestamp()
    cpu = {
        tier: simulator.sample(profile, simulator.Shape.of(tier, {}), when)
        for tier in (1, 2, 3, 4, 5)
    }
    assert cpu[1]["web_cpu"] > cpu[2]["web_cpu"] > cpu[3]["web_cpu"]
    assert cpu[3]["alb_response_time"] > cpu[4]["alb_response_time"]
    assert cpu[4]["db_cpu"] > cpu[5]["db_cpu"]  # the cache and the replica take the reads
    assert set(cpu[5]) == set(SPECS)


# --- publishing on the local cloud -----------------------------------------------------------
def quiet_minute(env) -> datetime:
    """A minute when the load fits a single t3.small, so no CPU reading is capped at 100%."""
    profile = simulator.LoadProfile.for_environment(env)
    t = START + timedelta(days=10)
    while profile.requests(t.timestamp()) > 400 or profile.requests(t.timestamp() + 60) > 400:
        t += timedelta(minutes=7)
    return t


def test_backfill_once_then_a_minute_at_a_time(cloud, web_alice):
    env = on_cloud(make_environment(*web_alice, "shop", tier=2), cloud.create(2))
    now = quiet_minute(env)
    first = simulator.simulate(now=now, environments=[env])
    assert first["backfilled"] == 1 and first["datums"] > 5000
    second = simulator.simulate(now=now + timedelta(seconds=60), environments=[env])
    assert second == {"environments": 1, "backfilled": 0, "datums": 9}  # 9 metrics at tier 2
    # A pause is caught up, an hour at most.
    third = simulator.simulate(now=now + timedelta(hours=5), environments=[env])
    assert third["datums"] == 9 * simulator.CATCH_UP_MINUTES

    for window in ("1h", "24h", "7d"):
        result = metrics.environment_metrics(
            environment=env, window=window, now=now + timedelta(seconds=61)
        )
        assert result.available and result.simulated
        for chart in result.charts:
            assert metrics.covered(result, chart.key) > 0.95, (window, chart.key)
    day = metrics.environment_metrics(environment=env, window="24h", now=now)
    assert 0 < max(day.values("web_cpu")) <= 100
    assert min(day.values("db_free_storage")) > 10 * 1024**3  # 20 GiB, mostly free


def test_cpu_falls_after_a_move_up(cloud, web_alice):
    env = on_cloud(make_environment(*web_alice, "grow", tier=2), cloud.create(2))
    now = quiet_minute(env)
    simulator.simulate(now=now, environments=[env])
    before = metrics.environment_metrics(
        environment=env, window="1h", now=now + timedelta(seconds=60)
    ).values("web_cpu")[-1]

    # The move is an in-place stack update: same stack, tier 3's resources and Outputs.
    moved = cloud.create(3, name=env.stack_name.replace("ladder", "moved"))
    env.tier, env.outputs, env.parameters = 3, moved["outputs"], moved["parameters"]
    env.save()
    simulator.simulate(now=now + timedelta(seconds=60), environments=[env])
    after = metrics.environment_metrics(
        environment=env, window="1h", now=now + timedelta(seconds=120)
    )
    cpu = after.chart("web_cpu")
    assert [len(s.values) for s in cpu.series] == [1, 1]  # both new instances, the new minute
    assert after.values("web_cpu")[-1] < 0.7 * before
    assert after.chart("alb_response_time").series[0].values[-1] > 0


def test_the_command_runs_once_on_the_local_cloud(cloud, web_alice, settings, capsys):
    on_cloud(make_environment(*web_alice, "cmd", tier=1), cloud.create(1))
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:4566"  # what local mode sets (mock_aws here)
    call_command("simulate_traffic", "--once")
    assert "1 backfilled" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("cloud_setting", "endpoint"),
    [("aws", ""), ("aws", "http://127.0.0.1:4566"), ("local", "https://monitoring.amazonaws.com")],
)
def test_the_command_never_runs_against_a_real_account(settings, cloud_setting, endpoint):
    settings.PORTAL_CLOUD, settings.AWS_ENDPOINT_URL = cloud_setting, endpoint
    with pytest.raises(CommandError, match="local cloud"):
        call_command("simulate_traffic", "--once")
