"""Reading the environment into settings, with one clear line when something is wrong.

Settings import this module; nothing here imports Django settings.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured


class ConfigError(ImproperlyConfigured):
    """A setting is missing or wrong. The message says what to set."""


def local_secret_key(state_dir: Path) -> str:
    """A per-machine key for local mode, kept out of the code and out of git."""
    state_dir.mkdir(parents=True, exist_ok=True)
    key_file = state_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parsed = urlparse(url)
    if not parsed.password:
        return url
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
    return parsed._replace(netloc=netloc).geturl()


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    """True when something accepts a TCP connection at the Redis URL's host and port."""
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port or 6379
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def fail_on_config_error(main):  # type: ignore[no-untyped-def]
    """Run an entry point; a ConfigError becomes one line on stderr and exit status 2."""
    try:
        return main()
    except ConfigError as exc:
        sys.stderr.write(f"ladder: configuration error: {exc}\n")
        sys.exit(2)


def env_flag_set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())
