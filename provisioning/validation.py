"""Checks on what a person asks for, before any template is composed or any cloud is called.

The local cloud enforces nothing (moto ignores AllowedValues and unknown parameters), so the
portal validates everything itself. Values from forms and the CLI arrive as strings and are
coerced here; the returned dict holds real ints and bools with the tier's defaults filled in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from provisioning import ladder

SUPPORTED_REGIONS: tuple[str, ...] = ("us-east-1", "eu-west-1")
# The stack is ladder-<team>-<env>: a CloudFormation stack name allows 128 characters.
ENVIRONMENT_NAME_MAX = 40
_STACK_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]*$")
_ENV_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_DNS_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_ZONE_NAME = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})+$")
_RECORD_NAME = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@" + rf"{_DNS_LABEL}(\.{_DNS_LABEL})+$")
_DIGITS = re.compile(r"^[0-9]+$")


class ParameterValidationError(ValueError):
    """One message per offending field, so a form can show each next to its input."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        summary = "; ".join(f"{field}: {message}" for field, message in sorted(self.errors.items()))
        super().__init__(summary)


def validate_environment_name(name: str) -> str:
    """The environment part of the stack name ``ladder-<team>-<env>``.

    Lower-case letters, digits and single hyphens, starting with a letter, at most 40
    characters; raises ``ParameterValidationError`` on field ``name``.
    """
    if not isinstance(name, str) or not name.strip():
        raise ParameterValidationError({"name": "a name is required"})
    name = name.strip()
    if len(name) > ENVIRONMENT_NAME_MAX:
        raise ParameterValidationError(
            {"name": f"at most {ENVIRONMENT_NAME_MAX} characters (got {len(name)})"}
        )
    if not _STACK_NAME.match(name):
        raise ParameterValidationError(
            {"name": "must start with a letter and hold only letters, digits and hyphens"}
        )
    if not _ENV_NAME.match(name):
        raise ParameterValidationError(
            {"name": "use lower-case letters, digits and single hyphens, not ending in one"}
        )
    return name


def validate_region(region: str) -> str:
    if region not in SUPPORTED_REGIONS:
        known = ", ".join(SUPPORTED_REGIONS)
        raise ParameterValidationError({"region": f"{region!r} is not supported (use {known})"})
    return region


def validate_parameters(
    tier: int, params: Mapping[str, Any] | None, *, region: str | None = None
) -> dict[str, Any]:
    """Every parameter of ``tier``: the given ones coerced and checked, the rest defaulted.

    Raises ``ParameterValidationError`` naming each bad field: unknown or not used at this
    tier, wrong type, out of range, not offered at this tier, inconsistent with another.
    """
    errors: dict[str, str] = {}
    if region is not None and region not in SUPPORTED_REGIONS:
        errors["region"] = f"{region!r} is not supported (use {', '.join(SUPPORTED_REGIONS)})"
    if isinstance(tier, bool) or not isinstance(tier, int) or tier not in ladder.TIER_NUMBERS:
        errors["tier"] = f"{tier!r} is not a tier; tiers are 1 to {len(ladder.TIERS)}"
        raise ParameterValidationError(errors)
    values = ladder.defaults(tier)
    for name, raw in (params or {}).items():
        spec = ladder.PARAMETERS_BY_NAME.get(name)
        if spec is None:
            errors[name] = "unknown parameter"
            continue
        if not spec.applies_to(tier):
            errors[name] = f"does not apply to tier {tier}; used at tiers {_tier_list(spec)}"
            continue
        try:
            values[name] = _coerce(spec, raw, tier)
        except ValueError as exc:
            errors[name] = str(exc)
    _cross_checks(tier, values, errors)
    if errors:
        raise ParameterValidationError(errors)
    return values


def params_for_move(params: Mapping[str, Any], to_tier: int) -> dict[str, Any]:
    """Carry the parameters of an environment over to ``to_tier``: keep what still applies and
    is still offered there, default the rest (a move down drops tier-5 settings, a move up
    to tier 3 turns Multi-AZ on)."""
    carried: dict[str, Any] = {}
    for name, value in params.items():
        spec = ladder.PARAMETERS_BY_NAME.get(name)
        if spec is None or not spec.applies_to(to_tier):
            continue
        try:
            carried[name] = _coerce(spec, value, to_tier)
        except ValueError:
            continue
    if to_tier >= 3:
        carried.pop("db_multi_az", None)
    merged = {**ladder.defaults(to_tier), **carried}
    if "web_min_size" in merged and merged["web_min_size"] > merged["web_max_size"]:
        merged["web_max_size"] = merged["web_min_size"]
    if "worker_min_size" in merged and merged["worker_min_size"] > merged["worker_max_size"]:
        merged["worker_max_size"] = merged["worker_min_size"]
    return validate_parameters(to_tier, merged)


def _tier_list(spec: ladder.Parameter) -> str:
    return ", ".join(str(t) for t in sorted(spec.tiers))


def _coerce(spec: ladder.Parameter, raw: Any, tier: int) -> Any:
    if spec.kind == "bool":
        return _to_bool(raw)
    if spec.kind == "int":
        value = _to_int(raw)
        if spec.minimum is not None and value < spec.minimum:
            raise ValueError(f"must be at least {spec.minimum} (got {value})")
        if spec.maximum is not None and value > spec.maximum:
            raise ValueError(f"must be at most {spec.maximum} (got {value})")
        return value
    if not isinstance(raw, str):
        raise ValueError(f"must be text, not {type(raw).__name__}")
    text = raw.strip()
    if spec.kind == "choice":
        offered = spec.choices_for(tier) or ()
        if text in offered:
            return text
        if spec.choices and text in spec.choices:
            raise ValueError(
                f"{text!r} is not offered at tier {tier}; choose one of {_list(offered)}"
            )
        raise ValueError(f"{text!r} is not an allowed value; choose one of {_list(offered)}")
    return _STRING_CHECKS[spec.name](text)


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise ValueError(f"must be true or false (got {raw!r})")


def _to_int(raw: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and _DIGITS.match(raw.strip()):
        return int(raw.strip())
    raise ValueError(f"must be a whole number (got {raw!r})")


def _list(values: tuple[Any, ...]) -> str:
    return ", ".join(str(v) for v in values)


def _hosted_zone_name(text: str) -> str:
    name = text.lower()
    if not name:
        return ""
    if name.endswith("."):
        raise ValueError("leave out the trailing dot (example.com, not example.com.)")
    if len(name) > 253 or not _ZONE_NAME.match(name):
        raise ValueError(f"{text!r} is not a domain name like example.com")
    return name


def _record_name(text: str) -> str:
    name = text.lower()
    if name and (len(name) > 200 or not _RECORD_NAME.match(name)):
        raise ValueError(f"{text!r} is not a DNS name like www (letters, digits, hyphens, dots)")
    return name


def _email(text: str) -> str:
    if text and (len(text) > 254 or not _EMAIL.match(text.lower())):
        raise ValueError(f"{text!r} is not an email address")
    return text


_STRING_CHECKS = {
    "hosted_zone_name": _hosted_zone_name,
    "record_name": _record_name,
    "alert_email": _email,
}


def _cross_checks(tier: int, values: dict[str, Any], errors: dict[str, str]) -> None:
    """Rules between fields, checked only when the fields themselves are fine."""

    def fine(*names: str) -> bool:
        return all(name in values and name not in errors for name in names)

    if tier >= 3 and fine("db_multi_az") and values["db_multi_az"] is False:
        errors["db_multi_az"] = f"always on from tier 3 (tier {tier} is highly available)"
    for low, high in (("web_min_size", "web_max_size"), ("worker_min_size", "worker_max_size")):
        if fine(low, high) and values[low] > values[high]:
            errors[low] = f"must not exceed {high} ({values[low]} > {values[high]})"
    if fine("record_name", "hosted_zone_name") and values["record_name"]:
        if not values["hosted_zone_name"]:
            errors["record_name"] = "needs hosted_zone_name"
        elif len(f"{values['record_name']}.{values['hosted_zone_name']}") > 253:
            errors["record_name"] = "record name and zone together exceed 253 characters"
