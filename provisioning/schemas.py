"""What CloudFormation's resource schemas say about replacement, and the template walking
the planner needs to apply them: property paths, intrinsic functions, references."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

MISSING: Any = object()
SUB_NAME = re.compile(r"\$\{([^!][^}]*)\}")
Pointer = tuple[str, ...]


@cache
def schema_pointers(
    region: str, resource_type: str
) -> tuple[tuple[Pointer, ...], tuple[Pointer, ...]] | None:
    """(createOnly, conditionalCreateOnly) property paths from cfn-lint's provider schemas;
    None when cfn-lint does not know the type."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
    from cfnlint.schema.manager import ResourceNotFoundError

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except KeyError:  # a region cfn-lint does not know: schemas barely differ by region
        return None if region == "us-east-1" else schema_pointers("us-east-1", resource_type)
    except ResourceNotFoundError:
        return None

    def paths(key: str) -> tuple[Pointer, ...]:
        found = schema.get(key) or []
        return tuple(tuple(p.split("/")[2:]) for p in found if p.startswith("/properties/"))

    return paths("createOnlyProperties"), paths("conditionalCreateOnlyProperties")


def value_at(value: Any, pointer: Pointer) -> Any:
    for i, part in enumerate(pointer):
        if part == "*" and isinstance(value, list):
            return [value_at(item, pointer[i + 1 :]) for item in value]
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return value


def has_intrinsic(value: Any) -> bool:
    if isinstance(value, Mapping):
        if any(k == "Ref" or k.startswith("Fn::") for k in value):
            return True
        return any(has_intrinsic(v) for v in value.values())
    if isinstance(value, list):
        return any(has_intrinsic(v) for v in value)
    return False


def references(value: Any) -> set[str]:
    """Logical ids (and parameters) that ``value`` refers to through Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, Mapping):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                target = arg[0] if isinstance(arg, list) else str(arg).split(".")[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text, local = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})
                names = {m.split(".")[0] for m in SUB_NAME.findall(str(text))}
                found |= (names - set(local)) | references(list(local.values()))
            else:
                found |= references(arg)
    return {name for name in found if not name.startswith("AWS::")}
