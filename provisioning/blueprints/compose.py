"""Compose an environment's CloudFormation template from its tier's components."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from provisioning import ladder
from provisioning.blueprints import (
    cache,
    database,
    dns,
    load_balancer,
    mail,
    monitoring,
    queue_workers,
    read_replica,
    static_site,
    web_asg,
    web_pair,
    web_single,
)
from provisioning.blueprints.base import Context, Template
from provisioning.validation import validate_parameters

Builder = Callable[[Template, Context], None]

BUILDERS: dict[str, Builder] = {
    "web_single": web_single.build,
    "database": database.build,
    "web_pair": web_pair.build,
    "load_balancer": load_balancer.build,
    "web_asg": web_asg.build,
    "static_site": static_site.build,
    "cache": cache.build,
    "queue_workers": queue_workers.build,
    "read_replica": read_replica.build,
    "monitoring": monitoring.build,
    "email": mail.build,
    "dns": dns.build,  # last: it re-points the URL output at the record
}
MAX_TEMPLATE_BYTES = 51_200  # CloudFormation's limit for a TemplateBody


def compose(
    tier: int, params: Mapping[str, Any], network: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The environment template of ``tier`` with ``params`` (validated here, defaults filled).

    ``network`` may map the network stack's output keys (VpcId, PublicSubnetA, ...) to ids:
    they become the Defaults of the matching template parameters. Other keys are ignored.
    """
    level = ladder.get_tier(tier)
    values = validate_parameters(tier, params)
    ctx = Context(tier, values, frozenset(level.components))
    t = Template(
        description=f"Ladder environment, tier {tier}: {level.name}",
        network=dict(network or {}),
    )
    for name in sorted(level.components, key=list(BUILDERS).index):
        BUILDERS[name](t, ctx)
    return t.as_dict()


def stack_parameters(
    template: Mapping[str, Any], values: Mapping[str, Any]
) -> list[dict[str, str]]:
    """CloudFormation ``Parameters`` for ``template`` from ``values`` (the network stack's
    outputs plus ``HostedZoneId``): only those the template declares, since AWS rejects the
    others. A declared parameter with neither a value nor a Default raises ``LadderError``."""
    parameters: list[dict[str, str]] = []
    for name, spec in sorted((template.get("Parameters") or {}).items()):
        if values.get(name):
            parameters.append({"ParameterKey": name, "ParameterValue": str(values[name])})
        elif "Default" not in spec:
            raise ladder.LadderError(f"template parameter {name} needs a value")
    return parameters


def capabilities(template: Mapping[str, Any]) -> list[str]:
    """What ``create_stack``/``create_change_set`` must acknowledge for ``template``."""
    types = {r["Type"] for r in (template.get("Resources") or {}).values()}
    return ["CAPABILITY_IAM"] if any(t.startswith("AWS::IAM::") for t in types) else []


def render_json(template: Mapping[str, Any]) -> str:
    """Deterministic JSON: the same template gives the same bytes (and change-set diffs)."""
    return json.dumps(template, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
