"""CloudFormation blueprints: an environment template composed from its tier's components,
and the team network template."""

from provisioning.blueprints.compose import (
    MAX_TEMPLATE_BYTES,
    capabilities,
    compose,
    render_json,
    stack_parameters,
)
from provisioning.blueprints.network import network_template

__all__ = [
    "MAX_TEMPLATE_BYTES",
    "capabilities",
    "compose",
    "network_template",
    "render_json",
    "stack_parameters",
]
