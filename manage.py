#!/usr/bin/env python
"""Ladder's command line: `python manage.py help`."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from portal.config import fail_on_config_error

    def run() -> None:
        from django.conf import settings
        from django.core.management import execute_from_command_line

        settings.INSTALLED_APPS  # noqa: B018 - load settings now so errors are one line
        execute_from_command_line(sys.argv)

    fail_on_config_error(run)


if __name__ == "__main__":
    main()
