"""The local cloud in process (moto's mock_aws) with a team network, for tests that need real
stack Outputs: environments' stacks are composed exactly as the engine composes them."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provisioning.blueprints import capabilities, compose, network_template, render_json
from provisioning.blueprints import stack_parameters as parameters_for
from provisioning.validation import validate_parameters
from worker.localcloud import apply_moto_fixes

REGION = "us-east-1"
_names = itertools.count(1)


@dataclass
class LocalCloud:
    network: dict[str, str]

    def client(self, service: str, region: str = REGION) -> Any:
        return boto3.client(service, region_name=region)

    def create(self, tier: int, params: dict[str, Any] | None = None, *, name: str = "") -> dict:
        """A live stack at ``tier``; returns (stack name, parameters, Outputs, physical ids)."""
        name = name or f"ladder-web-env{next(_names)}"
        values = validate_parameters(tier, params or {})
        template = compose(tier, values)
        cfn = self.client("cloudformation")
        cfn.create_stack(
            StackName=name,
            TemplateBody=render_json(template),
            Parameters=parameters_for(template, self.network),
            Capabilities=capabilities(template),
        )
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        resources = cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
        return {
            "name": name,
            "stack_id": stack["StackId"],
            "parameters": values,
            "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
            "physical": {r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in resources},
        }


@contextmanager
def local_cloud() -> Iterator[LocalCloud]:
    with pytest.MonkeyPatch.context() as patch:
        # mock_aws does not intercept clients that have an endpoint URL (settings set one).
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        apply_moto_fixes()
        with mock_aws():
            cfn = boto3.client("cloudformation", region_name=REGION)
            cfn.create_stack(
                StackName="ladder-web-network", TemplateBody=render_json(network_template(REGION))
            )
            stack = cfn.describe_stacks(StackName="ladder-web-network")["Stacks"][0]
            yield LocalCloud({o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]})
