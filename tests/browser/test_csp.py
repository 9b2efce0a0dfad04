"""The Content-Security-Policy in a real browser: no page of ours, nor the Swagger UI, makes
Chromium refuse anything (docs/security.md, item 8)."""

from __future__ import annotations

import pytest

from provisioning import services
from provisioning.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-test-password-1"


def test_pages_and_swagger_ui_run_under_the_csp(page):
    web = services.team_ensure(slug="web", name="Web storefront")
    alice, _ = services.user_ensure(username="alice", password=PASSWORD)
    services.membership_ensure(team=web, user=alice, role=Membership.Role.LEAD)
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    page.goto("/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    for url in ("/", "/ladder/", "/environments/", "/environments/new/", "/teams/web/"):
        response = page.goto(url)
        assert response.status == 200, url
        assert "script-src 'self'" in response.headers["content-security-policy"]

    response = page.goto("/api/docs/")
    assert response.status == 200
    page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    assert "Ladder API" in page.locator(".swagger-ui .info .title").inner_text()
    page.wait_for_selector(".opblock", timeout=15000)  # the schema loaded and rendered
    assert refused == []
