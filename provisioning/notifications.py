"""Telling a team what happened: email and signed webhooks, sent by RQ jobs.

The engine calls ``change_status_changed`` once a transition is committed and the advisor
calls ``recommendation_created``: both only ring the `notifications` queue (never raise).
The jobs (provisioning.jobs) write one ``WebhookDelivery`` row per webhook before sending:
the row is the truth, the queue the doorbell; ``redeliver_due`` rings again for rows whose
doorbell was lost. A delivery POSTs JSON with ``X-Ladder-Signature-256: sha256=<HMAC of the
body with the webhook's secret>`` and is retried with exponential backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from provisioning.models import (
    ChangeRequest,
    Membership,
    Recommendation,
    Team,
    Webhook,
    WebhookDelivery,
)

log = logging.getLogger(__name__)

NOTIFICATIONS_QUEUE = "notifications"
EVENTS: dict[str, str] = {
    "change.needs_approval": "needs approval",
    "change.approved": "was approved",
    "change.rejected": "was rejected",
    "change.applied": "was applied",
    "change.failed": "failed",
    "recommendation.new": "new recommendation",
}
STATUS_EVENTS = {
    "awaiting_approval": "change.needs_approval",
    "approved": "change.approved",
    "rejected": "change.rejected",
    "applied": "change.applied",
    "failed": "change.failed",
    "errored": "change.failed",
}
SIGNATURE_HEADER = "X-Ladder-Signature-256"
TIMEOUT_SECONDS = 10
LEASE_SECONDS = 60  # a delivery being sent is not due again before this
REDELIVER_GRACE_SECONDS = 60


# --- the doorbells ---------------------------------------------------------------------------
def enqueue(function: str, *args: Any, delay: float = 0) -> bool:
    """Put a job on the notifications queue; a Redis outage is logged, never raised."""
    try:
        import django_rq

        queue = django_rq.get_queue(NOTIFICATIONS_QUEUE)
        if delay > 0:
            queue.enqueue_in(timedelta(seconds=delay), function, *args)
        else:
            queue.enqueue(function, *args)
    except Exception:
        log.warning("could not enqueue %s%s", function, args, exc_info=True)
        return False
    return True


def change_status_changed(change_id: int, status: str) -> None:
    """Called by engine.change_transition on commit."""
    event = STATUS_EVENTS.get(status)
    if event:
        enqueue("provisioning.jobs.notify_change", change_id, event)


def recommendation_created(recommendation_id: int) -> None:
    enqueue("provisioning.jobs.notify_recommendation", recommendation_id)


# --- what is said --------------------------------------------------------------------------
def absolute_url(name: str, pk: int, fallback: str) -> str:
    try:
        path = reverse(name, args=[pk])
    except NoReverseMatch:
        path = fallback
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def change_payload(change: ChangeRequest, event: str) -> dict[str, Any]:
    env = change.environment
    return {
        "event": event,
        "team": env.team.slug,
        "environment": {"id": env.pk, "name": env.name, "tier": env.tier, "status": env.status,
                        "region": env.region},
        "change": {"id": change.pk, "kind": change.kind, "status": change.status,
                   "from_tier": change.from_tier, "to_tier": change.to_tier,
                   "requester": change.requester.get_username(), "reason": change.reason,
                   "explanation": change.explanation,
                   "monthly_cost_after": str(change.monthly_cost_after),
                   "url": absolute_url("change-detail", change.pk, f"/changes/{change.pk}/")},
    }  # fmt: skip


def recommendation_payload(rec: Recommendation) -> dict[str, Any]:
    env = rec.environment
    return {
        "event": "recommendation.new",
        "team": env.team.slug,
        "environment": {"id": env.pk, "name": env.name, "tier": env.tier, "region": env.region},
        "recommendation": {
            **rec.as_dict(),
            "url": absolute_url("environment-detail", env.pk, f"/environments/{env.pk}/"),
        },
    }


def approvers() -> QuerySet[Any]:
    perm = Q(codename="approve_changes", content_type__app_label="provisioning")
    holders = Q(is_superuser=True) | Q(user_permissions__in=_perms(perm))
    holders |= Q(groups__permissions__in=_perms(perm))
    return get_user_model().objects.filter(holders, is_active=True).exclude(email="").distinct()


def _perms(q: Q) -> QuerySet[Any]:
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(q)


def team_addresses(team: Team, *, leads_only: bool = False) -> list[str]:
    rows = Membership.objects.filter(team=team, user__is_active=True).exclude(user__email="")
    if leads_only:
        rows = rows.filter(role=Membership.Role.LEAD)
    return sorted(set(rows.values_list("user__email", flat=True)))


def send_email(subject: str, body: str, recipients: list[str]) -> int:
    """One message per recipient (nobody sees the others' addresses)."""
    messages = [EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to]) for to in recipients]
    if not messages:
        return 0
    return int(get_connection().send_messages(messages) or 0)


def notify_change(change_id: int, event: str) -> dict[str, int]:
    change = ChangeRequest.objects.select_related("environment__team", "requester").get(
        pk=change_id
    )
    env, payload = change.environment, change_payload(change, event)
    what = f"change {change.pk} ({change.kind} of {env.team.slug}/{env.name}"
    what += f", tier {change.from_tier or '-'} -> {change.to_tier or '-'})"
    link = payload["change"]["url"]
    if event == "change.needs_approval":
        recipients = [u.email for u in approvers().exclude(pk=change.requester_id)]
        body = f"{change.requester.get_username()} asks for {what}.\n\nReason: {change.reason}"
        body += f"\n\nReview and approve or reject it here: {link}\n"
    else:
        recipients = sorted(
            {change.requester.email, *team_addresses(env.team, leads_only=True)} - {""}
        )
        body = f"The {what} {EVENTS[event]}.\n\n{change.explanation}\n\n{link}\n"
    sent = send_email(f"[Ladder] {what[0].upper()}{what[1:]} {EVENTS[event]}", body, recipients)
    return {"emails": sent, "webhooks": queue_webhooks(env.team, event, payload)}


def notify_recommendation(recommendation_id: int) -> dict[str, int]:
    rec = Recommendation.objects.select_related("environment__team").get(pk=recommendation_id)
    if not rec.is_open:
        return {"emails": 0, "webhooks": 0}
    env, payload = rec.environment, recommendation_payload(rec)
    evidence = "\n".join(f"- {e.get('text', '')} ({e.get('window', '')})" for e in rec.evidence)
    body = f"{rec.title}\n\n{rec.summary}\n\nEvidence:\n{evidence}\n\n"
    link = payload["recommendation"]["url"]
    body += f"Open a pre-filled change from the environment's page: {link}\n"
    subject = f"[Ladder] {env.team.slug}/{env.name}: {rec.title}"
    sent = send_email(subject, body, team_addresses(env.team))
    return {"emails": sent, "webhooks": queue_webhooks(env.team, "recommendation.new", payload)}


# --- webhooks ------------------------------------------------------------------------------
def queue_webhooks(team: Team, event: str, payload: dict[str, Any]) -> int:
    """A pending delivery row per interested webhook, each rung once it is committed."""
    now, count = timezone.now(), 0
    with transaction.atomic():
        for hook in Webhook.objects.filter(team=team, active=True):
            if hook.wants(event):
                delivery = WebhookDelivery.objects.create(
                    webhook=hook, event=event, payload=payload, next_attempt_at=now
                )
                _ring_on_commit(delivery.pk)
                count += 1
    return count


def _ring_on_commit(delivery_id: int, delay: float = 0) -> None:
    transaction.on_commit(
        lambda: enqueue("provisioning.jobs.deliver_webhook", delivery_id, delay=delay)
    )


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


class UnsafeUrl(ValueError):
    pass


def check_url(url: str) -> None:
    """Refuse what a webhook must never reach: other schemes, link-local addresses (the
    instance metadata service) and, unless allowed (local mode), private networks."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UnsafeUrl("a webhook URL is http:// or https:// with a host")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise UnsafeUrl(f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address.is_link_local or address.is_multicast or address.is_unspecified:
            raise UnsafeUrl(f"{parts.hostname} resolves to a forbidden address ({address})")
        private = address.is_private or address.is_loopback or address.is_reserved
        if private and not settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS:
            raise UnsafeUrl(f"{parts.hostname} resolves to a private address ({address})")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer (3xx), never followed to another host


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    check_url(url)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def backoff(attempts: int) -> float:
    return float(settings.WEBHOOK_RETRY_BASE) * 2 ** max(0, attempts - 1)


def deliver(delivery_id: int, *, now: datetime | None = None) -> str:
    """Send one delivery if it is due; record the answer and schedule the next try."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("webhook")
            .get(pk=delivery_id)
        )
        if delivery.status != WebhookDelivery.Status.PENDING:
            return delivery.status
        if delivery.next_attempt_at and delivery.next_attempt_at > now + timedelta(seconds=1):
            return "not-due"
        delivery.attempts += 1
        delivery.next_attempt_at = now + timedelta(seconds=LEASE_SECONDS)
        delivery.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    hook, body = delivery.webhook, encode(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Ladder-Webhooks/1",
        "X-Ladder-Event": delivery.event,
        "X-Ladder-Delivery": str(delivery.pk),
        "X-Ladder-Attempt": str(delivery.attempts),
        SIGNATURE_HEADER: sign(hook.secret, body),
    }
    code, error, permanent = None, "", False
    try:
        code = post(hook.url, body, headers)
        error = "" if 200 <= code < 300 else f"HTTP {code}"
    except UnsafeUrl as exc:
        error, permanent = str(exc), True
    except OSError as exc:  # refused, timed out, TLS
        error = f"{type(exc).__name__}: {exc}"
    return _record(delivery, code, error, now, permanent=permanent)


def _record(
    delivery: WebhookDelivery, code: int | None, error: str, now: datetime, *, permanent: bool
) -> str:
    delivery.status_code, delivery.error = code, error[:2000]
    delay = backoff(delivery.attempts)
    if not error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
    elif permanent or delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = now + timedelta(seconds=delay)
    delivery.save(
        update_fields=["status", "status_code", "error", "delivered_at", "next_attempt_at",
                       "updated_at"]
    )  # fmt: skip
    if delivery.status == WebhookDelivery.Status.PENDING:
        _ring_on_commit(delivery.pk, delay)
    return str(delivery.status)


def redeliver_due(*, now: datetime | None = None) -> int:
    """Ring again for pending deliveries whose retry time has long passed (a lost job)."""
    cutoff = (now or timezone.now()) - timedelta(seconds=REDELIVER_GRACE_SECONDS)
    due = WebhookDelivery.objects.filter(status="pending", next_attempt_at__lte=cutoff)
    pks = list(due.values_list("pk", flat=True)[:500])
    for pk in pks:
        enqueue("provisioning.jobs.deliver_webhook", pk)
    return len(pks)


# --- reads ---------------------------------------------------------------------------------
def webhook_list(*, team: Team) -> QuerySet[Webhook]:
    return Webhook.objects.filter(team=team).order_by("url")


def delivery_list(*, team: Team, limit: int = 50) -> list[WebhookDelivery]:
    """The team's delivery log, newest first."""
    rows = WebhookDelivery.objects.filter(webhook__team=team).select_related("webhook")
    return list(rows.order_by("-created_at", "-id")[:limit])
