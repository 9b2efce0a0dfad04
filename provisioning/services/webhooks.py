"""A team's webhooks: added, changed and removed by its leads (or platform admins)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from provisioning.audit import audit_record
from provisioning.errors import Forbidden, InvalidRequest
from provisioning.models import Membership, Team, Webhook
from provisioning.notifications import EVENTS, UnsafeUrl, check_url
from provisioning.roles import is_platform_admin


def _require_lead(*, user: Any, team: Team) -> None:
    if is_platform_admin(user):
        return
    if team.memberships.filter(user=user, role=Membership.Role.LEAD).exists():
        return
    raise Forbidden(f"only a lead of team {team.slug} may manage its webhooks")


def _validated_events(events: Any) -> list[str]:
    if events in (None, ""):
        return []
    if not isinstance(events, list | tuple) or not all(isinstance(e, str) for e in events):
        raise InvalidRequest("bad events", fields={"events": "a list of event names"})
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        known = ", ".join(EVENTS)
        raise InvalidRequest(
            "unknown events", fields={"events": f"unknown: {', '.join(unknown)} (known: {known})"}
        )
    return sorted(set(events))


def _validated_url(url: str) -> str:
    url = (url or "").strip()
    if len(url) > 2048:
        raise InvalidRequest("bad url", fields={"url": "at most 2,048 characters"})
    try:
        check_url(url)
    except UnsafeUrl as exc:
        raise InvalidRequest("bad url", fields={"url": str(exc)}) from None
    return url


@transaction.atomic
def webhook_create(
    *, user: Any, team: Team, url: str, events: Any = None, ip: str | None = None
) -> Webhook:
    """A new webhook with a random secret (shown to the lead once, to verify signatures)."""
    _require_lead(user=user, team=team)
    hook = Webhook.objects.create(
        team=team, url=_validated_url(url), events=_validated_events(events), created_by=user
    )
    audit_record(
        actor=user, action="webhook.created", obj=hook, team=team,
        after={"url": hook.url, "events": hook.events}, ip=ip,
    )  # fmt: skip
    return hook


@transaction.atomic
def webhook_update(
    *,
    user: Any,
    webhook: Webhook,
    url: str | None = None,
    events: Any = None,
    active: bool | None = None,
    ip: str | None = None,
) -> Webhook:
    _require_lead(user=user, team=webhook.team)
    hook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    before = {"url": hook.url, "events": hook.events, "active": hook.active}
    if url is not None:
        hook.url = _validated_url(url)
    if events is not None:
        hook.events = _validated_events(events)
    if active is not None:
        hook.active = bool(active)
    hook.save(update_fields=["url", "events", "active", "updated_at"])
    audit_record(
        actor=user, action="webhook.updated", obj=hook, team=hook.team, before=before,
        after={"url": hook.url, "events": hook.events, "active": hook.active}, ip=ip,
    )  # fmt: skip
    return hook


@transaction.atomic
def webhook_delete(*, user: Any, webhook: Webhook, ip: str | None = None) -> None:
    _require_lead(user=user, team=webhook.team)
    audit_record(
        actor=user, action="webhook.deleted", obj=webhook, team=webhook.team,
        before={"url": webhook.url}, ip=ip,
    )  # fmt: skip
    webhook.delete()
