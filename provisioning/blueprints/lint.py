"""cfn-lint, in process, with the one list of rules the blueprints ignore and why.

Every template must come out with zero errors and zero warnings; a rule is ignored only
here, with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from provisioning.blueprints.compose import render_json

# rule id -> why it does not apply to the blueprints
IGNORED_RULES: dict[str, str] = {}


def lint(template: Mapping[str, Any], regions: Iterable[str] = ("us-east-1",)) -> list[str]:
    """cfn-lint's findings for ``template``, one line each; empty when clean."""
    from cfnlint.api import ManualArgs
    from cfnlint.api import lint as cfn_lint

    config = ManualArgs(regions=list(regions), ignore_checks=sorted(IGNORED_RULES))
    matches = cfn_lint(render_json(template), config=config)
    return [f"{m.rule.id} {'/'.join(str(p) for p in m.path)}: {m.message}" for m in matches]
