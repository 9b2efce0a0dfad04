"""Settings read the environment in a fresh process each time, as a deployment would."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import BASE_DIR, free_port

PROBE = (
    "import json, os, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], "
    "'name': str(s.DATABASES['default']['NAME']), 'cloud': s.PORTAL_CLOUD, "
    "'endpoint': os.environ.get('AWS_ENDPOINT_URL'), 'key': os.environ.get('AWS_ACCESS_KEY_ID'), "
    "'redis': s.REDIS_URL, 'debug': s.DEBUG}))"
)
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "-production-secret-for-tests-only-0123456789",
    "DJANGO_ALLOWED_HOSTS": "ladder.example.com",
}


def run_python(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def probe(env: dict[str, str]) -> dict:
    result = run_python(env, "-c", PROBE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def without(env: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in names}


def test_no_database_url_means_a_local_sqlite_file(child_env):
    answer = probe(without(child_env, "DATABASE_URL"))
    assert answer["engine"] == "django.db.backends.sqlite3"
    assert answer["name"].startswith(child_env["PORTAL_STATE_DIR"])
    assert answer["debug"] is True


def test_database_url_selects_postgresql_through_psycopg3(child_env):
    env = {**child_env, "DATABASE_URL": "postgres://ladder@db.internal:5432/ladder"}
    answer = probe(env)
    assert answer["engine"] == "django.db.backends.postgresql"
    assert answer["name"] == "ladder"


def test_local_cloud_is_the_default_with_dummy_credentials(child_env):
    port = free_port()
    env = {**without(child_env, "PORTAL_CLOUD"), "LOCAL_CLOUD_PORT": str(port)}
    env["AWS_ACCESS_KEY_ID"] = "AKIAREALKEYSHOULDNOTTRAVEL"
    answer = probe(env)
    assert answer["cloud"] == "local"
    assert answer["endpoint"] == f"http://127.0.0.1:{port}"
    assert answer["key"] == "testing"


def test_portal_cloud_aws_uses_the_standard_credential_chain(child_env):
    env = {**child_env, "PORTAL_CLOUD": "aws", "AWS_ACCESS_KEY_ID": "from-the-chain"}
    answer = probe(without(env, "AWS_ENDPOINT_URL"))
    assert answer["cloud"] == "aws"
    assert answer["endpoint"] is None
    assert answer["key"] == "from-the-chain"


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"DATABASE_URL": "not a url at all"}, "DATABASE_URL"),
        ({"DATABASE_URL": "nosuchdb://x@y/z"}, "DATABASE_URL"),
        ({**PRODUCTION, "SECRET_KEY": ""}, "SECRET_KEY"),
        ({**PRODUCTION, "DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS"),
        ({**PRODUCTION, "REDIS_URL": "redis://127.0.0.1:{closed}/0"}, "REDIS_URL"),
        ({"PORTAL_CLOUD": "azure"}, "PORTAL_CLOUD"),
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG"),
    ],
)
def test_bad_configuration_stops_with_one_clear_line(child_env, overrides, names):
    env = {
        **child_env,
        **{k: v.replace("{closed}", str(free_port())) for k, v in overrides.items()},
    }
    result = run_python(env, "manage.py", "check")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ladder: configuration error:")
    assert names in lines[0]


def test_check_deploy_is_clean_in_production_mode(child_env):
    env = {**child_env, **PRODUCTION}
    result = run_python(env, "manage.py", "check", "--deploy", "--fail-level", "DEBUG")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
