from __future__ import annotations

import pytest

from provisioning import services
from provisioning.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-test-password-1"


@pytest.fixture
def alice():
    web = services.team_ensure(slug="web", name="Web storefront")
    data = services.team_ensure(slug="data", name="Data platform")
    alice, _ = services.user_ensure(username="alice", password=PASSWORD)
    bob, _ = services.user_ensure(username="bob", password=PASSWORD)
    services.membership_ensure(team=web, user=alice, role=Membership.Role.LEAD)
    services.membership_ensure(team=data, user=bob)
    return alice


def test_sign_in_see_your_team_and_sign_out(page, alice, screenshot_dir):
    page.goto("/")
    assert "/accounts/login/" in page.url
    page.screenshot(path=str(screenshot_dir / "sign-in.png"))

    page.fill("#id_username", "alice")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator(".error").is_visible()

    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    assert page.locator("h1").inner_text() == "Hello, alice"
    rows = page.locator("table.table tbody tr")
    assert rows.count() == 1 and "web" in rows.first.inner_text()
    assert page.locator(".cloud-badge").inner_text() == "local cloud"
    page.screenshot(path=str(screenshot_dir / "overview.png"), full_page=True)

    page.click("table.table a[href='/teams/web/']")
    page.wait_for_url("**/teams/web/")
    assert "Lead" in page.locator("table.table").inner_text()

    response = page.goto("/teams/data/")
    assert response.status == 404

    page.goto("/")
    page.click("text=Sign out")
    page.wait_for_url("**/accounts/login/")
    page.goto("/")
    assert "/accounts/login/" in page.url
