from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Ladder portal"

    def ready(self) -> None:
        from django.contrib.auth import signals

        from portal import security

        signals.user_logged_in.connect(security.record_signed_in, dispatch_uid="audit-sign-in")
        signals.user_logged_out.connect(security.record_signed_out, dispatch_uid="audit-sign-out")
        signals.user_login_failed.connect(
            security.record_signin_failed, dispatch_uid="audit-sign-in-failed"
        )
