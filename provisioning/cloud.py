"""Which gateway a team's calls go through, and the stack-notification channel per region."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string

from provisioning.aws.cloudformation import Boto3StackGateway, session_for
from provisioning.aws.gateway import StackGateway
from provisioning.models import Team, TeamPolicy

NOTIFICATION_CHANNEL = "ladder-stack-events"


def boto3_gateway(*, team: Team, region: str) -> StackGateway:
    """The standard boto3 chain, or the team's own AWS account through its role."""
    policy = TeamPolicy.objects.filter(team=team).only("aws_role_arn", "aws_external_id").first()
    session = session_for(
        region=region,
        role_arn=policy.aws_role_arn if policy else "",
        external_id=policy.aws_external_id if policy else "",
        session_name=f"ladder-{team.slug}",
    )
    return Boto3StackGateway(session)


def gateway_for(*, team: Team, region: str) -> StackGateway:
    factory: Any = import_string(settings.STACK_GATEWAY_FACTORY)
    return factory(team=team, region=region)  # type: ignore[no-any-return]


def account_key(team: Team) -> str:
    """Which AWS account a team's calls land in: its role, or the portal's own chain."""
    policy = TeamPolicy.objects.filter(team=team).only("aws_role_arn").first()
    return (policy.aws_role_arn if policy else "") or "default"


def notification_channel(*, gateway: StackGateway, team: Team, region: str) -> tuple[str, str]:
    """(topic ARN, queue URL) of the stack-notification channel of the team's account in
    the region, made once."""
    key = f"notification-channel:{settings.AWS_ENDPOINT_URL or 'aws'}:{account_key(team)}:{region}"
    known = cache.get(key)
    if known:
        return tuple(known)  # type: ignore[return-value]
    channel = gateway.ensure_notifications(name=NOTIFICATION_CHANNEL)
    cache.set(key, list(channel), timeout=24 * 3600)
    return channel


def notification_arns(*, gateway: StackGateway, team: Team, region: str) -> list[str]:
    if not settings.STACK_NOTIFICATIONS:
        return []
    return [notification_channel(gateway=gateway, team=team, region=region)[0]]
