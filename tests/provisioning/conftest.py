"""Fixtures shared by the metric and simulator tests: an in-process local cloud (moto with
the portal's fixes), a cache of their own, and team web with alice."""

from __future__ import annotations

import pytest

from provisioning import services
from tests.provisioning.localcloud import local_cloud


@pytest.fixture(scope="module")
def cloud():
    with local_cloud() as cloud:
        yield cloud


@pytest.fixture
def fresh_cache(settings):
    """A per-process cache, emptied: a cached metrics answer never leaks between tests."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def web_alice(db):
    team = services.team_ensure(slug="web", name="Web")
    user, _ = services.user_ensure(username="alice", password="a-long-test-password-1")
    return team, user
