from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from provisioning.demo import seed_demo


class Command(BaseCommand):
    help = "Create the demo teams and users (local mode only). Safe to run again."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet-logins", action="store_true", help="do not print passwords")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.LOCAL_MODE:
            raise CommandError("seed_demo runs in local mode only (DJANGO_DEBUG is off)")
        logins = seed_demo(state_dir=settings.STATE_DIR)
        self.stdout.write("Demo data ready.")
        if not options["quiet_logins"]:
            for demo, password in logins:
                self.stdout.write(f"  {demo.username:<6} {password:<14} {demo.description}")
