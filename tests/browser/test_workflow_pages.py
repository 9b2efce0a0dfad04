"""The self-service workflow in a real Chromium: the ladder, the request form with its live
estimate, the plan, an approval, and the environment page following the stack live.

No worker runs here: where one would act, the test moves the change the way the worker does
(workflow.decide_change after planning, the engine's transitions and stored stack events while
applying), so that what is checked is what the pages show and how they follow along.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from provisioning import engine, services, workflow
from provisioning.models import ChangeRequest, Environment, Membership, StackEvent
from provisioning.roles import APPROVERS
from provisioning.services import changes
from tests.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-test-password-1"
S = ChangeRequest.Status


@pytest.fixture
def people(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    web = services.team_ensure(slug="web", name="Web storefront")
    alice, _ = services.user_ensure(username="alice", password=PASSWORD)
    carol, _ = services.user_ensure(username="carol", password=PASSWORD, groups=(APPROVERS,))
    services.membership_ensure(team=web, user=alice, role=Membership.Role.LEAD)
    return {"alice": alice, "carol": carol, "web": web}


@pytest.fixture
def doorbell(monkeypatch):
    """The services ring the worker's doorbell on commit; no worker listens here."""
    rung: list[tuple[str, int]] = []
    monkeypatch.setattr(changes, "enqueue", lambda task, change_id: rung.append((task, change_id)))
    return rung


def sign_in(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def sign_out(page):
    page.click("text=Sign out")
    page.wait_for_url("**/accounts/login/")


def add_events(change, *rows):
    start = StackEvent.objects.filter(change=change).count()
    now = timezone.now()
    for n, (logical_id, rtype, status) in enumerate(rows, start=start + 1):
        StackEvent.objects.create(
            change=change,
            event_id=f"ev-{change.pk}-{n}",
            sequence=n,
            logical_id=logical_id,
            resource_type=rtype,
            physical_id=f"phys-{logical_id}",
            status=status,
            timestamp=now + timedelta(seconds=n),
        )


def test_request_plan_approve_and_watch_it_build(page, people, doorbell, screenshot_dir):
    # --- alice: the ladder -------------------------------------------------------------
    sign_in(page, "alice")
    page.click("nav.mainnav >> text=Ladder")
    page.wait_for_url("**/ladder/")
    assert page.locator(".rung").count() == 5
    assert "High availability" in page.locator(".rung-3").inner_text()
    page.screenshot(path=str(screenshot_dir / "ladder.png"), full_page=True)

    # --- the request form: parameters follow the tier, the estimate follows the choices -
    page.click(".rung-3 >> text=Request tier 3")
    page.wait_for_url("**/environments/new/?tier=3")
    assert page.locator("#id_tier_2").is_checked()  # the third radio: tier 3
    assert page.locator("#id_db_instance_class").is_visible()
    assert not page.locator("#id_cache_node_type").is_visible()
    assert not page.locator("#id_web_min_size").is_visible()
    page.locator(".estimate-total").wait_for()
    tier3_cost = page.locator(".estimate-total").inner_text()

    page.click("label[for=id_tier_4]")  # tier 5: the cache and workers appear
    assert page.locator("#id_cache_node_type").is_visible()
    assert page.locator("#id_web_min_size").is_visible()
    wait_for(lambda: page.locator(".estimate-total").inner_text() != tier3_cost, timeout=5)
    page.click("label[for=id_tier_2]")  # back to tier 3
    assert not page.locator("#id_cache_node_type").is_visible()
    wait_for(lambda: page.locator(".estimate-total").inner_text() == tier3_cost, timeout=5)

    page.fill("#id_name", "storefront")
    page.select_option("#id_db_instance_class", "db.t4g.medium")
    wait_for(lambda: page.locator(".estimate-total").inner_text() != tier3_cost, timeout=5)
    page.fill("#id_reason", "The spring launch needs a site that survives an AZ outage.")
    page.evaluate("window.scrollTo(0, 0)")  # the estimate panel is sticky
    page.screenshot(path=str(screenshot_dir / "request-form.png"), full_page=True)
    page.click("button:has-text('See the plan')")
    page.wait_for_url("**/changes/*/")

    # --- the plan -----------------------------------------------------------------------
    change = ChangeRequest.objects.get()
    assert doorbell == [("provisioning_plan", change.pk)]
    assert change.to_tier == 3 and change.to_parameters["db_instance_class"] == "db.t4g.medium"
    workflow.decide_change(change)  # what the worker does once the plan is made
    page.reload()
    assert "Awaiting approval" in page.locator("h1 .pill").inner_text()
    plan_table = page.locator("table.plan-table")
    assert "LoadBalancer" in plan_table.inner_text() and "Database" in plan_table.inner_text()
    assert "tier 3 is above the team's auto-approve limit" in page.content()
    assert page.locator("button:has-text('Approve')").count() == 0
    assert "someone else must approve it" in page.locator(".decision").inner_text()
    page.screenshot(path=str(screenshot_dir / "plan.png"), full_page=True)
    sign_out(page)

    # --- carol approves -------------------------------------------------------------------
    sign_in(page, "carol")
    page.click("nav.mainnav >> text=Approvals")
    page.wait_for_url("**/approvals/")
    assert "storefront" in page.locator("table.table").first.inner_text()
    page.screenshot(path=str(screenshot_dir / "approvals.png"), full_page=True)
    page.click(f"a[href='/changes/{change.pk}/']")
    page.fill("#id_note", "Fine for the launch.")
    page.click("button:has-text('Approve')")
    page.wait_for_url(f"**/changes/{change.pk}/")
    assert "Approved" in page.locator("h1 .pill").inner_text()
    assert "Fine for the launch." in page.locator(".decisions").inner_text()
    assert ChangeRequest.objects.get(pk=change.pk).status == S.APPROVED
    assert doorbell[-1] == ("provisioning_apply", change.pk)
    sign_out(page)

    # --- alice watches it build -----------------------------------------------------------
    engine.change_transition(
        change_id=change.pk,
        to=S.APPLYING,
        fields={"apply_requested_at": timezone.now(), "apply_started_at": timezone.now()},
    )
    add_events(
        change,
        ("ladder-web-storefront", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS"),
        ("Database", "AWS::RDS::DBInstance", "CREATE_IN_PROGRESS"),
        ("LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", "CREATE_IN_PROGRESS"),
    )
    sign_in(page, "alice")
    environment = change.environment
    page.goto(f"/environments/{environment.pk}/")
    assert "Applying" in page.locator(".banner .pill").inner_text()
    assert page.locator("#stack-events .live").is_visible()
    assert page.locator(".events-table tbody tr").count() == 3

    add_events(
        change,
        ("LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", "CREATE_COMPLETE"),
        ("WebInstanceA", "AWS::EC2::Instance", "CREATE_COMPLETE"),
        ("WebInstanceB", "AWS::EC2::Instance", "CREATE_COMPLETE"),
    )
    # A function, not an expression: Playwright evals a bare expression, which the CSP refuses.
    page.wait_for_function("() => document.querySelectorAll('.events-table tbody tr').length == 6")
    page.screenshot(path=str(screenshot_dir / "environment-live.png"), full_page=True)

    add_events(
        change,
        ("Database", "AWS::RDS::DBInstance", "CREATE_COMPLETE"),
        ("ladder-web-storefront", "AWS::CloudFormation::Stack", "CREATE_COMPLETE"),
    )
    with transaction.atomic():
        engine.change_transition(change_id=change.pk, to=S.APPLIED, explanation="stack created")
        locked = Environment.objects.select_for_update().get(pk=environment.pk)
        engine.environment_transition(
            environment=locked,
            to=Environment.Status.READY,
            fields={
                "tier": change.to_tier,
                "parameters": change.to_parameters,
                "monthly_cost": change.monthly_cost_after,
                "stack_id": "arn:aws:cloudformation:us-east-1:123456789012:stack/"
                "ladder-web-storefront/5f0c",
                "outputs": {
                    "SiteUrl": "http://ladder-web-storefront-1234.us-east-1.elb.amazonaws.com",
                    "DatabaseEndpoint": "storefront.c9xkq.us-east-1.rds.amazonaws.com",
                    "LoadBalancerDnsName": "ladder-web-storefront-1234.us-east-1.elb.amazonaws.com",
                },
            },
        )
    # The poll sees the change finished and reloads the page: ready, with its address.
    page.locator("h1 .pill:has-text('Ready')").wait_for(timeout=10_000)
    site = page.locator("a[href^='http://ladder-web-storefront']")
    assert site.is_visible()
    assert page.locator(".ladder-bar li.current").inner_text().startswith("3")
    assert page.locator(".events-table tbody tr").count() == 8
    assert not page.locator("#stack-events .live").is_visible()
    page.screenshot(path=str(screenshot_dir / "environment-detail.png"), full_page=True)

    # --- and back down a rung: the plan flags what is lost, the name confirms it -----------
    page.click("text=Down to tier 2")
    page.wait_for_url(f"**/environments/{environment.pk}/change/?tier=2")
    page.locator("#estimate .notes li.destructive").first.wait_for()
    page.fill("#id_reason", "Launch is over; back to one server.")
    page.click("button:has-text('See the plan')")
    assert "type the environment's name" in page.locator("#id_confirm_error").inner_text()
    page.fill("#id_confirm", "storefront")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_dir / "change-form.png"), full_page=True)
    page.click("button:has-text('See the plan')")
    page.wait_for_url("**/changes/*/")
    downgrade = ChangeRequest.objects.get(kind="downgrade")
    assert downgrade.confirmed and downgrade.to_tier == 2
    assert page.locator("table.plan-table .act-remove").count() >= 1
    assert page.locator(".notes li.destructive").count() >= 1
    page.screenshot(path=str(screenshot_dir / "plan-downgrade.png"), full_page=True)

    page.click("nav.mainnav >> text=Environments")
    page.wait_for_url("**/environments/")
    assert "storefront" in page.locator("table.table").inner_text()
    page.screenshot(path=str(screenshot_dir / "environments.png"), full_page=True)
    page.click("nav.mainnav >> text=Audit")
    page.wait_for_url("**/audit/")
    assert "change.approved" in page.locator("table.table").inner_text()
    page.screenshot(path=str(screenshot_dir / "audit.png"), full_page=True)
