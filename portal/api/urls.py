"""/api/: v1 of the REST API, its OpenAPI schema and Swagger UI (served from our own static
files: no CDN)."""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from portal.api import views

router = SimpleRouter()
router.register("teams", views.TeamViewSet, basename="api-team")
router.register("environments", views.EnvironmentViewSet, basename="api-environment")
router.register("changes", views.ChangeViewSet, basename="api-change")
router.register("recommendations", views.RecommendationViewSet, basename="api-recommendation")

v1 = [
    path("ladder/", views.LadderView.as_view(), name="api-ladder"),
    *router.urls,
]


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@authentication_classes([])
@permission_classes([])
@throttle_classes([])
def not_found(request: Request, rest: str = "") -> Response:
    """JSON, not the HTML 404 page, for any other path under /api/."""
    raise NotFound("no such API endpoint")


urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script from ?script, so the page needs no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^(?P<rest>.*)$", not_found, name="api-not-found"),
]
