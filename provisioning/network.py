"""The team's network stack per region: created on first use, shared by its environments."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from provisioning.aws.gateway import TERMINAL_FAILED, GatewayError, StackGateway
from provisioning.blueprints import network_template, render_json, stack_parameters
from provisioning.models import NetworkStack, Team

READY = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})


def network_stack_name(*, team: Team, region: str) -> str:
    return f"ladder-network-{team.slug}-{region}"


def network_ready(*, team: Team, region: str, gateway: StackGateway) -> NetworkStack | None:
    """The ready network, or None while it is being created (this call starts it if needed)."""
    try:
        with transaction.atomic():
            network, _ = NetworkStack.objects.get_or_create(
                team=team, region=region,
                defaults={"stack_name": network_stack_name(team=team, region=region)},
            )  # fmt: skip
    except IntegrityError:
        network = NetworkStack.objects.get(team=team, region=region)
    if network.status == NetworkStack.Status.READY:
        return network
    stack = gateway.describe_stack(stack_name=network.stack_name)
    if stack is None:
        stack_id = gateway.create_stack(
            stack_name=network.stack_name,
            template_body=render_json(network_template(region)),
            parameters={},
            tags={"ladder:team": team.slug, "ladder:network": region},
            client_request_token=f"ladder-network-{network.pk}",
        )
        NetworkStack.objects.filter(pk=network.pk).update(stack_id=stack_id)
        stack = gateway.describe_stack(stack_name=network.stack_name)
        if stack is None:
            return None
    if stack.status in READY:
        network.stack_id, network.outputs = stack.stack_id, stack.outputs
        network.status = NetworkStack.Status.READY
        network.save(update_fields=["stack_id", "outputs", "status", "updated_at"])
        return network
    if stack.status in TERMINAL_FAILED:
        network.status = NetworkStack.Status.FAILED
        network.explanation = f"network stack {stack.status}: {stack.reason}"
        network.save(update_fields=["status", "explanation", "updated_at"])
        raise GatewayError(network.explanation, code="NetworkFailed")
    return None


def template_parameters(
    template: dict[str, Any],
    *,
    network: NetworkStack,
    params: dict[str, Any],
    gateway: StackGateway,
) -> dict[str, str]:
    """The environment template's parameter values: the network's outputs, and the id of the
    Route 53 zone named by ``hosted_zone_name`` (looked up in the account)."""
    values: dict[str, Any] = dict(network.outputs)
    zone_name = params.get("hosted_zone_name")
    if zone_name and "HostedZoneId" in template.get("Parameters", {}):
        zone_id = gateway.hosted_zone_id(name=zone_name)
        if not zone_id:
            raise GatewayError(f"no Route 53 hosted zone named {zone_name} in the account")
        values["HostedZoneId"] = zone_id
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack_parameters(template, values)}
