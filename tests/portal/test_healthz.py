"""/healthz against real dependencies: an embedded Redis and a moto server on free ports."""

from __future__ import annotations

import pytest
from moto.server import ThreadedMotoServer

from provisioning.health import record_beat_heartbeat, record_worker_heartbeat
from tests.conftest import free_port


@pytest.fixture
def cloud(monkeypatch):
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    yield server
    server.stop()


@pytest.fixture
def deps(settings, embedded_redis, cloud):
    settings.REDIS_URL = embedded_redis.url
    return embedded_redis


@pytest.mark.django_db
def test_all_up_is_200(client, deps):
    record_worker_heartbeat(hostname="w1@test")
    record_beat_heartbeat()
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["down"] == []
    assert set(body["checks"]) == {"database", "redis", "celery_worker", "celery_beat", "cloud"}
    assert "123456789012" in body["checks"]["cloud"]["detail"]


@pytest.mark.django_db
def test_no_worker_heartbeat_is_503_naming_the_worker(client, deps):
    record_beat_heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["celery_worker"]


@pytest.mark.django_db
def test_stale_worker_heartbeat_is_503(client, deps, settings):
    record_worker_heartbeat(hostname="w1@test")
    record_beat_heartbeat()
    settings.WORKER_HEARTBEAT_MAX_AGE = -1  # every heartbeat is now too old
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "celery_worker" in response.json()["down"]


@pytest.mark.django_db
def test_stopped_redis_is_503_naming_redis(client, deps):
    record_worker_heartbeat(hostname="w1@test")
    record_beat_heartbeat()
    deps.stop()
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert "redis" in body["down"] and "database" not in body["down"]


@pytest.mark.django_db
def test_stopped_cloud_is_503_naming_the_cloud(client, deps, cloud):
    record_worker_heartbeat(hostname="w1@test")
    record_beat_heartbeat()
    cloud.stop()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["cloud"]


def test_healthz_needs_no_sign_in_and_only_get(client):
    assert client.post("/healthz").status_code == 405
