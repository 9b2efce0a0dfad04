from django.contrib import admin
from django.urls import include, path

from portal.views import (
    approvals,
    audit,
    changes,
    dashboards,
    environments,
    pages,
    tokens,
    webhooks,
)

admin.site.site_header = "Ladder administration"
admin.site.site_title = "Ladder"

urlpatterns = [
    path("", pages.home, name="home"),
    path("ladder/", pages.ladder_page, name="ladder"),
    path("environments/", environments.environment_list, name="environment-list"),
    path("environments/new/", environments.environment_request, name="environment-request"),
    path(
        "environments/estimate/",
        environments.environment_estimate,
        name="environment-estimate",
    ),
    path("environments/<int:pk>/", environments.environment_detail, name="environment-detail"),
    path(
        "environments/<int:pk>/change/",
        environments.environment_change,
        name="environment-change",
    ),
    path(
        "environments/<int:pk>/decommission/",
        environments.environment_decommission,
        name="environment-decommission",
    ),
    path(
        "environments/<int:pk>/events/",
        environments.environment_events,
        name="environment-events",
    ),
    path(
        "environments/<int:pk>/metrics/",
        dashboards.environment_metrics,
        name="environment-metrics",
    ),
    path(
        "recommendations/<int:pk>/open/",
        dashboards.recommendation_open,
        name="recommendation-open",
    ),
    path(
        "recommendations/<int:pk>/dismiss/",
        dashboards.recommendation_dismiss,
        name="recommendation-dismiss",
    ),
    path("dashboard/", dashboards.portfolio_dashboard, name="portfolio"),
    path("platform/", dashboards.platform_overview, name="platform-overview"),
    path("changes/<int:pk>/", changes.change_detail, name="change-detail"),
    path("changes/<int:pk>/approve/", changes.change_approve, name="change-approve"),
    path("changes/<int:pk>/reject/", changes.change_reject, name="change-reject"),
    path("changes/<int:pk>/cancel/", changes.change_cancel, name="change-cancel"),
    path("approvals/", approvals.approvals, name="approvals"),
    path("audit/", audit.audit_log, name="audit-log"),
    path("teams/", pages.team_list, name="team-list"),
    path("teams/<slug:slug>/", pages.team_detail, name="team-detail"),
    path("teams/<slug:slug>/webhooks/", webhooks.webhook_list, name="team-webhooks"),
    path(
        "teams/<slug:slug>/webhooks/<int:pk>/delete/",
        webhooks.webhook_delete,
        name="team-webhook-delete",
    ),
    path("account/tokens/", tokens.token_list, name="token-list"),
    path("account/tokens/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
    path("api/", include("portal.api.urls")),
    path("healthz", pages.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("django-rq/", include("django_rq.urls")),
]
