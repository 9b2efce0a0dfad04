"""Security promises of the web portal (docs/security.md): CSP, cookies, sign-in rate
limiting and its audit, audited denials, CSRF."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from provisioning.models import AuditEvent
from tests.portal.conftest import PASSWORD
from tests.portal.test_settings import PRODUCTION, run_python

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def fresh_axes(db):
    from axes.utils import reset

    reset()


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


# --- 8: Content-Security-Policy ----------------------------------------------------------
def test_every_page_has_a_csp_without_inline_script_or_eval(client, world):
    client.force_login(world["alice"])
    urls = [
        reverse("home"),
        reverse("ladder"),
        reverse("environment-list"),
        reverse("environment-detail", args=[world["shop"].pk]),
        reverse("change-detail", args=[world["shop_change"].pk]),
        reverse("token-list"),
        "/no/such/page/",
    ]
    for url in urls:
        response = client.get(url)
        policy = csp_of(response)
        assert policy["default-src"] == ["'self'"], url
        assert policy["script-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"], url
        assert policy["frame-ancestors"] == ["'none'"], url
        header = response["Content-Security-Policy"]
        assert "unsafe-inline" not in " ".join(policy["script-src"] + policy["style-src"])
        assert "unsafe-eval" not in header, url
        html = response.content.decode()
        # No inline script (data blocks are fine), no event-handler attributes.
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), url
    anonymous = Client().get(LOGIN)
    assert "script-src 'self'" in anonymous["Content-Security-Policy"]


def test_swagger_ui_fits_the_csp(client, people):
    client.force_login(people["alice"])
    page = client.get("/api/docs/")
    assert page.status_code == 200
    policy = csp_of(page)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    html = page.content.decode()
    assert "<style" not in html
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all("src=" in tag for tag in scripts), scripts
    # The initialisation script is a same-origin file, not inline: ?script answers JS.
    script_url = re.findall(r'<script src="([^"]*script[^"]*)"', html)[-1].replace("&amp;", "&")
    script = client.get(script_url)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


# --- 8: cookies and session --------------------------------------------------------------
COOKIE_PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({k: getattr(s, k, None) for k in ('SESSION_COOKIE_SECURE', "
    "'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE', 'SESSION_COOKIE_AGE', "
    "'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'DEBUG')}))"
)


def test_production_cookies_are_secure_httponly_samesite_and_last_8_hours(child_env):
    env = {**child_env, **PRODUCTION, "PORTAL_SKIP_STARTUP_CHECKS": "1"}
    result = run_python(env, "-c", COOKIE_PROBE)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_AGE": 8 * 3600,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "DEBUG": False,
    }


def test_session_cookie_set_at_sign_in_is_httponly_lax_and_8_hours(people):
    client = Client()
    response = client.post(LOGIN, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 8 * 3600


# --- 9: sign-in rate limiting ------------------------------------------------------------
def sign_in(username: str, password: str, ip: str):
    return Client(REMOTE_ADDR=ip).post(LOGIN, {"username": username, "password": password})


def test_five_bad_passwords_lock_that_username_from_that_address_only(people):
    for _ in range(4):
        assert sign_in("alice", "wrong", "10.0.0.1").status_code == 200  # the form again
    assert sign_in("alice", "wrong", "10.0.0.1").status_code == 429  # the fifth locks
    locked = sign_in("alice", PASSWORD, "10.0.0.1")  # now even the right password
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed sign-in attempts" in page
    assert "Try again in 15 minutes" in page
    assert "Content-Security-Policy" in locked
    # Neither the same user from elsewhere nor another user from the same address is locked.
    assert sign_in("alice", PASSWORD, "10.0.0.2").status_code == 302
    assert sign_in("dave", PASSWORD, "10.0.0.1").status_code == 302


def test_a_successful_sign_in_resets_the_count(people):
    for _ in range(4):
        sign_in("alice", "wrong", "10.0.0.1")
    assert sign_in("alice", PASSWORD, "10.0.0.1").status_code == 302
    for _ in range(4):
        sign_in("alice", "wrong", "10.0.0.1")
    assert sign_in("alice", PASSWORD, "10.0.0.1").status_code == 302


def test_sign_ins_failures_and_sign_outs_are_audited(people):
    alice = people["alice"]
    sign_in("alice", "wrong", "10.0.0.1")
    sign_in("nobody-by-this-name", "wrong", "10.0.0.3")
    client = Client(REMOTE_ADDR="10.0.0.1")
    assert client.post(LOGIN, {"username": "alice", "password": PASSWORD}).status_code == 302
    client.post(reverse("logout"))

    failed = AuditEvent.objects.filter(action="auth.sign_in_failed")
    known = failed.get(object_type="user")
    assert (known.object_id, known.actor, known.ip) == (str(alice.pk), None, "10.0.0.1")
    unknown = failed.get(object_type="unknown_username")
    assert unknown.object_id == "nobody-by-this-name" and unknown.ip == "10.0.0.3"
    signed_in = AuditEvent.objects.get(action="auth.signed_in")
    assert (signed_in.actor, signed_in.object_id, signed_in.ip) == (
        alice,
        str(alice.pk),
        "10.0.0.1",
    )
    assert AuditEvent.objects.get(action="auth.signed_out").actor == alice
    assert not type(alice).objects.filter(username="nobody-by-this-name").exists()


# --- 10: denials are audited; CSRF -------------------------------------------------------
def test_a_page_on_another_teams_environment_is_a_404_and_audited(client, world):
    client.force_login(world["alice"])
    lake = world["lake"]
    url = reverse("environment-detail", args=[lake.pk])
    assert client.get(url).status_code == 404
    event = AuditEvent.objects.get(action="access.denied")
    assert (event.actor, event.object_type, event.object_id) == (
        world["alice"],
        "environment",
        str(lake.pk),
    )
    assert event.after == {
        "path": url,
        "method": "GET",
        "status": 404,
        "reason": "belongs to a team the user is not in",
    }
    # An id that exists nowhere refuses nothing: no audit row.
    assert client.get(reverse("environment-detail", args=[999999])).status_code == 404
    assert AuditEvent.objects.filter(action="access.denied").count() == 1


def test_a_forbidden_page_is_a_403_and_audited(client, world):
    client.force_login(world["dave"])  # not an approver
    assert client.get(reverse("approvals")).status_code == 403
    event = AuditEvent.objects.get(action="access.denied")
    assert event.actor == world["dave"]
    assert event.after["status"] == 403 and event.after["method"] == "GET"
    assert "approvers" in event.after["reason"]


def test_an_api_read_of_another_teams_change_is_a_404_and_audited(world):
    api = APIClient()
    api.force_authenticate(world["alice"])
    change = world["lake_change"]
    assert api.get(f"/api/v1/changes/{change.pk}/").status_code == 404
    event = AuditEvent.objects.get(action="access.denied")
    assert (event.actor, event.object_type, event.object_id) == (
        world["alice"],
        "changerequest",
        str(change.pk),
    )
    assert event.after["path"] == f"/api/v1/changes/{change.pk}/"
    assert api.get("/api/v1/changes/999999/").status_code == 404
    assert AuditEvent.objects.filter(action="access.denied").count() == 1


def test_a_state_changing_post_without_the_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["alice"])
    shop = world["shop"]
    url = reverse("environment-decommission", args=[shop.pk])
    refused = client.post(url, {"confirm": shop.name})
    assert refused.status_code == 403
    assert b"CSRF" in refused.content
    shop.refresh_from_db()
    assert shop.status == world["shop"].status
    # With the token from the page the same request reaches the view.
    page = client.get(reverse("token-list"))
    token = page.cookies["csrftoken"].value
    accepted = client.post(url, {"confirm": shop.name, "csrfmiddlewaretoken": token})
    assert accepted.status_code != 403


def test_behind_a_proxy_the_limit_keys_on_the_forwarded_client(people, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    def via_proxy(username, password, forwarded):
        client = Client(REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=forwarded)
        return client.post(LOGIN, {"username": username, "password": password})

    for _ in range(5):
        via_proxy("alice", "wrong", "spoofed, 203.0.113.7")
    assert via_proxy("alice", PASSWORD, "203.0.113.7").status_code == 429
    # Same proxy, another client: not locked out.
    assert via_proxy("alice", PASSWORD, "198.51.100.4").status_code == 302
    event = AuditEvent.objects.filter(action="auth.sign_in_failed").first()
    assert event is not None and event.ip == "203.0.113.7"
