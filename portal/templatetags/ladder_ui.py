"""Template helpers: money, tiers, status pills."""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from provisioning import ladder
from provisioning.models import ChangeRequest, Environment
from provisioning.pricing import format_usd

register = template.Library()
_STATUS_LABELS = {model: dict(model.Status.choices) for model in (ChangeRequest, Environment)}


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def usd(value: Any) -> str:
    amount = _decimal(value)
    return "—" if amount is None else format_usd(amount)


@register.filter
def usd_signed(value: Any) -> str:
    amount = _decimal(value)
    return "—" if amount is None else format_usd(amount, signed=True)


@register.filter
def sign(value: Any) -> str:
    """up, down or flat: for colouring a cost delta."""
    amount = _decimal(value) or Decimal(0)
    return "up" if amount > 0 else ("down" if amount < 0 else "flat")


@register.filter
def tier_name(number: Any) -> str:
    try:
        return ladder.get_tier(int(number)).name
    except (TypeError, ValueError, ladder.LadderError):
        return ""


@register.filter
def is_link(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


@register.filter
def param_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value in ("", None):
        return "—"
    return str(value)


# Short names of the ladder's components, for cost tables.
COMPONENT_NAMES = {
    "web_single": "Web server",
    "web_pair": "Web servers (two AZs)",
    "web_asg": "Web Auto Scaling group",
    "load_balancer": "Load balancer",
    "database": "Database",
    "read_replica": "Read replica",
    "cache": "Redis cache",
    "queue_workers": "Queue and workers",
    "static_site": "Static assets (S3 + CloudFront)",
    "monitoring": "Monitoring",
    "email": "Email (SES)",
    "dns": "DNS record",
}


@register.filter
def component_name(name: str) -> str:
    return COMPONENT_NAMES.get(name, name.replace("_", " ").capitalize())


@register.filter
def event_class(status: str) -> str:
    """ok, busy, warn or bad, for a CloudFormation resource status."""
    if status.endswith("_FAILED"):
        return "bad"
    if "ROLLBACK" in status:
        return "warn"
    if status.endswith("_IN_PROGRESS"):
        return "busy"
    return "ok"


@register.simple_tag
def status_pill(obj: Any) -> str:
    """The status of an environment or change as a coloured pill."""
    if isinstance(obj, ChangeRequest | Environment):
        # The labels from a dict made once: get_status_display() rebuilds its choices each call.
        color, label = obj.status_color, _STATUS_LABELS[type(obj)].get(obj.status, obj.status)
    else:
        color, label = "grey", str(obj)
    return format_html('<span class="pill status s-{}">{}</span>', color, label)


@register.simple_tag
def change_status_pill(status: str) -> str:
    color = ChangeRequest.COLORS.get(status, "grey")
    label = dict(ChangeRequest.Status.choices).get(status, status)
    return format_html('<span class="pill status s-{}">{}</span>', color, label)


@register.simple_tag
def ladder_bar(current: int | None, target: int | None = None, compact: bool = False) -> str:
    """The five rungs with the current one (and a target) marked."""
    return _ladder_bar(current, target, bool(compact))


@functools.lru_cache(maxsize=128)
def _ladder_bar(current: int | None, target: int | None, compact: bool) -> SafeString:
    # A pure function of three small values, drawn in Python and kept: a list page draws it
    # once a row, and through a template that was a fifth of the page's time.
    rungs = []
    for tier in ladder.TIERS:
        is_current = tier.number == current
        is_target = target is not None and tier.number == target and target != current
        below = current is not None and tier.number < current
        state = "current" if is_current else "below" if below else ""
        rungs.append(
            format_html(
                '<li class="{}" title="Tier {}: {}{}"><span class="n">{}</span>{}</li>',
                state + (" target" if is_target else ""),
                tier.number, tier.name,
                " (current)" if is_current else " (target)" if is_target else "",
                tier.number,
                "" if compact else format_html('<span class="name">{}</span>', tier.name),
            )
        )  # fmt: skip
    return format_html(
        '<ol class="ladder-bar{}" aria-label="Place on the ladder">\n  {}\n</ol>',
        " compact" if compact else "",
        mark_safe("".join(rungs)),  # noqa: S308 - each rung escaped by format_html above
    )


@register.simple_tag
def sparkline(values: Any, width: int = 120, height: int = 28, ceiling: float = 100.0) -> str:
    """An inline SVG polyline of ``values`` (CPU %: the y axis runs 0 to ``ceiling``, or the
    largest value above it). Drawn here, so the portfolio needs no script."""
    points = [float(v) for v in (values or []) if v is not None]
    if len(points) < 2:
        return format_html('<span class="muted small">no data</span>')
    top = max(ceiling, max(points)) or 1.0
    step = (width - 2) / (len(points) - 1)
    span = height - 2
    coords = " ".join(
        f"{1 + i * step:.1f},{height - 1 - span * v / top:.1f}" for i, v in enumerate(points)
    )
    last = points[-1]
    tone = "bad" if last >= 75 else "warn" if last >= 50 else "ok"
    return format_html(
        '<svg class="sparkline spark-{}" width="{}" height="{}" viewBox="0 0 {} {}" role="img" '
        'aria-label="CPU over 24 hours, latest {}%"><polyline points="{}" fill="none" '
        'stroke-width="1.5" stroke-linejoin="round"/></svg>',
        tone, width, height, width, height, f"{last:.0f}", coords,
    )  # fmt: skip
