"""``manage.py ladder``: look at the tiers, render their templates, plan a move. Offline."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from provisioning import ladder, planner, pricing
from provisioning.blueprints import compose, network_template, render_json
from provisioning.validation import (
    ParameterValidationError,
    params_for_move,
    validate_parameters,
)

COLUMN = 24


class Command(BaseCommand):
    help = "Show the ladder's tiers, render a tier's CloudFormation template, plan a move."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{show,render,plan}")
        sub.add_parser("show", help="the tiers side by side, with default monthly cost")

        render = sub.add_parser("render", help="print a tier's (or the network's) template")
        which = render.add_mutually_exclusive_group(required=True)
        which.add_argument("--tier", type=int, help="tier number, 1-5")
        which.add_argument("--network", action="store_true", help="the team network stack")
        render.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
        render.add_argument("--region", default="us-east-1")

        plan = sub.add_parser("plan", help="what moving from one tier to another will do")
        plan.add_argument(
            "--from",
            dest="from_tier",
            type=int,
            required=True,
            help="current tier; 0 = nothing yet (create)",
        )
        plan.add_argument(
            "--to",
            dest="to_tier",
            type=int,
            required=True,
            help="target tier; 0 = nothing (decommission)",
        )
        plan.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="target parameter (repeatable)",
        )
        plan.add_argument(
            "--from-param",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="current parameter (repeatable)",
        )
        plan.add_argument("--region", default="us-east-1")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "show":
                self._show()
            elif options["action"] == "render":
                self._render(options)
            else:
                self._plan(options)
        except ParameterValidationError as exc:
            lines = [f"{name}: {message}" for name, message in sorted(exc.errors.items())]
            raise CommandError("invalid parameters:\n" + "\n".join(lines)) from exc
        except (ladder.LadderError, pricing.PricingError, planner.PlanError) as exc:
            raise CommandError(str(exc)) from exc

    def _show(self) -> None:
        tiers = list(ladder.TIERS)
        rows: list[tuple[str, list[str]]] = [
            ("tier", [f"{t.number}. {t.name}" for t in tiers]),
            ("summary", [t.summary for t in tiers]),
            ("resilience", [t.resilience for t in tiers]),
            ("scalability", [t.scalability for t in tiers]),
            ("capacity", [t.capacity for t in tiers]),
            ("components", [", ".join(t.components) for t in tiers]),
        ]
        for region in pricing.regions():
            totals = [pricing.estimate(t.number, ladder.defaults(t.number), region) for t in tiers]
            rows.append((f"$/month {region}", [pricing.format_usd(e.total) for e in totals]))
        for label, cells in rows:
            wrapped = [textwrap.wrap(str(c), COLUMN - 2) or [""] for c in cells]
            for i in range(max(len(w) for w in wrapped)):
                line = "".join(f"{(w[i] if i < len(w) else ''):<{COLUMN}}" for w in wrapped)
                self.stdout.write(f"{label if i == 0 else '':<18}{line}".rstrip())
        as_of = pricing.price_table()["as_of"]
        self.stdout.write(
            f"\nDefault parameters, on-demand list prices as of {as_of} (approximate)."
        )

    def _render(self, options: dict[str, Any]) -> None:
        if options["network"]:
            self.stdout.write(render_json(network_template(options["region"])))
            return
        tier = options["tier"]
        params = validate_parameters(tier, parse_params(options["param"]))
        self.stdout.write(render_json(compose(tier, params)))

    def _plan(self, options: dict[str, Any]) -> None:
        current = _side(options["from_tier"], options["from_param"], "--from-param")
        target = _side(options["to_tier"], options["param"], "--param")
        if current and target:  # carry the current settings over, as the portal does
            carried = params_for_move(
                validate_parameters(current.tier, current.params), target.tier
            )
            target = planner.TierParams(target.tier, {**carried, **target.params})
        self._print_plan(planner.plan(current, target, region=options["region"]))

    def _print_plan(self, result: planner.Plan) -> None:
        out = self.stdout.write
        frm = f"tier {result.current.tier}" if result.current else "nothing"
        to = f"tier {result.target.tier}" if result.target else "nothing"
        counts = ", ".join(f"{n} to {a}" for a, n in result.counts().items())
        out(f"Plan: {result.kind} from {frm} to {to} in {result.region} ({counts})\n")
        table = [("LOGICAL ID", "TYPE", "ACTION", "REPLACEMENT", "DATA AT RISK")]
        for c in result.changes:
            risk = c.risk
            table.append(
                (
                    c.logical_id,
                    c.resource_type,
                    c.action,
                    c.replacement or "-",
                    risk.summary if risk else "-",
                )
            )
        widths = [max(len(row[i]) for row in table) for i in range(4)]
        for row in table:
            cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=False)]
            out("  ".join([*cells, row[4]]))
        replaced = [c for c in result.changes if c.action == "modify" and c.replacement != "no"]
        if replaced:
            out("\nReplacements:")
            for c in replaced:
                out(f"  {c.logical_id} ({c.replacement}): {'; '.join(c.reasons)}")
        if result.notes:
            out("\nNotes:")
            for note in result.notes:
                out(f"  {'! ' if note.destructive else '- '}{note.text}")
        cost = result.cost
        out(
            f"\nMonthly cost ({cost.region}): {pricing.format_usd(cost.current_total)} -> "
            f"{pricing.format_usd(cost.target_total)} "
            f"({pricing.format_usd(cost.delta, signed=True)})"
        )
        for item in cost.items:
            if item.delta:
                out(f"  {item.component:<16}{pricing.format_usd(item.delta, signed=True):>12}")
        if result.destructive:
            out("\nDESTRUCTIVE: data is at risk; this move needs explicit confirmation.")


def parse_params(pairs: Sequence[str], flag: str = "--param") -> dict[str, str]:
    """``["k=v", ...]`` to a dict; values stay strings for validation to coerce."""
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"{flag} {pair!r}: expected NAME=VALUE")
        params[name.strip()] = value.strip()
    return params


def _side(tier: int, pairs: Sequence[str], flag: str) -> planner.TierParams | None:
    if tier == 0:
        if pairs:
            raise CommandError(f"{flag} makes no sense with tier 0 (nothing)")
        return None
    return planner.TierParams(tier, parse_params(pairs, flag))
