"""List filters shared by the faces (web pages and the REST API): one FilterSet per list.

A FilterSet narrows a queryset that a selector has already scoped to the user; it never
widens it. Filtering by another team's slug therefore finds nothing rather than leaking.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from provisioning import ladder
from provisioning.models import ChangeRequest, Environment

TIER_CHOICES = [(t.number, f"{t.number} · {t.name}") for t in ladder.TIERS]
ALL = "all"
ACTIVE = "active"


class IdFilter(django_filters.NumberFilter):
    """A database id: a whole number (NumberFilter would take 1.5)."""

    field_class = forms.IntegerField


class EnvironmentFilterSet(django_filters.FilterSet):
    """``team`` (slug), ``tier``, ``status`` (empty: all but decommissioned ones; ``all``:
    every one), ``search`` (in the name or the team's slug)."""

    team = django_filters.CharFilter(field_name="team__slug", label="Team")
    tier = django_filters.TypedChoiceFilter(choices=TIER_CHOICES, coerce=int, label="Tier")
    status = django_filters.ChoiceFilter(
        choices=[*Environment.Status.choices, (ALL, "All, decommissioned too")],
        method="filter_status",
        label="Status",
    )
    search = django_filters.CharFilter(method="filter_search", label="Search")

    class Meta:
        model = Environment
        fields = ["team", "tier", "status", "search"]

    def filter_status(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset if value == ALL else queryset.filter(status=value)

    def filter_search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(team__slug__icontains=value))

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.exclude(status=Environment.Status.DECOMMISSIONED)
        return queryset


class ChangeFilterSet(django_filters.FilterSet):
    """``status`` (or ``active``: any status still moving), ``environment`` (id), ``team``
    (slug), ``kind``."""

    status = django_filters.ChoiceFilter(
        choices=[*ChangeRequest.Status.choices, (ACTIVE, "Active (not finished)")],
        method="filter_status",
        label="Status",
    )
    environment = IdFilter(field_name="environment_id", label="Environment")
    team = django_filters.CharFilter(field_name="environment__team__slug", label="Team")
    kind = django_filters.ChoiceFilter(choices=ChangeRequest.Kind.choices, label="Kind")

    class Meta:
        model = ChangeRequest
        fields = ["status", "environment", "team", "kind"]

    def filter_status(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == ACTIVE:
            return queryset.filter(status__in=ChangeRequest.ACTIVE)
        return queryset.filter(status=value)
