"""The provisioning stack for end-to-end tests: a moto local cloud, Celery worker and beat
processes, an embedded Redis that this process's Celery app publishes to."""

from __future__ import annotations

import sys
import urllib.request
from urllib.parse import quote

import pytest
from django.db import connection

from tests.conftest import free_port, wait_for
from worker.celery import app as celery_app


def database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "postgres") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def stack(processes, child_env, embedded_redis, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("worker processes share the test database only on PostgreSQL (make test)")
    cloud_port = free_port()
    endpoint = f"http://127.0.0.1:{cloud_port}"
    env = {
        **child_env,
        "DATABASE_URL": database_url(),
        "REDIS_URL": embedded_redis.url,
        "PORTAL_CLOUD": "local",
        "LOCAL_CLOUD_PORT": str(cloud_port),
        "SWEEP_SECONDS": "2",
        "NOTIFICATION_DRAIN_SECONDS": "0.5",
        "RECONCILE_SECONDS": "5",
        "RECONCILE_AFTER_SECONDS": "10",
    }
    processes.start(
        [sys.executable, "-m", "worker.localcloud", "--port", str(cloud_port)],
        env=env,
        name="cloud",
    )
    wait_for(lambda: _answers(endpoint), timeout=30)
    common = ["-A", "worker.celery"]
    processes.start(
        [sys.executable, "-m", "celery", *common, "worker", "--queues", "provisioning,tracking,default",
         "--concurrency", "1", "--hostname", "journey@%h", "--without-gossip", "--without-mingle"],
        env=env, name="worker",
    )  # fmt: skip
    processes.start(
        [sys.executable, "-m", "celery", *common, "beat", "--schedule", f"{child_env['PORTAL_STATE_DIR']}/beat"],
        env=env, name="beat",
    )  # fmt: skip
    # This process enqueues (services ring on commit) to the same Redis as the worker.
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    previous = celery_app.conf.broker_url, celery_app.conf.result_backend
    celery_app.close()
    celery_app.conf.broker_url = celery_app.conf.result_backend = embedded_redis.url
    celery_app.amqp._producer_pool = None
    yield endpoint
    celery_app.close()
    celery_app.conf.broker_url, celery_app.conf.result_backend = previous
    celery_app.amqp._producer_pool = None


def _answers(endpoint: str) -> bool:
    try:
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
        return True
    except OSError:
        return False
