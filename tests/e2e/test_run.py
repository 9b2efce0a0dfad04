"""`make run`'s launcher end to end: every process up, /healthz 200, a demo user signs in,
one Ctrl-C stops everything it started. SQLite, an embedded Redis and the moto local cloud,
as on a fresh machine."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.conftest import free_port, wait_for
from worker.run import (
    RunError,
    celery_concurrency,
    plan_processes,
    resolve_redis,
    web_concurrency,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except OSError:
        return 0, {}


def sign_in(base: str, username: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/accounts/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(f"{base}/accounts/login/", data=form)
    request.add_header("Referer", f"{base}/accounts/login/")
    return opener.open(request, timeout=10).read().decode()


def test_resolve_redis_prefers_the_setting_then_a_running_one_then_embedded(embedded_redis):
    assert resolve_redis({"REDIS_URL": "redis://x:1/0"}) == "redis://x:1/0"
    assert resolve_redis({}, probe_url=embedded_redis.url) == embedded_redis.url
    closed = f"redis://127.0.0.1:{free_port()}/0"
    assert resolve_redis({}, probe_url=closed) is None
    assert resolve_redis({"PORTAL_EMBEDDED_REDIS": "always"}, probe_url=embedded_redis.url) is None


def test_a_busy_port_is_a_clear_error(embedded_redis):
    with pytest.raises(RunError, match=f"port {embedded_redis.port} is in use: .* set PORT"):
        plan_processes({"PORT": str(embedded_redis.port)})


def test_make_run_starts_everything_and_ctrl_c_stops_it(processes, child_env):
    port = free_port()
    env = {
        **{k: v for k, v in child_env.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "PORT": str(port),
        "LOCAL_CLOUD_PORT": str(free_port()),
        "PORTAL_EMBEDDED_REDIS": "always",
        "WEB_CONCURRENCY": "1",
    }
    runner = processes.start([sys.executable, "-m", "worker.run"], env=env, name="run")
    base = f"http://127.0.0.1:{port}"

    status, body = wait_for(
        lambda: (lambda r: r if r[0] == 200 or runner.poll() is not None else None)(
            get_json(f"{base}/healthz")
        ),
        timeout=150,
        interval=0.5,
    )
    assert status == 200, (body, processes.log(runner))
    assert body["checks"]["database"]["detail"] == "sqlite"
    log = wait_for(
        lambda: "Ladder is up" in processes.log(runner) and processes.log(runner), timeout=30
    )
    assert f"http://127.0.0.1:{port}/" in log and "(embedded)" in log

    logins_file = Path(child_env["PORTAL_STATE_DIR"]) / "demo-logins.json"
    passwords = json.loads(logins_file.read_text())
    assert f"alice  {passwords['alice']}" in log
    page = sign_in(base, "alice", passwords["alice"])
    assert "Hello, alice" in page and "/teams/web/" in page

    children = psutil.Process(runner.pid).children(recursive=True)
    names = " ".join(" ".join(c.cmdline()) for c in children)
    started = ["gunicorn", "celery", "beat", "rqworker", "worker.localcloud", "redis-server"]
    for expected in [*started, "simulate_traffic"]:
        assert expected in names, names

    runner.send_signal(signal.SIGINT)
    assert runner.wait(timeout=60) is not None
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, [" ".join(p.cmdline()) for p in alive]


@pytest.mark.parametrize(
    ("environ", "workers"),
    [
        ({"WEB_CONCURRENCY": "3"}, 3),
        ({}, 2),  # the local SQLite file takes one writer at a time
        ({"DATABASE_URL": "sqlite:////tmp/x.db"}, 2),
        ({"DATABASE_URL": "postgres://u@h/db"}, 2 * (os.cpu_count() or 1) + 1),
    ],
)
def test_gunicorn_workers_follow_the_database(environ, workers):
    assert web_concurrency(environ) == workers


@pytest.mark.parametrize(
    ("environ", "processes"),
    [
        ({"CELERY_CONCURRENCY": "3"}, 3),
        ({}, 1),  # the local cloud: moto is not safe under parallel calls
        ({"PORTAL_CLOUD": "aws"}, os.cpu_count() or 1),
    ],
)
def test_celery_processes_follow_the_cloud(environ, processes):
    assert celery_concurrency(environ) == processes
