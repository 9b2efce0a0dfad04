"""Web forms. They collect and present input; provisioning.validation and the services judge it.

Parameter fields are built from ``ladder.PARAMETERS``, so a new parameter appears on the
forms without touching them. Every parameter is rendered with the tiers it applies to
(``data-tiers``); static/js/forms.js shows those of the chosen tier, and only those are
sent on to the services.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from provisioning import ladder, selectors
from provisioning.filters import EnvironmentFilterSet
from provisioning.models import Environment
from provisioning.validation import (
    SUPPORTED_REGIONS,
    ParameterValidationError,
    params_for_move,
    validate_environment_name,
    validate_parameters,
)

PARAMETER_LABELS = {
    "instance_type": "Web instance type",
    "web_min_size": "Web instances, minimum",
    "web_max_size": "Web instances, maximum",
    "db_engine": "Database engine",
    "db_instance_class": "Database instance class",
    "db_allocated_storage": "Database storage (GiB)",
    "db_multi_az": "Database standby in a second AZ",
    "cache_node_type": "Cache node type",
    "worker_instance_type": "Worker instance type",
    "worker_min_size": "Workers, minimum",
    "worker_max_size": "Workers, maximum",
    "hosted_zone_name": "Route 53 hosted zone",
    "record_name": "Record name",
    "alert_email": "Alert email",
}
PARAMETER_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Web servers", ("instance_type", "web_min_size", "web_max_size")),
    ("Database", ("db_engine", "db_instance_class", "db_allocated_storage", "db_multi_az")),
    (
        "Cache and workers",
        ("cache_node_type", "worker_instance_type", "worker_min_size", "worker_max_size"),
    ),
    ("DNS and alerts", ("hosted_zone_name", "record_name", "alert_email")),
)
BOOL_CHOICES = [("true", "Yes"), ("false", "No")]


def parameter_label(name: str) -> str:
    return PARAMETER_LABELS.get(name, name.replace("_", " ").capitalize())


def tier_label(number: int) -> str:
    return f"{number} · {ladder.get_tier(number).name}"


def tier_choices() -> list[tuple[int, str]]:
    return [(tier.number, tier_label(tier.number)) for tier in ladder.TIERS]


def tier_name_choices() -> list[tuple[int, str]]:
    """For the tier pickers, which show the number apart from the name."""
    return [(tier.number, tier.name) for tier in ladder.TIERS]


def as_field_value(value: Any) -> str:
    """How a parameter value appears in a form field (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def tiers_attr(tiers: Any) -> str:
    return " ".join(str(t) for t in sorted(tiers))


class TierSelect(forms.Select):
    """A select whose options carry the tiers they are offered at (instance sizes vary)."""

    def __init__(self, *args: Any, option_tiers: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.option_tiers = option_tiers

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        tiers = self.option_tiers.get(str(value))
        if tiers:
            option["attrs"]["data-tiers"] = tiers
        return option


def parameter_field(spec: ladder.Parameter) -> forms.Field:
    attrs = {"data-tiers": tiers_attr(spec.tiers), "data-param": spec.name}
    label = parameter_label(spec.name)
    if spec.kind == "choice":
        offered: dict[str, set[int]] = {}
        for tier in sorted(spec.tiers):
            for value in spec.choices_for(tier) or ():
                offered.setdefault(str(value), set()).add(tier)
        widget = TierSelect(
            attrs=attrs, option_tiers={value: tiers_attr(t) for value, t in offered.items()}
        )
        choices = [(value, value) for value in offered]
        return forms.ChoiceField(
            label=label, choices=choices, required=False, help_text=spec.help, widget=widget
        )
    if spec.kind == "bool":
        return forms.ChoiceField(
            label=label,
            choices=BOOL_CHOICES,
            required=False,
            help_text=spec.help,
            widget=forms.Select(attrs=attrs),
        )
    if spec.kind == "int":
        number_attrs = {**attrs, "min": spec.minimum, "max": spec.maximum, "step": 1}
        widget: forms.Widget = forms.NumberInput(
            attrs={k: v for k, v in number_attrs.items() if v is not None}
        )
    else:
        widget = forms.TextInput(attrs=attrs)
    # Kept as text: provisioning.validation coerces it and words the error messages.
    return forms.CharField(
        label=label, required=False, help_text=spec.help, widget=widget, strip=True
    )


@dataclass(frozen=True)
class ParameterGroup:
    title: str
    tiers: str
    fields: list[dict[str, Any]]


def carried_parameters(environment: Environment, tier: int) -> dict[str, Any]:
    """What the environment's parameters become on ``tier`` (as the services carry them)."""
    try:
        return params_for_move(environment.parameters, tier)
    except ParameterValidationError:
        return ladder.defaults(tier)


class LadderForm(forms.Form):
    """A form with a tier and the ladder's parameters."""

    def add_parameter_fields(self, values: dict[str, Any]) -> None:
        for spec in ladder.PARAMETERS:
            self.fields[spec.name] = parameter_field(spec)
            self.initial.setdefault(spec.name, as_field_value(values.get(spec.name, spec.default)))

    def parameter_groups(self) -> list[ParameterGroup]:
        grouped = {name for _, names in PARAMETER_GROUPS for name in names}
        others = tuple(p.name for p in ladder.PARAMETERS if p.name not in grouped)
        groups = []
        for title, names in (*PARAMETER_GROUPS, ("Other", others)):
            specs = [ladder.PARAMETERS_BY_NAME[n] for n in names if n in ladder.PARAMETERS_BY_NAME]
            if not specs:
                continue
            tiers = set().union(*(spec.tiers for spec in specs))
            fields = [{"field": self[s.name], "tiers": tiers_attr(s.tiers)} for s in specs]
            groups.append(ParameterGroup(title, tiers_attr(tiers), fields))
        return groups

    def parameters(self, tier: int) -> dict[str, str]:
        """The submitted parameters that apply to ``tier``. An empty number or choice means
        "the default"; an empty text is kept, since it clears a DNS name or an address."""
        values = {}
        for spec in ladder.PARAMETERS:
            if not spec.applies_to(tier):
                continue
            raw = self.cleaned_data.get(spec.name, "")
            if raw == "" and spec.kind != "str":
                continue
            values[spec.name] = raw
        return values

    def check_parameters(self, tier: int, carried: dict[str, Any] | None = None) -> None:
        """Put provisioning.validation's verdict on the parameters next to their fields, so
        that one submit reports every problem (the services check again)."""
        try:
            validate_parameters(tier, {**(carried or {}), **self.parameters(tier)})
        except ParameterValidationError as exc:
            for name, message in exc.errors.items():
                if name in self.fields and name not in self.errors:
                    self.add_error(name, message)

    @staticmethod
    def tier_defaults() -> dict[int, dict[str, str]]:
        return {
            tier.number: {k: as_field_value(v) for k, v in ladder.defaults(tier.number).items()}
            for tier in ladder.TIERS
        }


class EnvironmentRequestForm(LadderForm):
    team = forms.ModelChoiceField(queryset=None, to_field_name="slug", empty_label=None)
    name = forms.CharField(
        max_length=40,
        help_text="Lower-case letters, digits and hyphens; it names the stack.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    tier = forms.TypedChoiceField(coerce=int, choices=tier_name_choices, widget=forms.RadioSelect)
    region = forms.ChoiceField(choices=[(r, r) for r in SUPPORTED_REGIONS])
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What it is for; approvers read this.",
    )

    def __init__(self, *args: Any, user: Any, tier: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = selectors.team_choices_for_user(user=user)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]
        self.has_teams = teams.exists()
        self.initial.setdefault("tier", tier)
        self.initial.setdefault("region", SUPPORTED_REGIONS[0])
        self.add_parameter_fields(ladder.defaults(tier))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("name"):
            try:
                cleaned["name"] = validate_environment_name(cleaned["name"])
            except ParameterValidationError as exc:
                self.add_error("name", exc.errors.get("name", str(exc)))
        if cleaned.get("tier"):
            self.check_parameters(cleaned["tier"])
        return cleaned


class EnvironmentChangeForm(LadderForm):
    tier = forms.TypedChoiceField(coerce=int, choices=tier_name_choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the move; approvers read this.",
    )
    confirm = forms.CharField(
        required=False,
        label="Confirm",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(
        self, *args: Any, environment: Environment, tier: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.environment = environment
        target = tier if tier in ladder.TIER_NUMBERS else (environment.tier or 1)
        self.initial.setdefault("tier", target)
        self.add_parameter_fields(carried_parameters(environment, target))
        self.fields["confirm"].help_text = (
            f"If the move puts data at risk, type the environment's name ({environment.name}) "
            "to confirm it."
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("tier"):
            tier = cleaned["tier"]
            self.check_parameters(tier, carried_parameters(self.environment, tier))
        return cleaned

    @staticmethod
    def tier_values(environment: Environment) -> dict[int, dict[str, str]]:
        """For each tier, the environment's parameters as a move there would carry them."""
        return {
            tier: {k: as_field_value(v) for k, v in carried_parameters(environment, tier).items()}
            for tier in ladder.TIER_NUMBERS
        }


class DecommissionForm(forms.Form):
    confirm = forms.CharField(
        label="Type the environment's name to confirm",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reason = forms.CharField(required=False, max_length=2000, widget=forms.TextInput())


class DecisionForm(forms.Form):
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PlainSelect(forms.Select):
    """A flat ``<select>`` rendered in Python. Django renders each option through a
    template, and format_html per option is not much cheaper: together 30 to 50 ms of a
    page for the 500 teams a platform admin can filter by. Same markup, each value and
    label escaped; no option groups."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        chosen = set(self.format_value(value))
        options = "".join(
            f'<option value="{html.escape(str(v))}"{" selected" if str(v) in chosen else ""}>'
            f"{html.escape(str(label))}</option>"
            for v, label in self.choices
        )
        return format_html("<select{}>{}</select>", flatatt(final), mark_safe(options))  # noqa: S308


def environment_filterset(data: Any, *, user: Any) -> EnvironmentFilterSet:
    """The API's FilterSet over the user's environments, its form dressed for the page:
    the user's teams as a menu, readable empty choices."""
    filterset = EnvironmentFilterSet(
        data or None,
        queryset=selectors.environment_queryset_for_user(user=user).select_related("created_by"),
    )
    fields = filterset.form.fields
    teams = selectors.team_choices_for_user(user=user).values_list("slug", flat=True)
    fields["team"].widget = PlainSelect(choices=[("", "All teams"), *((t, t) for t in teams)])
    fields["tier"].choices = [("", "All tiers"), *tier_choices()]
    fields["status"].choices = [("", "Live (not decommissioned)"), *Environment.Status.choices]
    return filterset


class AuditFilterForm(forms.Form):
    team = forms.ChoiceField(required=False, widget=PlainSelect)

    def __init__(self, *args: Any, teams: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "All teams"), *((t, t) for t in teams)]
