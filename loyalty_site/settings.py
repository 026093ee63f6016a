"""Settings, read from the environment (django-environ).

The defaults make a first run work with nothing else installed: SQLite, Celery
tasks run eagerly in-process, e-mail printed to the console. DEBUG is off unless
the environment turns it on (`make run` does, for the demo): a deployment that
forgets it gets the production settings, and then needs a SECRET_KEY.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from .observability import logging_config, sentry_init

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY_MIN_LENGTH = 50
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-never-used-in-production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH:
        raise ImproperlyConfigured(
            f"SECRET_KEY is {'too short' if SECRET_KEY else 'not set'}: with DEBUG off (the "
            f"default) it must be a secret of {SECRET_KEY_MIN_LENGTH}+ characters, e.g. "
            "SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(50))'). "
            "For development set DEBUG=true instead."
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "ninja",
    "django_htmx",
    "members",
    "shop",
    "batch",
    "notifications",
    "points",
    "tiers",
    "rewards",
    "personalisation",
    "campaigns",
    "staff",
]

MIDDLEWARE = [
    "loyalty_site.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "members.middleware.MemberMiddleware",
    "loyalty_site.middleware.ApiJsonErrorsMiddleware",
]

# Content Security Policy: scripts, styles, images and fonts from this site only, no
# inline script or style, no plugins, no framing, forms posted only here. Django's
# admin needs nothing more; the API's docs use ninja's own copy of Swagger UI
# (hence "ninja" among the apps), not a CDN.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

if not DEBUG:
    # runserver serves static files in development; WhiteNoise does it in production.
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")

# The shop's API (every path under /api/, loyalty_site/wsgi.py) uses none of the
# portal's session, CSRF, authentication, messages, locale, framing or CSP
# middleware: an API key authenticates each call and every answer is JSON.
API_MIDDLEWARE = [
    "loyalty_site.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "loyalty_site.middleware.ApiJsonErrorsMiddleware",
]

ROOT_URLCONF = "loyalty_site.urls"
WSGI_APPLICATION = "loyalty_site.wsgi.application"
ASGI_APPLICATION = "loyalty_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "members.portal.portal_context",
            ],
        },
    },
    {
        # Plain-text e-mail: the same templates, with no HTML escaping.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, with a health check that costs no round trip (loyalty_site/postgresql).
    DATABASES["default"]["ENGINE"] = "loyalty_site.postgresql"
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The ledger's and the order path's statements (points/ledger_sql.py) are
# prepared on each PostgreSQL connection once they have run this many times;
# Django's own queries never are. 0: never (a connection pooler that cannot keep
# them).
DATABASE_PREPARE_THRESHOLD = env.int("DATABASE_PREPARE_THRESHOLD", default=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# The shop API: requests per API key and period ("600/min", "20/s"; empty: no limit).
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/min")
# The largest body the API and the webhooks read (a Shopify order of hundreds of
# lines is well under it); larger ones are answered 413 unread.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)

# Shopify: the webhook signing secret of one connected store (more stores in the admin).
SHOPIFY_WEBHOOK_SECRET = env.str("SHOPIFY_WEBHOOK_SECRET", default="")

AUTH_USER_MODEL = "members.User"
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
LOGIN_REDIRECT_URL = "members:dashboard"

# django-allauth: e-mail is the login, verification is mandatory, logout is a POST,
# and allauth's own rate limits on login and sign-up stay at their defaults. They
# count per client address: behind proxies, the address the last of the trusted
# ones saw (X-Forwarded-For), not the proxy's.
ACCOUNT_ADAPTER = "notifications.accounts.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
# A member signs in with their e-mail or their verified mobile number, with the
# password or a one-time code (by e-mail or SMS). A number given at sign-up is
# verified by a code at once. Codes: 6 digits, kept hashed (members.codes), valid
# 5 minutes, 5 wrong tries end them, 2 resends at most (and one per 30 s a number).
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "phone", "password1*", "password2*"]
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 5 * 60
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 5
ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = 2
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 5 * 60
ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS = 5
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = 2
ALLAUTH_USER_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_FORMS = {
    "login": "members.forms.LoginForm",
    "confirm_login_code": "members.forms.ConfirmLoginCodeForm",
    "verify_phone": "members.forms.VerifyPhoneForm",
}
ACCOUNT_UNIQUE_EMAIL = True
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
# Nobody learns from the site whether an e-mail is a member's: signing up with one
# that is answers as a new sign-up does and mails the owner instead.
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""

# Internationalisation: stored times are UTC; the programme's day is PROGRAM_TIME_ZONE.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文"), ("zh-hant", "繁體中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

PROGRAM_TIME_ZONE = env.str("PROGRAM_TIME_ZONE", default="Asia/Shanghai")
PROGRAM_CURRENCY = env.str("PROGRAM_CURRENCY", default="CNY")
# The shop's address: the portal's tier page links to it to buy a paid plan (empty: no link).
SHOP_URL = env.str("SHOP_URL", default="")

# Points: lots expire this many months after they became available; staff
# adjustments above the threshold need the manager permission.
POINTS_EXPIRY_MONTHS = env.int("POINTS_EXPIRY_MONTHS", default=12)
POINTS_EXPIRY_WARNING_DAYS = 30
POINTS_LARGE_ADJUSTMENT = env.int("POINTS_LARGE_ADJUSTMENT", default=10_000)
# What points are worth when spent: POINTS_REDEMPTION_POINTS points are worth
# POINTS_REDEMPTION_VALUE in the programme currency (default 1000 = 10.00).
POINTS_REDEMPTION_POINTS = env.int("POINTS_REDEMPTION_POINTS", default=1000)
POINTS_REDEMPTION_VALUE = env.str("POINTS_REDEMPTION_VALUE", default="10.00")
# Points are spent at checkout in multiples of this step (default 100 = 1.00),
# for at most this share of an order's total.
POINTS_REDEMPTION_STEP = env.int("POINTS_REDEMPTION_STEP", default=100)
POINTS_REDEMPTION_MAX_PERCENT = env.int("POINTS_REDEMPTION_MAX_PERCENT", default=50)

# Earning: points per unit of currency spent (net of discounts and refunds, no
# shipping), and how long an order's points stay pending (the return window).
POINTS_PER_CURRENCY_UNIT = env.int("POINTS_PER_CURRENCY_UNIT", default=1)
RETURN_WINDOW_DAYS = env.int("RETURN_WINDOW_DAYS", default=14)
# Actions the shop reports: points each, and how many a member may earn from per
# day (the programme's day the event is received); events that happened more than
# EVENT_MAX_AGE_DAYS ago are refused.
EVENT_RULES = {
    "review": {"points": env.int("EVENT_REVIEW_POINTS", default=50), "daily_cap": 1},
    "share": {"points": env.int("EVENT_SHARE_POINTS", default=10), "daily_cap": 3},
}
EVENT_MAX_AGE_DAYS = env.int("EVENT_MAX_AGE_DAYS", default=7)

# Fraud rules (staff.fraud): a member reaching one of these is put on the review
# queue in the admin with the evidence, for staff to clear or sanction.
FRAUD_POINTS_PER_DAY = env.int("FRAUD_POINTS_PER_DAY", default=5000)
FRAUD_REDEMPTIONS_PER_HOUR = env.int("FRAUD_REDEMPTIONS_PER_HOUR", default=5)
FRAUD_REFERRALS_PER_MONTH = env.int("FRAUD_REFERRALS_PER_MONTH", default=10)
FRAUD_REFUNDED_PERCENT = env.int("FRAUD_REFUNDED_PERCENT", default=50)
FRAUD_REFUNDED_MIN_ORDERS = env.int("FRAUD_REFUNDED_MIN_ORDERS", default=4)
FRAUD_MEMBERS_PER_PHONE = env.int("FRAUD_MEMBERS_PER_PHONE", default=3)

# Campaigns: the order path reads the active campaigns from a per-process cache,
# refilled after this many seconds (the process that saves one empties it at once).
CAMPAIGN_CACHE_SECONDS = env.int("CAMPAIGN_CACHE_SECONDS", default=10)

# Tiers: qualifying spend is counted over this many days ending on the evaluated
# day; a member below their tier's threshold keeps it for a grace period, then
# drops one tier. Members within TIER_NUDGE_PERCENT of the next threshold are told
# at most once per TIER_NUDGE_EVERY_DAYS; paid plans are reminded of before they end.
TIER_WINDOW_DAYS = env.int("TIER_WINDOW_DAYS", default=365)
TIER_GRACE_DAYS = env.int("TIER_GRACE_DAYS", default=30)
TIER_NUDGE_PERCENT = 20
TIER_NUDGE_EVERY_DAYS = 30
PLAN_REMINDER_DAYS = 7

# Personalisation: behaviour events are kept this many days (a nightly purge);
# the recommender learns from the orders and behaviour of its window and keeps
# each member's top N by the algorithm of their variant; ALS's size (small: the CPU model, nightly);
# the A/B split of members between the algorithms ("name=weight,...").
BEHAVIOUR_RETENTION_DAYS = env.int("BEHAVIOUR_RETENTION_DAYS", default=180)
RECOMMENDATION_WINDOW_DAYS = env.int("RECOMMENDATION_WINDOW_DAYS", default=365)
RECOMMENDATION_TOP_N = env.int("RECOMMENDATION_TOP_N", default=20)
RECOMMENDATION_ALS_FACTORS = env.int("RECOMMENDATION_ALS_FACTORS", default=32)
RECOMMENDATION_ALS_ITERATIONS = env.int("RECOMMENDATION_ALS_ITERATIONS", default=10)
RECOMMENDATION_ALS_ALPHA = env.float("RECOMMENDATION_ALS_ALPHA", default=10.0)
RECOMMENDATION_VARIANTS = env.str(
    "RECOMMENDATION_VARIANTS", default="als=40,cooccurrence=30,content=20,popularity=10"
)
# Tags: a member's net spend over the window that makes them `high_value`.
TAG_WINDOW_DAYS = env.int("TAG_WINDOW_DAYS", default=180)
TAG_HIGH_VALUE_SPEND = env.str("TAG_HIGH_VALUE_SPEND", default="5000.00")
# Price protection (a paid-plan benefit): a price drop this many days after an
# order of the product gives the member a coupon for the difference, valid this long.
PRICE_PROTECTION_DAYS = env.int("PRICE_PROTECTION_DAYS", default=7)
PRICE_PROTECTION_COUPON_DAYS = env.int("PRICE_PROTECTION_COUPON_DAYS", default=30)

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
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

email_url = env.str("EMAIL_URL", default="consolemail://")
vars().update(env.email_url_config(email_url))
if urlsplit(email_url).scheme == "filemail":
    # django-environ drops the leading slash: filemail:///var/mail means /var/mail.
    EMAIL_FILE_PATH = urlsplit(email_url).path
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Loyalty <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# Notifications: the programme's name and address in every message; marketing at
# most MARKETING_CAP per member and channel in 7 days, never in QUIET_HOURS
# ("22-8": 22:00 to 08:00 in PROGRAM_TIME_ZONE; empty: none).
PROGRAM_NAME = env.str("PROGRAM_NAME", default="Loyalty")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
MARKETING_CAP = env.int("MARKETING_CAP", default=3)
QUIET_HOURS = env.str("QUIET_HOURS", default="22-8")
# SMS: where texts go (console://, file:///abs/dir, twilio://SID:TOKEN@api.twilio.com
# ?from=+1...); numbers typed without a country code are read as PHONE_REGION's.
SMS_URL = env.str("SMS_URL", default="console://")
PHONE_REGION = env.str("PHONE_REGION", default="CN")
# Web Push: the VAPID key pair (`manage.py vapid_keys` makes one) and the contact
# the push services may write to. Without the keys, push is off.
VAPID_PUBLIC_KEY = env.str("VAPID_PUBLIC_KEY", default="")
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default="mailto:no-reply@localhost")
# Marketing goes out at each member's usual hour (`usual_hour`: the hour they
# most often order in, 10:00 without any) or as soon as it is due (`when_due`).
MARKETING_SEND_TIME = env.str("MARKETING_SEND_TIME", default="usual_hour")
# Outgoing webhooks: retried this long after the event; endpoints on loopback,
# private or link-local addresses are refused unless allowed (tests, a LAN).
WEBHOOK_RETRY_HOURS = 24
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)

# Celery: with no broker configured, tasks run eagerly in-process (the embedded default).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 15 * 60
CELERY_TASK_TIME_LIMIT = 20 * 60
CELERY_TIMEZONE = PROGRAM_TIME_ZONE
# A task taken by a worker that dies (SIGKILL, a lost machine) is delivered again
# once this many seconds have passed; longer than the time limit, so that a task
# still running is not handed to a second worker. Each worker looks for such
# tasks every 10 seconds (kombu's default is every tenth look, 100 seconds).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=30 * 60),
    "unacked_restore_throttle": 1,
}
# A running nightly run that has made no progress (no chunk finished) for this
# long lost its process (a command killed in eager mode, tasks the broker lost):
# the next start of the same job and day marks it failed and takes over.
BATCH_STALE_RUN_MINUTES = env.int("BATCH_STALE_RUN_MINUTES", default=30)
# The nightly jobs, in the programme's time zone, just after its midnight.
CELERY_BEAT_SCHEDULE = {
    "nightly": {"task": "batch.run_nightly", "schedule": crontab(hour=0, minute=5)},
    # What the outbox holds due (retries, marketing after quiet hours), every minute.
    "outbox": {"task": "notifications.send_outbox", "schedule": 60.0},
}

# Only behind a proxy that sets this header (and strips it from what clients send)
# may a request be believed to have come over HTTPS: e.g. X-Forwarded-Proto.
proxy_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
if proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + proxy_ssl_header.upper().replace("-", "_"),
        "https",
    )
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# Logs: one JSON object a line (structlog) in production, readable lines in
# development; the nightly jobs log each run and chunk with their counts.
LOGGING = logging_config(
    level=env.str("LOG_LEVEL", default="INFO"),
    fmt=env.str("LOG_FORMAT", default="console" if DEBUG else "json"),
)
# Celery workers log through the same handler instead of replacing it with theirs.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Errors go to Sentry when a DSN is configured; nothing is sent otherwise.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# Prometheus metrics at /metrics, for a scraper that sends this bearer token;
# empty: /metrics answers 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
