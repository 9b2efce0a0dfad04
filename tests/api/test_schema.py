"""The OpenAPI schema and Swagger UI (offline), and Schemathesis against the schema: no 5xx,
and every answer conforms (status code, content type, body) to what the schema says."""

from __future__ import annotations

import json
import re

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from provisioning import services

pytestmark = pytest.mark.django_db
MAX_EXAMPLES = 25  # per operation (positive and negative cases): about 20 s on 2 cores
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_schema_is_openapi_3_and_lists_every_endpoint(api):
    response = api("alice").get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert {
        "/api/v1/ladder/", "/api/v1/teams/", "/api/v1/environments/",
        "/api/v1/environments/{id}/", "/api/v1/environments/{id}/changes/",
        "/api/v1/environments/{id}/decommission/", "/api/v1/environments/{id}/events/",
        "/api/v1/changes/", "/api/v1/changes/{id}/", "/api/v1/changes/{id}/approve/",
        "/api/v1/changes/{id}/reject/", "/api/v1/changes/{id}/cancel/",
    } <= paths  # fmt: skip
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    create = schema["paths"]["/api/v1/environments/"]["post"]
    assert "202" in create["responses"] and "422" in create["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])


def test_swagger_ui_is_served_from_our_own_static_files(api):
    page = api("alice").get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(not a.startswith(("http://", "https://", "//")) for a in assets), assets
    for asset in assets:
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")), asset
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html


# --- Schemathesis -------------------------------------------------------------------------
def served_schema() -> dict:
    """The schema /api/schema/ serves, made here at import: the operations are known at
    collection time, before any database."""
    generator = SchemaGenerator()
    return json.loads(OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True)))


schema = schemathesis.openapi.from_dict(served_schema())
schema.app = WSGIHandler()  # the portal in this thread, inside each test's transaction
# Every GET, and the writes a pipeline makes most: request, move, approve.
WRITES = {
    "/api/v1/environments/", "/api/v1/environments/{id}/changes/", "/api/v1/changes/{id}/approve/",
}  # fmt: skip
OPERATIONS = sorted(
    (op.method.upper(), op.path)
    for op in (result.ok() for result in schema.get_all_operations())
    if op.method.upper() == "GET" or op.path in WRITES
)


@pytest.fixture
def in_test_transaction():
    """As Django's test client does: connections stay open at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_fuzzed_operations_cover_the_api():
    assert len(OPERATIONS) >= 11 and ("POST", "/api/v1/environments/") in OPERATIONS


# Parametrized here rather than with schema.parametrize(): its test ids collapse into one
# under this pytest, and pytest-xdist would then run only some of them.
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_schemathesis(method, path, world, in_test_transaction):
    key = services.token_create(user=world["alice"], name="schemathesis")[1]
    headers = {"Authorization": f"Token {key}"}
    operation = schema[path][method]
    # Positive cases aim at real objects of alice's team, so that they are not all 404s.
    real = {"id": world["shop_change" if path.startswith("/api/v1/changes/") else "shop"].pk,
            "slug": world["web"].slug}  # fmt: skip
    fixed = {name: real[name] for name in real if "{" + name + "}" in path}
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    def fuzz(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    fuzz()
