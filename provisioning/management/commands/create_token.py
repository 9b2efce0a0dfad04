"""`manage.py create_token USERNAME [--name N] [--days D]`: an API token, key printed once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from provisioning import services
from provisioning.errors import ServiceError
from provisioning.services.tokens import DEFAULT_DAYS


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print its key (it is shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="created with manage.py create_token")
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="valid for D days")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: options["username"]})
        except User.DoesNotExist:
            raise CommandError(f"no user called {options['username']!r}") from None
        if not user.is_active:
            raise CommandError(f"{options['username']!r} is not active")
        try:
            token, key = services.token_create(
                user=user, name=options["name"], days=options["days"]
            )
        except ServiceError as exc:
            problems = "; ".join(f"{f}: {m}" for f, m in exc.fields.items()) or exc.message
            raise CommandError(problems) from None
        self.stderr.write(
            f"Token {token.name!r} ({token.key_prefix}…) for {options['username']}, "
            f"valid until {token.expires_at:%Y-%m-%d %H:%M} UTC. The key:"
        )
        self.stdout.write(key)
