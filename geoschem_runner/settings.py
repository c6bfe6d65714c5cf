"""Settings, read from the environment in one place.

The embedded default (no variables set) runs the whole product on one machine: SQLite and files
under `var/`, the local compute backend, the demo model. Production switches integrations on with
`GCR_*` flags; a flag that is on makes its settings required, and a missing one stops start-up
with a message naming it. Every variable is listed in README.md with its default.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be on or off (got {raw!r})")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number (got {raw!r})") from None


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in envstr(name, default).split(",") if item.strip()]


def envchoice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = envstr(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)} (got {value!r})")
    return value


def required(flag: str, *names: str) -> dict[str, str]:
    """The values of `names`; fail start-up naming every missing one, since `flag` is on."""
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise ImproperlyConfigured(f"with {flag} these settings are required: {', '.join(missing)}")
    return {name: os.environ[name] for name in names}


# --- Data folder and secret key -----------------------------------------------------------
DATA_DIR = Path(envstr("GCR_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """From GCR_SECRET_KEY, or generated once into the data folder for the embedded default."""
    if os.environ.get("GCR_SECRET_KEY"):
        return os.environ["GCR_SECRET_KEY"]
    path = DATA_DIR / "secret_key"
    if not path.exists():
        # O_EXCL: two processes starting at once cannot both write a different key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(64))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("GCR_DEBUG", False)
ALLOWED_HOSTS = envlist("GCR_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = envlist("GCR_CSRF_TRUSTED_ORIGINS")

# --- HTTPS (production behind TLS) ----------------------------------------------------------
HTTPS = envbool("GCR_HTTPS", False)
if HTTPS:
    SECURE_SSL_REDIRECT = envbool("GCR_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("GCR_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # The ALB health check calls /healthz over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Applications ----------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    # Always installed (its tables exist either way); GCR_COGNITO decides whether it has an app.
    "allauth.socialaccount",
    "allauth.socialaccount.providers.amazon_cognito",
    "rest_framework",
    "formtools",
    "django_q",
    "accounts",
    "simulations",
    "costs",
    "results",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "geoschem_runner.urls"
WSGI_APPLICATION = "geoschem_runner.wsgi.application"
ASGI_APPLICATION = "geoschem_runner.asgi.application"

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
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("GCR_DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the task cluster and the CLI write to one file at once: wait for the
    # lock instead of failing, and let readers go on while one writes (WAL).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and sign-in ----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = envchoice("GCR_EMAIL_VERIFICATION", "optional", ("none", "optional", "mandatory"))
LOGIN_REDIRECT_URL = "simulations:list"
# Sign-in, sign-out and failed sign-ins leave AuditEvents through this adapter.
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# allauth's rate limits (counted in CACHES, below): sign-in form posts per address, and failed
# sign-ins per address and per email. Past the first the page answers 429; past the second the
# form says "Too many failed login attempts".
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
}
LOGIN_URL = "account_login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Amazon Cognito sign-in (GCR_COGNITO) ---------------------------------------------------
COGNITO = envbool("GCR_COGNITO", False)
# On: a "Sign in with Cognito" button (the user pool's hosted UI, allauth's amazon_cognito
# provider) and the pool's id/access tokens accepted by the API (accounts/cognito.py). Off: the
# provider has no app, so no button shows and no token is accepted. Local password accounts
# (operators) keep working either way.
if COGNITO:
    _cognito = required("GCR_COGNITO=on", "GCR_COGNITO_DOMAIN", "GCR_COGNITO_CLIENT_ID",
                        "GCR_COGNITO_CLIENT_SECRET", "GCR_COGNITO_USER_POOL_ID", "GCR_AWS_REGION")
    COGNITO_DOMAIN = _cognito["GCR_COGNITO_DOMAIN"].rstrip("/")
    if not COGNITO_DOMAIN.startswith("https://"):
        raise ImproperlyConfigured(f"GCR_COGNITO_DOMAIN must start with https:// (got {COGNITO_DOMAIN!r})")
    COGNITO_CLIENT_ID = _cognito["GCR_COGNITO_CLIENT_ID"]
    COGNITO_CLIENT_SECRET = _cognito["GCR_COGNITO_CLIENT_SECRET"]
    COGNITO_USER_POOL_ID = _cognito["GCR_COGNITO_USER_POOL_ID"]
    # The `iss` of the pool's tokens; its JWKS is at <issuer>/.well-known/jwks.json.
    COGNITO_ISSUER = (f"https://cognito-idp.{_cognito['GCR_AWS_REGION']}.amazonaws.com/"
                      f"{COGNITO_USER_POOL_ID}")
else:
    COGNITO_DOMAIN = COGNITO_CLIENT_ID = COGNITO_CLIENT_SECRET = COGNITO_USER_POOL_ID = COGNITO_ISSUER = ""
SOCIALACCOUNT_PROVIDERS = {
    "amazon_cognito": {
        "DOMAIN": COGNITO_DOMAIN,
        "APPS": [{"client_id": COGNITO_CLIENT_ID, "secret": COGNITO_CLIENT_SECRET}] if COGNITO else [],
    }
}
# Turns a failed Cognito round trip (outage, refused code) into a message on the sign-in page.
SOCIALACCOUNT_ADAPTER = "accounts.cognito.CognitoSocialAccountAdapter"
# The email is the identity. A first Cognito sign-in whose email Cognito reports as verified
# signs in (and links) the local account with that email; allauth does this only for verified
# emails, and wipes the password of a local account whose own email was never verified, so a
# squatter who registered someone else's address locally is locked out rather than let in.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_ONLY = False
# The hosted UI's tokens are not needed after sign-in; don't keep them in the database.
SOCIALACCOUNT_STORE_TOKENS = False

# --- The API (DRF): hashed tokens, the session, and Cognito bearer tokens when Cognito is on ---
REST_FRAMEWORK = {
    # Cognito first when on: it ignores other schemes, and DRF takes the 401's WWW-Authenticate
    # header from the first class, so a bad bearer token gets its Bearer error description.
    "DEFAULT_AUTHENTICATION_CLASSES": (["accounts.cognito.CognitoJWTAuthentication"] if COGNITO else []) + [
        "accounts.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle",
                                 "rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": envstr("GCR_API_RATE_USER", "600/min"),
                               "anon": envstr("GCR_API_RATE_ANON", "30/min")},
}

# --- Cache: shared by the web workers and the task cluster (rate limits, JWKS) ---
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": envstr("GCR_CACHE_DIR", str(DATA_DIR / "cache")),
    }
}

# --- Results: local copies of output files read from S3, and the levels summarised at indexing ---
RESULTS_CACHE_DIR = Path(envstr("GCR_RESULTS_CACHE_DIR", str(DATA_DIR / "results-cache")))
# Regions (nested-domain codes: NA, EU, AS, ...) whose means are precomputed for time series, as
# well as the globe's.
RESULTS_SUMMARY_REGIONS = envlist("GCR_RESULTS_SUMMARY_REGIONS")

# --- Email -------------------------------------------------------------------------------------
# Where the site is reached from outside: the links in notification emails and webhook posts.
SITE_URL = envstr("GCR_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"GCR_SITE_URL must start with http:// or https:// (got {SITE_URL!r})")
DEFAULT_FROM_EMAIL = envstr("GCR_FROM_EMAIL", "GEOS-Chem Cloud Runner <noreply@localhost>")
if envbool("GCR_SMTP", False):
    _smtp = required("GCR_SMTP=on", "GCR_SMTP_HOST")
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _smtp["GCR_SMTP_HOST"]
    EMAIL_PORT = envint("GCR_SMTP_PORT", 587)
    EMAIL_HOST_USER = envstr("GCR_SMTP_USER")
    EMAIL_HOST_PASSWORD = envstr("GCR_SMTP_PASSWORD")
    EMAIL_USE_TLS = envbool("GCR_SMTP_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Compute, and where outputs go ------------------------------------------------------------
# local: the runner as a subprocess here, outputs under var/. batch: AWS Batch, outputs on S3
# (docs/aws.md); its settings are then required.
COMPUTE_BACKEND = envchoice("GCR_COMPUTE_BACKEND", "local", ("local", "batch"))
BATCH = COMPUTE_BACKEND == "batch"
if BATCH:
    _aws = required("GCR_COMPUTE_BACKEND=batch", "GCR_AWS_REGION", "GCR_AWS_PREFIX", "GCR_S3_BUCKET",
                    "GCR_SQS_QUEUE_URL")
    AWS_REGION = _aws["GCR_AWS_REGION"]
    AWS_PREFIX = _aws["GCR_AWS_PREFIX"]
    S3_BUCKET = _aws["GCR_S3_BUCKET"]
    SQS_QUEUE_URL = _aws["GCR_SQS_QUEUE_URL"]
else:
    AWS_REGION = envstr("GCR_AWS_REGION", "us-east-1")
    AWS_PREFIX = envstr("GCR_AWS_PREFIX", "gcr-dev")
    S3_BUCKET = envstr("GCR_S3_BUCKET")
    SQS_QUEUE_URL = envstr("GCR_SQS_QUEUE_URL")
BATCH_TIMEOUT_HOURS = envint("GCR_BATCH_TIMEOUT_HOURS", 24)
# The app's IAM role, for check_aws to simulate its permissions (skipped when unset).
AWS_PRINCIPAL_ARN = envstr("GCR_AWS_PRINCIPAL_ARN")
S3_URL_EXPIRY_SECONDS = envint("GCR_S3_URL_EXPIRY_SECONDS", 3600)
# Where the runner in a container finds GEOS-Chem's input data, and where it stages it from.
INPUT_SOURCE = envstr("GCR_INPUT_SOURCE", "s3://geos-chem")
CONTAINER_INPUT_ROOT = envstr("GCR_CONTAINER_INPUT_ROOT", "/scratch/ExtData")
# "demo" runs the demo model; a path runs a real GEOS-Chem build (in the images: /opt/geos-chem/bin).
GCCLASSIC_EXECUTABLE = envstr("GCR_GCCLASSIC_EXECUTABLE", "/opt/geos-chem/bin/gcclassic" if BATCH else "demo")
GCHP_EXECUTABLE = envstr("GCR_GCHP_EXECUTABLE", "/opt/geos-chem/bin/gchp" if BATCH else "demo")
INPUT_ROOT = envstr("GCR_INPUT_ROOT", str(DATA_DIR / "ExtData"))
LOCAL_JOBS_DIR = DATA_DIR / "jobs"
# A job in RUNNABLE this long is reported with the likely cause, and cancelled if asked.
RUNNABLE_STUCK_MINUTES = envint("GCR_RUNNABLE_STUCK_MINUTES", 60)
RUNNABLE_STUCK_CANCEL = envbool("GCR_RUNNABLE_STUCK_CANCEL", False)
# After this many interruptions (Spot reclaims) the rest of a run moves to on-demand capacity.
SPOT_MAX_INTERRUPTIONS = envint("GCR_SPOT_MAX_INTERRUPTIONS", 3)
# A run whose runner has not written progress for this long is marked failed by the stuck check.
STUCK_AFTER_MINUTES = envint("GCR_STUCK_AFTER_MINUTES", 30)
# The sync task polls the backend every SYNC_EVERY_SECONDS for up to SYNC_LOOP_SECONDS per run;
# on Batch one DescribeJobs pass a minute (plus the event queue) is enough.
SYNC_EVERY_SECONDS = envint("GCR_SYNC_EVERY_SECONDS", 5)
SYNC_LOOP_SECONDS = envint("GCR_SYNC_LOOP_SECONDS", 0 if BATCH else 50)

# --- Files: static by whitenoise; media and outputs on local disk or S3 -------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# BokehJS from the installed bokeh package (so always its version) as static/bokeh/js/*.min.js:
# the plots work offline, with no CDN.
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "geoschem_runner.staticfinders.BokehFinder",
]
if BATCH:
    OUTPUT_ROOT_URI = f"s3://{S3_BUCKET}/runs/"
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": S3_BUCKET, "region_name": AWS_REGION, "location": "media",
                    "querystring_expire": S3_URL_EXPIRY_SECONDS},
    }
else:
    OUTPUT_ROOT_URI = (DATA_DIR / "outputs").as_uri() + "/"
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "media")},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Tasks (django-q2 on the database) ---------------------------------------------------------
Q_CLUSTER = {
    "name": "geoschem_runner",
    "orm": "default",
    "workers": envint("GCR_TASK_WORKERS", 2),
    "timeout": 600,
    "retry": 720,
    "max_attempts": 3,
    "catch_up": False,
    "save_limit": 1000,
    "poll": 1,
    "sync": envbool("GCR_TASKS_SYNC", False),
}

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("GCR_LOG_LEVEL", "INFO")},
}
