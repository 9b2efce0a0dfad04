"""The Django admin. Teams, memberships and policies are edited here; environments, changes
and what AWS reported are read here, and changes are approved or rejected only through the
services (statuses are never edited by hand)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from provisioning import services
from provisioning.errors import ServiceError
from provisioning.models import (
    ApiToken,
    Approval,
    AuditEvent,
    ChangeRequest,
    Environment,
    Membership,
    NetworkStack,
    StackEvent,
    Team,
    TeamPolicy,
)
from provisioning.roles import is_approver, is_platform_admin


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


class TeamPolicyInline(admin.StackedInline):
    model = TeamPolicy
    can_delete = False
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline, TeamPolicyInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["team", "user", "role", "created_at"]
    list_filter = ["role", "team"]
    search_fields = ["team__slug", "user__username"]
    autocomplete_fields = ["team", "user"]


@admin.register(TeamPolicy)
class TeamPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "team",
        "auto_approve_max_tier",
        "monthly_budget_usd",
        "max_environments",
        "updated_at",
    ]
    search_fields = ["team__slug"]
    autocomplete_fields = ["team"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user) or super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user) or super().has_change_permission(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the services and workers: visible here, never edited here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user) or super().has_view_permission(request, obj)


@admin.register(Environment)
class EnvironmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "team", "tier", "status", "region", "monthly_cost", "updated_at"]
    list_filter = ["status", "tier", "region", "team"]
    search_fields = ["name", "team__slug", "stack_name", "stack_id"]
    list_select_related = ["team"]
    date_hierarchy = "created_at"


class ApprovalInline(admin.TabularInline):
    model = Approval
    extra = 0
    can_delete = False
    fields = ("approver", "decision", "note", "created_at")
    readonly_fields = ("approver", "decision", "note", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "environment",
        "kind",
        "from_tier",
        "to_tier",
        "status",
        "requester",
        "cost_delta",
        "created_at",
    ]
    list_filter = ["status", "kind", "environment__team"]
    search_fields = ["environment__name", "environment__team__slug", "requester__username"]
    list_select_related = ["environment__team", "requester"]
    date_hierarchy = "created_at"
    inlines = [ApprovalInline]
    actions = ["approve_selected", "reject_selected"]

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return is_approver(request.user)

    def _decide(
        self, request: HttpRequest, queryset: QuerySet[ChangeRequest], *, approve: bool
    ) -> None:
        decide = services.change_approve if approve else services.change_reject
        done = 0
        for change in queryset.select_related("environment__team"):
            try:
                decide(
                    user=request.user,
                    change=change,
                    note="decided in the admin",
                    ip=request.META.get("REMOTE_ADDR"),
                )
            except ServiceError as exc:
                self.message_user(request, f"Change #{change.pk}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            verb = "approved" if approve else "rejected"
            self.message_user(request, f"{done} change(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Approve the selected changes", permissions=["approve"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[ChangeRequest]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject the selected changes", permissions=["approve"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[ChangeRequest]) -> None:
        self._decide(request, queryset, approve=False)


@admin.register(StackEvent)
class StackEventAdmin(ReadOnlyAdmin):
    list_display = ["change", "sequence", "timestamp", "logical_id", "resource_type", "status"]
    list_filter = ["status"]
    search_fields = ["logical_id", "event_id", "change__environment__name"]
    list_select_related = ["change"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "team", "action", "object_type", "object_id", "ip"]
    list_filter = ["action", "object_type", "team"]
    search_fields = ["action", "object_id", "actor__username"]
    list_select_related = ["actor", "team"]
    date_hierarchy = "created_at"


@admin.register(NetworkStack)
class NetworkStackAdmin(ReadOnlyAdmin):
    list_display = ["stack_name", "team", "region", "status", "updated_at"]
    list_filter = ["status", "region"]
    search_fields = ["stack_name", "team__slug"]
    list_select_related = ["team"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Who holds which token (never the key: only its hash is stored); a platform admin can
    revoke a leaked one."""

    list_display = ["name", "user", "key_prefix", "created_at", "expires_at", "last_used_at",
                    "revoked_at"]  # fmt: skip
    list_filter = ["revoked_at"]
    search_fields = ["name", "key_prefix", "user__username"]
    list_select_related = ["user"]
    exclude = ["key_hash"]
    actions = ["revoke_selected"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request.user)

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            services.token_revoke(user=request.user, token=token)
        messages.success(request, f"Revoked {queryset.count()} token(s).")
