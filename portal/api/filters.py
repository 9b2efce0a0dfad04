"""Paging and filtering for the API's lists. The FilterSets themselves are shared with the
web pages (provisioning.filters); this module only plugs them into DRF."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.pagination import PageNumberPagination

from provisioning.filters import ChangeFilterSet, EnvironmentFilterSet

__all__ = ["ChangeFilterSet", "DjangoFilterBackend", "EnvironmentFilterSet", "Pagination"]


class Pagination(PageNumberPagination):
    """``?page=N&page_size=M`` (at most 100); every list answers {count, next, previous,
    results}."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
