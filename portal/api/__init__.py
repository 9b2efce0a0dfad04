"""The REST API (v1): a thin face over provisioning's selectors and services."""
