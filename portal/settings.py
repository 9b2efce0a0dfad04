"""Ladder settings: one module, driven by the environment (see README "Configuration").

Local mode (the default, DJANGO_DEBUG unset or on) needs nothing: SQLite, the Redis on
127.0.0.1:6379 (or the embedded one `make run` starts), the moto local cloud.
Production mode (DJANGO_DEBUG=0) takes SECRET_KEY and DJANGO_ALLOWED_HOSTS from the
environment and passes `manage.py check --deploy`.
"""

from __future__ import annotations

import os
import warnings
from datetime import timedelta
from pathlib import Path

import environ

from portal.config import ConfigError, local_secret_key, redact_url, redis_answers

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("PORTAL_STATE_DIR", BASE_DIR / ".local"))

env = environ.Env()

try:
    DEBUG = env.bool("DJANGO_DEBUG", default=True)
except ValueError as exc:
    raise ConfigError("DJANGO_DEBUG must be a boolean such as 1, 0, true or false") from exc
LOCAL_MODE = DEBUG

# --- secrets and hosts -------------------------------------------------------------------
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret_key(STATE_DIR)
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ConfigError(
            "SECRET_KEY is not set: production mode (DJANGO_DEBUG=0) needs SECRET_KEY, "
            "a random string of at least 50 characters"
        )
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ConfigError(
            "DJANGO_ALLOWED_HOSTS is not set: production mode needs the host names "
            "the portal answers to, comma-separated"
        )
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- applications ------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_rq",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "provisioning",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.security.DenialAuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the "too many attempts" page
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

# --- database ----------------------------------------------------------------------------
_default_db = f"sqlite:///{STATE_DIR / 'ladder.sqlite3'}"
_database_url = env.str("DATABASE_URL", default="") or _default_db
_SUPPORTED_ENGINES = {"django.db.backends.postgresql", "django.db.backends.sqlite3"}
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # django-environ warns, then returns an empty engine
        DATABASES = {"default": env.db_url_config(_database_url)}
except Exception:  # noqa: BLE001 - django-environ raises several kinds for a bad URL
    DATABASES = {"default": {}}
if DATABASES["default"].get("ENGINE") not in _SUPPORTED_ENGINES:
    raise ConfigError(
        "DATABASE_URL cannot be used: set it like postgres://user:password@host:5432/name "
        "(or leave it unset for a local SQLite file)"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    STATE_DIR.mkdir(parents=True, exist_ok=True)
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker, cache, RQ ------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="") or "redis://127.0.0.1:6379/0"
_check_at_startup = not DEBUG and not env.bool("PORTAL_SKIP_STARTUP_CHECKS", default=False)
if _check_at_startup and not redis_answers(REDIS_URL):
    raise ConfigError(
        f"Redis at REDIS_URL={redact_url(REDIS_URL)} does not answer: start it or set REDIS_URL"
    )

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "ladder",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_DEFAULT_QUEUE = "default"
_TRACKING = ("check", "sweep", "drain_notifications", "reconcile")
CELERY_TASK_ROUTES = {
    **{f"provisioning.tasks.provisioning_{t}": {"queue": "tracking"} for t in _TRACKING},
    "provisioning.tasks.provisioning_*": {"queue": "provisioning"},  # plan, apply
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redelivery of a task neither acked nor finished after an hour; "priority": a worker takes
# from its queues in the order given (worker.celery.QUEUES).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "queue_order_strategy": "priority"}
CELERY_BEAT_SCHEDULE = {
    "beat-heartbeat": {"task": "provisioning.tasks.beat_heartbeat", "schedule": 15.0},
    "drain-stack-notifications": {
        "task": "provisioning.tasks.provisioning_drain_notifications",
        # A completion waits up to one period (p95 <= 2 s, bench/dispatch.py); idle, one query.
        "schedule": env.float("NOTIFICATION_DRAIN_SECONDS", default=1.0),
        "options": {"expires": 10},
    },
    "sweep-stacks": {
        "task": "provisioning.tasks.provisioning_sweep",
        "schedule": env.float("SWEEP_SECONDS", default=30.0),
        "options": {"expires": 60},
    },
    "reconcile": {
        "task": "provisioning.tasks.provisioning_reconcile",
        "schedule": env.float("RECONCILE_SECONDS", default=60.0),
        "options": {"expires": 120},
    },
    "advise": {
        "task": "provisioning.tasks.advise_all",
        "schedule": env.float("ADVISOR_SECONDS", default=900.0),
        "options": {"expires": 600},
    },
    "webhooks-redeliver": {
        "task": "provisioning.tasks.webhooks_redeliver",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
}
WORKER_HEARTBEAT_SECONDS = 10
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", default=60)

# --- provisioning ------------------------------------------------------------------------
STACK_GATEWAY_FACTORY = env.str("STACK_GATEWAY_FACTORY", default="provisioning.cloud.boto3_gateway")
STACK_NOTIFICATIONS = env.bool("STACK_NOTIFICATIONS", default=True)
PROVISIONING_MAX_ATTEMPTS = env.int("PROVISIONING_MAX_ATTEMPTS", default=5)
PROVISIONING_RETRY_BASE = env.float("PROVISIONING_RETRY_BASE", default=2.0)
RECONCILE_AFTER_SECONDS = env.int("RECONCILE_AFTER_SECONDS", default=60)
PLAN_TTL_SECONDS = env.int("PLAN_TTL_SECONDS", default=7 * 24 * 3600)

RQ_QUEUES = {
    "notifications": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60},
    "metrics": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60},
}

# --- the REST API (portal/api) -----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.auth.TokenAuthentication",  # first: its WWW-Authenticate makes 401s
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["portal.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.filters.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "portal.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "portal.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api.auth.AnonRateThrottle",
        "portal.api.auth.UserRateThrottle",
        "portal.api.auth.WriteRateThrottle",
    ],
    # Per user (per address for anonymous requests); "N/second|minute|hour|day".
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="1200/minute"),
        "write": env.str("API_THROTTLE_WRITE", default="60/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ladder API",
    "DESCRIPTION": "Request AWS environments, move them along the ladder, approve, watch. "
    "Authenticate with `Authorization: Token <key>` (make one on /account/tokens/).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Swagger UI from the installed drf-spectacular-sidecar: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "EnvironmentStatusEnum": "provisioning.models.environments.Environment.Status",
        "ChangeStatusEnum": "provisioning.models.environments.ChangeRequest.Status",
        "ChangeKindEnum": "provisioning.models.environments.ChangeRequest.Kind",
        "ParameterKindEnum": ["str", "int", "bool", "choice"],
    },
}

# --- the cloud ---------------------------------------------------------------------------
PORTAL_CLOUD = env.str("PORTAL_CLOUD", default="local").strip().lower()
if PORTAL_CLOUD not in {"local", "aws"}:
    raise ConfigError("PORTAL_CLOUD must be 'local' (the moto local cloud) or 'aws'")
AWS_REGION = env.str("AWS_REGION", default="") or env.str("AWS_DEFAULT_REGION", default="us-east-1")
LOCAL_CLOUD_PORT = env.int("LOCAL_CLOUD_PORT", default=4566)
if PORTAL_CLOUD == "local":
    # The only difference between the local cloud and AWS: where boto3 sends its calls.
    # Dummy credentials are forced so that real keys never travel to the local endpoint.
    AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="") or (
        f"http://127.0.0.1:{LOCAL_CLOUD_PORT}"
    )
    os.environ["AWS_ENDPOINT_URL"] = AWS_ENDPOINT_URL
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"  # noqa: S105 - moto's dummy credential
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
else:
    AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="")
os.environ.setdefault("AWS_DEFAULT_REGION", AWS_REGION)

# --- metrics, advice, notifications -------------------------------------------------------
# The local cloud's CloudWatch crashes on percentiles: ask for Maximum there, labelled so.
METRICS_PERCENTILES = env.bool("METRICS_PERCENTILES", default=PORTAL_CLOUD == "aws")
# Local metrics come from the traffic simulator (pages say so); resources the local cloud
# does not create get stand-in ids the simulator publishes under.
METRICS_SIMULATED = PORTAL_CLOUD == "local"
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if LOCAL_MODE
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Ladder <ladder@localhost>")
WEBHOOK_RETRY_BASE = env.float("WEBHOOK_RETRY_BASE", default=30.0)  # seconds, doubled per try
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
# Webhooks never reach link-local addresses; private ones only in local mode.
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=LOCAL_MODE)

# --- auth --------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in rate limiting (django-axes): per username *and* address, so nobody can lock a
# user out from elsewhere; the first backend refuses a locked pair before any password check.
AUTHENTICATION_BACKENDS = [
    "portal.security.RateLimitBackend",
    "portal.security.PermissionBackend",  # ModelBackend, permissions in one query
]
AXES_FAILURE_LIMIT = env.int("SIGNIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("SIGNIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "portal.security.locked_out"
AXES_VERBOSE = False
# Behind a reverse proxy REMOTE_ADDR is the proxy: with N trusted proxies in front, the client
# is the N-th address of X-Forwarded-For from the right (what the outermost proxy saw).
TRUSTED_PROXY_COUNT = env.int(
    "DJANGO_TRUSTED_PROXY_COUNT",
    default=1 if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False) else 0,
)
AXES_CLIENT_IP_CALLABLE = "portal.security.client_ip"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- security ----------------------------------------------------------------------------
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp) on every response: scripts and styles only from our
# own origin, no inline script, no eval. Style *attributes* stay allowed (bar heights on
# the platform page); <style> elements do not. /api/docs/ relaxes style-src (see
# portal/api/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- i18n, static ------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
if DEBUG:
    STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from the finders, but looks here first
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
        "moto": {"level": "ERROR"},  # the local cloud's "no support for X" is expected
    },
}
