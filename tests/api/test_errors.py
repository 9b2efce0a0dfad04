"""One error shape everywhere, JSON 404s under /api/, 405, 415, and 429 from throttling."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_unknown_api_paths_answer_json_404(api):
    for path in ("/api/v1/nope/", "/api/v2/environments/", "/api/", "/api/v1/environments/x/"):
        response = api("alice").get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found", path


def test_missing_ids_answer_404_in_the_error_shape(api):
    for path in ("/api/v1/environments/999999/", "/api/v1/changes/999999/",
                 f"/api/v1/environments/{2**70}/", "/api/v1/teams/nope/"):  # fmt: skip
        response = api("alice").get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_wrong_method_and_wrong_media_type(api, world):
    alice = api("alice")
    deleted = alice.delete(f"/api/v1/environments/{world['shop'].pk}/")
    assert deleted.status_code == 405 and deleted.json()["code"] == "method_not_allowed"
    form = alice.post("/api/v1/environments/", {"team": "web"})  # multipart, not JSON
    assert form.status_code == 415 and form.json()["code"] == "unsupported_media_type"


def test_writes_are_throttled_per_user(api, people, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100/minute", "user": "100/minute", "write": "2/minute"},
    }
    alice, dave = api("alice"), api("dave")
    body = {"team": "web", "name": "Not A Name", "tier": 1}
    assert [alice.post("/api/v1/environments/", body, format="json").status_code
            for _ in range(2)] == [400, 400]  # fmt: skip
    throttled = alice.post("/api/v1/environments/", body, format="json")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled" and int(throttled["Retry-After"]) > 0
    assert alice.get("/api/v1/environments/").status_code == 200  # reads have their own budget
    assert dave.post("/api/v1/environments/", body, format="json").status_code == 400


def test_reads_are_throttled_per_user(api, people, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100/minute", "user": "3/minute", "write": "9/minute"},
    }
    alice = api("alice")
    codes = [alice.get("/api/v1/ladder/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_an_unexpected_error_is_a_json_500(api, people, monkeypatch):
    from provisioning import selectors

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "team_usage_list_for_user", broken)
    response = api("alice").get("/api/v1/teams/")
    assert response.status_code == 500
    assert response.json() == {
        "detail": "internal error: it has been logged",
        "code": "server_error",
    }


def test_the_schema_and_docs_need_a_sign_in(people):
    assert APIClient().get("/api/schema/").status_code == 401
    assert APIClient().get("/api/docs/").status_code == 401


def test_without_redis_the_api_answers_unthrottled(api, people, settings):
    from tests.conftest import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert api("alice").get("/api/v1/ladder/").status_code == 200
