"""Tokens: 401 without one or with an unknown, expired or revoked one; the session works too;
the settings page and `manage.py create_token`."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from provisioning import services
from provisioning.errors import Forbidden, InvalidRequest
from provisioning.models import ApiToken, AuditEvent
from provisioning.services.tokens import token_hash
from tests.api.conftest import PASSWORD

pytestmark = pytest.mark.django_db
URL = "/api/v1/environments/"


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def assert_401(response, detail: str | None = None):
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    body = response.json()
    assert set(body) == {"detail", "code"}
    if detail:
        assert body["detail"] == detail


def test_without_a_token(people):
    assert_401(APIClient().get(URL), "Authentication credentials were not provided.")
    assert APIClient().get(URL).json()["code"] == "not_authenticated"


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token nope", "Token ldr_\u00e9"])
def test_malformed_or_unknown_tokens(people, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_401(client.get(URL))
    assert client.get(URL).json()["code"] == "authentication_failed"


def test_a_token_works_and_is_stored_hashed(people):
    token, key = services.token_create(user=people["alice"], name="ci", days=30)
    assert key.startswith("ldr_") and len(key) > 40
    assert token.key_hash == token_hash(key) and key not in token.key_hash
    assert token.key_prefix == key[:8]
    assert not ApiToken.objects.filter(key_hash=key).exists()
    assert client_with(key).get(URL).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_an_expired_token_is_a_401(people):
    token, key = services.token_create(user=people["alice"], name="ci", days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_401(client_with(key).get(URL), "this token has expired")


def test_a_revoked_token_is_a_401(people):
    token, key = services.token_create(user=people["alice"], name="ci")
    services.token_revoke(user=people["alice"], token=token)
    assert_401(client_with(key).get(URL), "this token has been revoked")
    assert AuditEvent.objects.filter(action="token.revoked").count() == 1


def test_the_token_of_an_inactive_user_is_a_401(people):
    _, key = services.token_create(user=people["alice"], name="ci")
    people["alice"].is_active = False
    people["alice"].save(update_fields=["is_active"])
    assert_401(client_with(key).get(URL))


def test_nobody_revokes_another_persons_token(people):
    token, _ = services.token_create(user=people["alice"], name="ci")
    with pytest.raises(Forbidden):
        services.token_revoke(user=people["bob"], token=token)


@pytest.mark.parametrize(("name", "days"), [("", 30), ("x" * 101, 30), ("ci", 0), ("ci", 9999)])
def test_token_create_checks_its_input(people, name, days):
    with pytest.raises(InvalidRequest):
        services.token_create(user=people["alice"], name=name, days=days)


def test_the_browser_session_works_and_writes_need_csrf(people, client):
    client.login(username="alice", password=PASSWORD)
    assert client.get(URL).status_code == 200
    csrf_client = APIClient(enforce_csrf_checks=True)
    csrf_client.login(username="alice", password=PASSWORD)
    response = csrf_client.post(URL, {"team": "web", "name": "x", "tier": 1}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def test_the_tokens_page_shows_a_new_key_once_and_revokes(people, client):
    client.login(username="alice", password=PASSWORD)
    page = client.get("/account/tokens/")
    assert page.status_code == 200 and b"No tokens yet" in page.content
    created = client.post("/account/tokens/", {"name": "deploy pipeline", "days": 30})
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    key = re.search(rb'id="new-token-key"[^>]*>(ldr_[^<]+)<', created.content).group(1).decode()
    assert client_with(key).get(URL).status_code == 200
    token = ApiToken.objects.get(user=people["alice"])
    again = client.get("/account/tokens/")
    assert key.encode() not in again.content and token.key_prefix.encode() in again.content
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 302
    assert_401(client_with(key).get(URL))
    assert b"revoked" in client.get("/account/tokens/").content


def test_the_tokens_page_reports_bad_input_and_hides_other_peoples_tokens(people, client):
    bobs, _ = services.token_create(user=people["bob"], name="bob's secret pipeline")
    client.login(username="alice", password=PASSWORD)
    bad = client.post("/account/tokens/", {"name": "", "days": 0})
    assert bad.status_code == 400 and not ApiToken.objects.filter(user=people["alice"]).exists()
    assert b"bob&#x27;s secret pipeline" not in client.get("/account/tokens/").content
    assert client.post(f"/account/tokens/{bobs.pk}/revoke/").status_code == 404
    bobs.refresh_from_db()
    assert bobs.revoked_at is None
    assert client.get(f"/account/tokens/{bobs.pk}/revoke/").status_code == 405


def test_the_tokens_page_needs_a_sign_in(client):
    assert client.get("/account/tokens/").status_code == 302


def test_create_token_command_prints_a_working_key(people):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_token", "bob", "--name", "etl", "--days", "7", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert key.startswith("ldr_") and "\n" not in key
    assert "etl" in err.getvalue() and key not in err.getvalue()
    token = ApiToken.objects.get(user=people["bob"])
    assert token.name == "etl"
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert client_with(key).get(URL).status_code == 200


def test_create_token_command_errors(people):
    with pytest.raises(CommandError, match="no user called 'nobody'"):
        call_command("create_token", "nobody", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="days"):
        call_command("create_token", "bob", "--days", "0", stdout=io.StringIO())


def test_a_platform_admin_revokes_a_leaked_token_in_the_admin(people, client):
    token, key = services.token_create(user=people["alice"], name="leaked")
    people["root"].is_staff = True
    people["root"].save(update_fields=["is_staff"])
    client.login(username="root", password=PASSWORD)
    listing = client.get("/admin/provisioning/apitoken/")
    assert listing.status_code == 200 and b"leaked" in listing.content
    assert token.key_hash.encode() not in listing.content
    response = client.post(
        "/admin/provisioning/apitoken/",
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    assert_401(client_with(key).get(URL), "this token has been revoked")
