"""Settings for Later for TikTok, read from the environment (django-environ).

With nothing configured the product runs on a laptop: SQLite, a filesystem Celery broker
and the local TikTok simulator. DATABASE_URL / REDIS_URL switch to PostgreSQL and Redis.
Production (DEBUG=False) turns every `check --deploy` safeguard on and requires real secrets.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from celery.schedules import schedule as celery_schedule
from kombu import Queue

# Lets generic classes such as admin.ModelAdmin[Post] be subscripted at runtime.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str(
    "SECRET_KEY", default="dev-only-insecure-secret-key-change-me" if DEBUG else ""
)
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "later.admin_site.LaterAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "later",
    "accounts",
    "calendar_app",
    "conversations",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "later.middleware.ContentSecurityPolicyMiddleware",
    "later.middleware.ApiErrorEnvelopeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "later.numbers.NumberLocaleMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "later.middleware.RejectNulBytesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "later.urls"
WSGI_APPLICATION = "later.wsgi.application"
ASGI_APPLICATION = "later.asgi.application"

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
                "accounts.context_processors.workspace_nav",
                "later.queue_health.queue_health",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'later.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers. For web, worker and beat on one file: WAL lets readers run
    # beside the writer; IMMEDIATE transactions take the write lock up front (a deferred one
    # that upgrades mid-way fails at once with "database is locked", whatever the timeout);
    # the busy timeout then queues writers instead of failing them.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=20000",
        }
    )
# A streaming replica for read-only pages (later/db_router.py). It defaults to the primary, and
# then reads stay on the one connection; set DATABASE_REPLICA_URL to move them.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
REPLICA_READS_ENABLED = bool(DATABASE_REPLICA_URL)
DATABASES["replica"] = {
    **copy.deepcopy(DATABASES["default"]),
    **(env.db("DATABASE_REPLICA_URL") if DATABASE_REPLICA_URL else {}),
    "TEST": {"MIRROR": "default"},
}
DATABASE_ROUTERS = ["later.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "later.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="later"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# Rendered page fragments (`{% fragment %}`, later/fragments.py): keyed on the data they show,
# so they need no invalidation. FRAGMENT_CACHE_VERSION lets an operator drop them all at once.
FRAGMENT_CACHE_ALIAS = "default"
FRAGMENT_CACHE_VERSION = env.str("FRAGMENT_CACHE_VERSION", default="1")

AUTH_USER_MODEL = "accounts.User"
# Tenancy wiring: `later/` reaches the apps above it only through these names.
TENANT_WORKSPACE_MODEL = "accounts.Workspace"
TENANT_MEMBERSHIP_RESOLVER = "accounts.access.membership_resolve"
# The API's personal tokens: `later.authentication` reaches them through this setting.
API_TOKEN_AUTHENTICATOR = "accounts.token_services.api_token_authenticate"
#: Times already taken in the calendar, for analytics' best-time suggestions (free slots only).
BEST_TIMES_BUSY_TIMES = "calendar_app.occupancy.scheduled_times"
#: One video's counters as Analytics shows them (latest snapshot, measured_at), for
#: Conversations' Post view; without it that page shows TikTok's listing, labelled as such.
VIDEO_FIGURES = "analytics.selectors.video_figures"
#: First-response figures for client reports; the section is left out while this is missing.
REPORT_RESPONSE_TIMES = "conversations.response_times.report_figures"
#: Response times overall and per account for Analytics' overview; the section is left out
#: while this is missing.
ANALYTICS_RESPONSE_TIMES = "conversations.response_times.analytics_figures"
#: The agency home's per-client figures, one provider per feature app (accounts.agency_selectors).
AGENCY_CLIENT_FIGURES = [
    "calendar_app.agency.client_figures",
    "conversations.agency.client_figures",
    "analytics.agency.client_figures",
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: e-mail as the identity, verification optional in dev, rate limits always on.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Failed sign-ins are throttled by accounts.login_throttle (per IP and account, with trusted
# devices exempt from the account lock), not by allauth's "login_failed" per-account lock.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "5/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Later for TikTok"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {
        "BACKEND": env.str(
            "MEDIA_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        )
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploads stream to disk above 2.5 MB; the media library enforces its own per-type limits.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# TikTok pulls photos (and videos, with TIKTOK_VIDEO_SOURCE=PULL_FROM_URL) from signed,
# expiring links under this base; verify its prefix or domain with TikTok ("URL properties").
# It must be https and reach this site's /public-media/ without a redirect.
MEDIA_PUBLIC_BASE_URL = env.str("MEDIA_PUBLIC_BASE_URL", default=f"{SITE_URL}/public-media/")
# TikTok may take its time to pull (up to an hour, fact sheet §2.6); ≥ 30 min recommended.
MEDIA_PUBLIC_URL_TTL_SECONDS = env.int("MEDIA_PUBLIC_URL_TTL_SECONDS", default=3 * 3600)
MEDIA_MAX_VIDEO_BYTES = env.int("MEDIA_MAX_VIDEO_BYTES", default=1024 * 1024 * 1024)
MEDIA_MAX_IMAGE_BYTES = env.int("MEDIA_MAX_IMAGE_BYTES", default=20 * 1024 * 1024)
# TikTok takes photos up to 1080p; the cap stops decompression bombs well above that.
MEDIA_MAX_IMAGE_PIXELS = env.int("MEDIA_MAX_IMAGE_PIXELS", default=40_000_000)

# E-mail from one URL (django-environ): `consolemail://` writes messages to the process's output
# (the quick start's default; `make run` keeps it in var/log/web.log and worker.log),
# `smtp+tls://user:password@smtp.example.com:587` sends them.
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
_email: dict[str, Any] = env.email_url_config(EMAIL_URL)
vars().update(_email)
# The older single setting still wins when it is given.
EMAIL_BACKEND: str = env.str("EMAIL_BACKEND", default="") or _email["EMAIL_BACKEND"]
EMAIL_PRINTS_TO_CONSOLE = EMAIL_BACKEND.endswith("console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Later for TikTok <noreply@localhost>")

# REST API
REST_FRAMEWORK = {
    # Tokens first, so an unauthenticated call gets 401 with WWW-Authenticate: Bearer.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "later.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "later.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "later.schema.AutoSchema",
    "EXCEPTION_HANDLER": "later.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "later.api.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {"user": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Later for TikTok API",
    "DESCRIPTION": "Workspaces, TikTok accounts, posts and publishing, comments and analytics.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status"; name each enum after its owner so the schema stays stable.
    "ENUM_NAME_OVERRIDES": {
        "PostStatusEnum": "calendar_app.models.PostStatus",
        "AccountStatusEnum": "accounts.models.AccountStatus",
        "CommentSentimentEnum": "conversations.models.Sentiment",
        "ModerationRuleActionEnum": "conversations.models.RuleAction",
        "RuleRunStatusEnum": "conversations.models.RuleRunStatus",
        "CommentBulkActionEnum": "conversations.api.BULK_ACTION_CHOICES",
    },
}

# Celery: Redis when REDIS_URL is set; otherwise a filesystem broker under var/ so the quick
# start needs nothing but Python. Results are not stored: the database is the source of truth.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = str(VAR_DIR / "broker")
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": _broker_dir,
        "data_folder_out": _broker_dir,
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
    CELERY_BROKER_TRANSPORT = "later.filesystem_broker:Transport"
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# How long pages trust the last "is the broker reachable?" answer (later/queue_health.py).
QUEUE_HEALTH_CHECK_SECONDS = env.float("QUEUE_HEALTH_CHECK_SECONDS", default=10.0)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# What a task prints (the console e-mail backend's messages) is information, not a warning.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
# Celery's Django fixup closes the database connections before and after every task unless
# this is set, and then only every this many tasks; between those, Django's CONN_MAX_AGE and
# health checks decide at each task's edges, as for a request (later/celery.py).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=10_000)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Publishing has its own queue so that its worker pool never waits behind background work: a
# sync of thousands of accounts or a batch of report PDFs fills "sync" / "analytics", not
# "publishing". A worker started without -Q consumes every queue (the quick start, tests);
# production runs one pool per line of docker-compose.yml (README: "Worker pools").
CELERY_TASK_QUEUES = tuple(
    Queue(name, routing_key=name) for name in ("default", "publishing", "sync", "analytics")
)
CELERY_TASK_ROUTES = {
    "calendar_app.tasks.*": {"queue": "publishing", "routing_key": "publishing"},
    "conversations.tasks.*": {"queue": "sync", "routing_key": "sync"},
    "analytics.tasks.*": {"queue": "analytics", "routing_key": "analytics"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# The one place where periodic work is declared.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Every second: what is due lives in PostgreSQL, never as a delayed broker message, so the
    # tick bounds a post's dispatch lateness (a tick with nothing due is one indexed query).
    # On the clock's whole seconds (`relative`), where posts fall due (users pick minutes):
    # a post due at 09:00:00 is claimed at 09:00:00 and a few ms, not up to a second later.
    "dispatch-due-posts": {
        "task": "calendar_app.tasks.dispatch_due_posts",
        "schedule": celery_schedule(1.0, relative=True),
    },
    # Every 2 s: a dead worker's claim lease (PUBLISHING_CLAIM_LEASE_SECONDS) is re-offered
    # within a few seconds of expiring. A sweep with nothing stale is one indexed query.
    "sweep-stale-publishing": {"task": "calendar_app.tasks.sweep_stale_posts", "schedule": 2.0},
    "reconcile-unconfirmed": {
        "task": "calendar_app.tasks.reconcile_unconfirmed_posts",
        "schedule": 60.0,
    },
    # Retries of token refresh, webhook events, comment sync and analytics wait in PostgreSQL
    # (later/retries.py); this sends those that are due.
    "send-due-retries": {"task": "later.tasks.send_due_retries", "schedule": 5.0},
    "refresh-expiring-tokens": {
        "task": "accounts.tasks.refresh_expiring_tokens",
        "schedule": 600.0,
    },
    # Webhook events stored but never applied (their message was lost): queued again.
    "sweep-unprocessed-webhooks": {
        "task": "accounts.tasks.sweep_unprocessed_webhooks",
        "schedule": 60.0,
    },
    "sync-comments": {"task": "conversations.tasks.schedule_comment_sync", "schedule": 60.0},
    "triage-backlog": {"task": "conversations.tasks.triage_backlog", "schedule": 60.0},
    "snapshot-analytics": {"task": "analytics.tasks.schedule_daily_snapshots", "schedule": 60.0},
    # No-op until `manage.py partitions switch` partitioned a table (PARTITIONED_TABLES).
    "partitions-ahead": {
        "task": "later.tasks.create_future_partitions",
        "schedule": 6 * 3600.0,
    },
    "client-reports": {"task": "analytics.tasks.dispatch_due_reports", "schedule": 900.0},
    "purge-idempotency-keys": {
        "task": "later.tasks.purge_idempotency_records",
        "schedule": 3600.0,
    },
    "review-deadlines": {"task": "calendar_app.tasks.warn_review_deadlines", "schedule": 60.0},
}
# Tables `manage.py partitions switch` may partition by month, and the column of each
# (later/partitions.py, docs/scaling.md); every unique key of these tables holds it.
PARTITIONED_TABLES = {
    "analytics.VideoSnapshot": "bucket_at",
    "analytics.AccountDailySnapshot": "date",
    "conversations.Comment": "created_at_tiktok",
}
# Approvals: how long before its time a post still in review warns the approvers (once).
APPROVAL_WARNING_MINUTES = env.int("APPROVAL_WARNING_MINUTES", default=120)

# Publishing pipeline tunables (calendar_app.publishing). Tests and benchmarks lower the
# intervals; the fault tests pass them to their Celery workers through the environment.
PUBLISHING_DISPATCH_BATCH = env.int("PUBLISHING_DISPATCH_BATCH", default=200)
PUBLISHING_MAX_ATTEMPTS = env.int("PUBLISHING_MAX_ATTEMPTS", default=6)
PUBLISHING_RETRY_BASE_SECONDS = env.float("PUBLISHING_RETRY_BASE_SECONDS", default=10.0)
PUBLISHING_RETRY_CAP_SECONDS = env.float("PUBLISHING_RETRY_CAP_SECONDS", default=15 * 60.0)
# How long one task run polls in-process before parking the post for the dispatcher:
# by default one poll, then the worker slot is free while TikTok processes the video.
PUBLISHING_POLL_IN_TASK_SECONDS = env.float("PUBLISHING_POLL_IN_TASK_SECONDS", default=0.0)
PUBLISHING_POLL_FIRST_INTERVAL = env.float("PUBLISHING_POLL_FIRST_INTERVAL", default=0.5)
PUBLISHING_POLL_MAX_INTERVAL = env.float("PUBLISHING_POLL_MAX_INTERVAL", default=8.0)
# Claims are leases: a live run renews its post's heartbeat every third of the lease (also
# during long uploads and polls, from its own thread and connection); a killed worker's claim
# expires and the sweeper (every 2 s) re-offers it ahead of the fresh backlog. A lease that
# lapses under a live run costs work, never a second init: every write checks the claim, and
# a lost init answer is only called unconfirmed past the lease plus TikTok's timeout.
# A queued post (message waiting in the broker) is re-offered once it is this old and its
# message is gone: the sweeper looks for it in Redis (publishing/broker.py); a message still
# in the queue stays however slowly the pool starts. Without that answer it guesses
# (dispatch.posts_sweep_stale: the pool started a post sent after it, or is idle).
PUBLISHING_CLAIM_LEASE_SECONDS = env.float("PUBLISHING_CLAIM_LEASE_SECONDS", default=6.0)
PUBLISHING_QUEUED_GRACE_SECONDS = env.float("PUBLISHING_QUEUED_GRACE_SECONDS", default=15.0)
# When the sweeper guesses (or a very long queue was read in part), a queued post behind a
# burst is left in the queue up to this long.
PUBLISHING_QUEUED_MAX_WAIT_SECONDS = env.float("PUBLISHING_QUEUED_MAX_WAIT_SECONDS", default=600.0)

# TikTok: defaults are TikTok's real hosts; the quick start and tests point them at the simulator.
TIKTOK_CLIENT_KEY = env.str("TIKTOK_CLIENT_KEY", default="sim-client-key")
TIKTOK_CLIENT_SECRET = env.str("TIKTOK_CLIENT_SECRET", default="sim-client-secret")
TIKTOK_REDIRECT_URI = env.str("TIKTOK_REDIRECT_URI", default=f"{SITE_URL}/connect/tiktok/callback/")
# The TikTok API for Business app (comments, insights); optional. The simulator's app is the
# default only while the Login Kit app is the simulator's too.
TIKTOK_BUSINESS_APP_ID = env.str(
    "TIKTOK_BUSINESS_APP_ID",
    default="sim-business-app-id" if TIKTOK_CLIENT_KEY == "sim-client-key" else "",
)
TIKTOK_BUSINESS_APP_SECRET = env.str(
    "TIKTOK_BUSINESS_APP_SECRET",
    default="sim-business-app-secret" if TIKTOK_CLIENT_KEY == "sim-client-key" else "",
)
TIKTOK_BUSINESS_REDIRECT_URI = env.str(
    "TIKTOK_BUSINESS_REDIRECT_URI", default=f"{SITE_URL}/connect/tiktok/business/callback/"
)
# The Business app's calls a minute across all its accounts and endpoints (TikTok's default
# level: 600; answered with 40100 beyond it), shared by every worker through Redis, and the share
# of it background passes (comment sync, analytics) may fill: the rest waits for people's actions.
TIKTOK_BUSINESS_APP_RATE_LIMIT = env.int("TIKTOK_BUSINESS_APP_RATE_LIMIT", default=600)
TIKTOK_BUSINESS_BACKGROUND_SHARE = env.float("TIKTOK_BUSINESS_BACKGROUND_SHARE", default=0.8)
if TIKTOK_BUSINESS_APP_RATE_LIMIT < 1 or not 0 < TIKTOK_BUSINESS_BACKGROUND_SHARE <= 1:
    raise environ.ImproperlyConfigured(
        "TIKTOK_BUSINESS_APP_RATE_LIMIT must be at least 1 and TIKTOK_BUSINESS_BACKGROUND_SHARE "
        "above 0 and at most 1"
    )
TIKTOK_AUTH_BASE_URL = env.str("TIKTOK_AUTH_BASE_URL", default="https://www.tiktok.com")
TIKTOK_OPEN_API_BASE_URL = env.str(
    "TIKTOK_OPEN_API_BASE_URL", default="https://open.tiktokapis.com"
)
TIKTOK_BUSINESS_API_BASE_URL = env.str(
    "TIKTOK_BUSINESS_API_BASE_URL", default="https://business-api.tiktok.com/open_api/v1.3"
)
# How videos reach TikTok: FILE_UPLOAD (chunks from this server) or PULL_FROM_URL (TikTok
# downloads the signed MEDIA_PUBLIC_BASE_URL link; faster for large files on a good host).
# Photos always use PULL_FROM_URL; Business publishing always pulls.
TIKTOK_VIDEO_SOURCE = env.str("TIKTOK_VIDEO_SOURCE", default="FILE_UPLOAD")
if TIKTOK_VIDEO_SOURCE not in ("FILE_UPLOAD", "PULL_FROM_URL"):
    raise environ.ImproperlyConfigured("TIKTOK_VIDEO_SOURCE must be FILE_UPLOAD or PULL_FROM_URL")
TIKTOK_TIMEOUT_SECONDS = env.float("TIKTOK_TIMEOUT_SECONDS", default=15.0)
# Fernet keys for tokens at rest, newest first; separate from SECRET_KEY so either can rotate.
TOKEN_ENCRYPTION_KEYS = env.list(
    "TOKEN_ENCRYPTION_KEYS",
    default=["ZGV2LW9ubHktdG9rZW4ta2V5LWRvLW5vdC11c2UtMzI="] if DEBUG else [],
)
if not TOKEN_ENCRYPTION_KEYS:
    raise environ.ImproperlyConfigured("TOKEN_ENCRYPTION_KEYS must be set when DEBUG is off")

# Security: production turns on every deploy safeguard.
SESSION_COOKIE_HTTPONLY = True
# Sessions are read from the cache (Redis) and written through to PostgreSQL: a page view
# costs no session query, and a flushed Redis only costs one read per session.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Typed as Django declares it, so code reading nested keys type-checks.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
