"""Writing the audit trail. Call inside the transaction that makes the change it records."""

from __future__ import annotations

from typing import Any

from django.db import models

from provisioning.models import AuditEvent, Team


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    team: Team | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        team=team,
        action=action,
        object_type=obj._meta.model_name or type(obj).__name__.lower(),
        object_id=str(obj.pk),
        before=before or {},
        after=after or {},
        ip=ip,
    )


def audit_note(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: str,
    team: Team | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """An event about something that is not (or not yet) a row: a sign-in, a refused access."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        team=team,
        action=action,
        object_type=object_type[:64],
        object_id=object_id[:64],
        after=after or {},
        ip=ip,
    )
