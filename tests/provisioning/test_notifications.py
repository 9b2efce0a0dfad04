"""Notifications: the engine rings on commit, jobs email the right people and write one
delivery per webhook, deliveries are signed and retried with backoff after a 500, and nothing
reaches the metadata service or (outside local mode) private networks."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from provisioning import engine, jobs, notifications, services
from provisioning.errors import Forbidden, InvalidRequest
from provisioning.models import Webhook, WebhookDelivery
from provisioning.roles import APPROVERS
from provisioning.services import webhooks
from tests.factories import make_change, make_environment

PASSWORD = "a-long-test-password-1"


class Receiver:
    """A webhook endpoint on 127.0.0.1: answers the scripted statuses, records requests."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.requests = list(statuses), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(*statuses):
        made.append(Receiver(list(statuses)))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def enqueued(monkeypatch):
    """What would go on the notifications queue: (function, args, delay)."""
    seen: list[tuple[str, tuple, float]] = []
    monkeypatch.setattr(
        notifications, "enqueue",
        lambda function, *args, delay=0: seen.append((function, args, delay)) or True,
    )  # fmt: skip
    return seen


@pytest.fixture
def people(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.PORTAL_BASE_URL = "https://ladder.example.com"
    web = services.team_ensure(slug="web", name="Web")
    users = {}
    for name, groups in (("alice", ()), ("dave", ()), ("carol", (APPROVERS,)), ("erin", ())):
        users[name], _ = services.user_ensure(
            username=name, password=PASSWORD, email=f"{name}@example.com", groups=groups
        )
    services.membership_ensure(team=web, user=users["alice"], role="lead")
    services.membership_ensure(team=web, user=users["dave"])
    return {**users, "web": web}


def test_a_transition_rings_once_it_is_committed(
    people, enqueued, django_capture_on_commit_callbacks
):
    env = make_environment(people["web"], people["dave"], "shop")
    change = make_change(env, people["dave"], to_tier=3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        engine.change_transition(change_id=change.pk, to="approved", actor=people["carol"])
        assert enqueued == []  # not before the commit
    for callback in callbacks:
        callback()
    assert enqueued == [("provisioning.jobs.notify_change", (change.pk, "change.approved"), 0)]


def test_needs_approval_emails_the_approvers_with_a_link(people, enqueued):
    env = make_environment(people["web"], people["dave"], "shop")
    change = make_change(env, people["dave"], to_tier=3)
    result = jobs.notify_change(change.pk, "change.needs_approval")
    assert result == {"emails": 1, "webhooks": 0}
    (message,) = mail.outbox
    assert message.to == ["carol@example.com"]
    assert "needs approval" in message.subject and "web/shop" in message.subject
    assert f"https://ladder.example.com/changes/{change.pk}/" in message.body


def test_outcomes_email_the_requester_and_the_leads(people, enqueued):
    env = make_environment(people["web"], people["dave"], "shop")
    change = make_change(env, people["dave"], to_tier=3, status="applied")
    assert jobs.notify_change(change.pk, "change.applied")["emails"] == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "dave@example.com"]
    assert all("was applied" in m.subject for m in mail.outbox)


def test_webhooks_get_the_events_they_asked_for(people, enqueued, receiver,
                                                django_capture_on_commit_callbacks):  # fmt: skip
    endpoint = receiver()
    everything = webhooks.webhook_create(user=people["alice"], team=people["web"], url=endpoint.url)
    only_failures = webhooks.webhook_create(
        user=people["alice"], team=people["web"], url=endpoint.url, events=["change.failed"]
    )
    env = make_environment(people["web"], people["dave"], "shop")
    change = make_change(env, people["dave"], to_tier=3, status="applied")
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.notify_change(change.pk, "change.applied")["webhooks"] == 1
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.webhook == everything and delivery.event == "change.applied"
    assert delivery.payload["change"]["id"] == change.pk and delivery.payload["team"] == "web"
    assert enqueued == [("provisioning.jobs.deliver_webhook", (delivery.pk,), 0)]
    assert not only_failures.wants("change.applied") and only_failures.wants("change.failed")


def test_a_delivery_is_signed_and_retried_with_backoff_after_a_500(
    people, enqueued, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_BASE = 30
    endpoint = receiver(500)
    hook = webhooks.webhook_create(user=people["alice"], team=people["web"], url=endpoint.url)
    payload = {"event": "change.applied", "change": {"id": 7}, "team": "web"}
    delivery = WebhookDelivery.objects.create(
        webhook=hook, event="change.applied", payload=payload, next_attempt_at=timezone.now()
    )
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.deliver_webhook(delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status_code, delivery.error) == (1, 500, "HTTP 500")
    assert enqueued == [("provisioning.jobs.deliver_webhook", (delivery.pk,), 30.0)]
    assert timedelta(seconds=29) < delivery.next_attempt_at - now < timedelta(seconds=32)
    assert notifications.deliver(delivery.pk) == "not-due"  # a duplicate doorbell sends nothing

    later = delivery.next_attempt_at + timedelta(seconds=1)
    assert notifications.deliver(delivery.pk, now=later) == "delivered"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.status_code, delivery.attempts) == ("delivered", 200, 2)
    assert delivery.delivered_at == later and delivery.next_attempt_at is None

    assert len(endpoint.requests) == 2
    for attempt, (headers, body) in enumerate(endpoint.requests, start=1):
        assert json.loads(body) == payload
        expected = hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Ladder-Signature-256"] == f"sha256={expected}"
        assert headers["X-Ladder-Event"] == "change.applied"
        assert headers["X-Ladder-Attempt"] == str(attempt)
        assert headers["Content-Type"] == "application/json"
    assert endpoint.requests[0][1] == endpoint.requests[1][1]  # the same signed body each time
    assert list(notifications.delivery_list(team=people["web"])) == [delivery]


def test_a_delivery_gives_up_after_the_last_attempt(people, enqueued, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    endpoint = receiver(500, 502)
    hook = webhooks.webhook_create(user=people["alice"], team=people["web"], url=endpoint.url)
    delivery = WebhookDelivery.objects.create(webhook=hook, event="change.failed", payload={})
    assert notifications.deliver(delivery.pk) == "pending"
    assert notifications.deliver(delivery.pk, now=timezone.now() + timedelta(hours=1)) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status_code, delivery.attempts, delivery.next_attempt_at) == (502, 2, None)


def test_lost_doorbells_are_rung_again(people, enqueued, receiver):
    hook = webhooks.webhook_create(user=people["alice"], team=people["web"], url=receiver().url)
    late = WebhookDelivery.objects.create(
        webhook=hook, event="change.failed", payload={},
        next_attempt_at=timezone.now() - timedelta(minutes=5),
    )  # fmt: skip
    WebhookDelivery.objects.create(
        webhook=hook, event="change.failed", payload={}, next_attempt_at=timezone.now()
    )
    assert notifications.redeliver_due() == 1
    assert enqueued == [("provisioning.jobs.deliver_webhook", (late.pk,), 0)]


def test_webhooks_never_reach_the_metadata_service_or_private_networks(people, settings):
    alice, team = people["alice"], people["web"]
    with pytest.raises(InvalidRequest) as link_local:
        webhooks.webhook_create(user=alice, team=team, url="http://169.254.169.254/latest/")
    assert "forbidden address" in link_local.value.fields["url"]
    with pytest.raises(InvalidRequest):
        webhooks.webhook_create(user=alice, team=team, url="file:///etc/passwd")
    with pytest.raises(InvalidRequest):
        webhooks.webhook_create(user=alice, team=team, url="https://x.test/", events=["nope"])
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(InvalidRequest, match="bad url"):
        webhooks.webhook_create(user=alice, team=team, url="http://127.0.0.1:9/hook")
    with pytest.raises(Forbidden):
        webhooks.webhook_create(user=people["dave"], team=team, url="https://x.test/")
    assert Webhook.objects.count() == 0


def test_a_redis_outage_never_breaks_a_transition(monkeypatch):
    import django_rq

    def down(name):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(django_rq, "get_queue", down)
    assert notifications.enqueue("provisioning.jobs.ping") is False
    notifications.change_status_changed(1, "applied")  # logs, does not raise


def test_a_new_recommendation_tells_the_team(people, enqueued, receiver,
                                             django_capture_on_commit_callbacks):  # fmt: skip
    from provisioning.models import Recommendation

    webhooks.webhook_create(user=people["alice"], team=people["web"], url=receiver().url,
                            events=["recommendation.new"])  # fmt: skip
    env = make_environment(people["web"], people["dave"], "shop", tier=3)
    rec = Recommendation.objects.create(
        environment=env, kind="move_down", title="Quiet for a week", summary="Save money.",
        evidence=[{"text": "web CPU p95 9% over 7 days", "window": "7d"}], window="7d",
        from_tier=3, target_tier=2, monthly_saving="33.80",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.notify_recommendation(rec.pk) == {"emails": 2, "webhooks": 1}
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "dave@example.com"]
    assert "web CPU p95 9% over 7 days (7d)" in mail.outbox[0].body
    assert f"https://ladder.example.com/environments/{env.pk}/" in mail.outbox[0].body
    payload = WebhookDelivery.objects.get().payload
    assert payload["recommendation"]["change_request"] == {
        "tier": 2, "parameters": {}, "reason": "Advisor: Quiet for a week"}  # fmt: skip
    rec.status = "dismissed"
    rec.save()
    assert jobs.notify_recommendation(rec.pk) == {"emails": 0, "webhooks": 0}
