"""The only settings module: it parses ``MADOGUCHI_*`` variables (see ``config``), no logic."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from madoguchi import config

DATA_DIR = config.data_dir()
SECRET_KEY = config.secret_key(DATA_DIR)
SECRET_KEY_FALLBACKS = config.secret_key_fallbacks()
DEBUG = config.flag("MADOGUCHI_DEBUG")
ALLOWED_HOSTS = config.word_list("MADOGUCHI_ALLOWED_HOSTS")

_WEB = config.bind("MADOGUCHI_WEB_BIND")
_PROXIES = config.trusted_proxies()
MADOGUCHI = config.Runtime(
    web_bind=_WEB,
    base_url=config.base_url(_WEB),
    smtp_bind=config.bind("MADOGUCHI_SMTP_BIND"),
    lmtp_bind=config.bind("MADOGUCHI_LMTP_BIND"),
    max_message_bytes=config.integer("MADOGUCHI_MAX_MESSAGE_BYTES", minimum=1024),
    imap_poll_seconds=config.integer("MADOGUCHI_IMAP_POLL_SECONDS", minimum=1),
    imap_rescan_seconds=config.seconds("MADOGUCHI_IMAP_RESCAN_SECONDS", minimum=0.1),
    live_poll_seconds=config.seconds("MADOGUCHI_LIVE_POLL_SECONDS", minimum=0.05),
    https=config.https(_PROXIES),
    trusted_proxies=_PROXIES,
)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_static",
    "axes",
    "madoguchi.core",
    "madoguchi.accounts",
    "madoguchi.mailboxes",
    "madoguchi.conversations",
    "madoguchi.mail_in",
    "madoguchi.mail_out",
    "madoguchi.reply_templates",
    "madoguchi.search",
    "madoguchi.customers",
    "madoguchi.reports",
    "madoguchi.notifications",
    "madoguchi.live",
    "madoguchi.automation",
    "madoguchi.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "madoguchi.core.security.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "madoguchi.web.setup.FirstRunMiddleware",
    "madoguchi.web.twofactor_middleware.TwoFactorMiddleware",
    "madoguchi.web.agent_middleware.AgentPreferencesMiddleware",
    "madoguchi.live.middleware.LiveCursorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

#: Django's form renderer with <select> written in Python (web/form_renderer.py).
FORM_RENDERER = "madoguchi.web.form_renderer.FormRenderer"
ROOT_URLCONF = "madoguchi.web.urls"
ASGI_APPLICATION = "madoguchi.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "madoguchi.web.rail.shell",
            ]
        },
    }
]

DATABASES = {"default": config.database(DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Attachments (core.blobs): files in the data dir, a shared volume or an S3-compatible bucket
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "attachments": config.attachments_storage(DATA_DIR),
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
_V = "django.contrib.auth.password_validation."
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": _V + "UserAttributeSimilarityValidator"},
    {"NAME": _V + "MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": _V + "CommonPasswordValidator"},
    {"NAME": _V + "NumericPasswordValidator"},
]

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
WHITENOISE_USE_FINDERS = True  # serve app static files without a collectstatic step
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in protection (docs/decisions/0005-sign-in-protection.md): django-axes counts failed
# sign-ins (passwords and second-step codes) per user name and per client address
# (REMOTE_ADDR, which core.proxy sets from a trusted proxy's header).
AUTHENTICATION_BACKENDS = [
    "madoguchi.accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "madoguchi.accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "madoguchi.web.signin.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]
AXES_ENABLE_ADMIN = False
AXES_DISABLE_ACCESS_LOG = True  # sign-ins are in our audit log (accounts.AuditEntry)
AXES_VERBOSE = False
OTP_TOTP_ISSUER = "Madoguchi"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# Behind a proxy that terminates TLS (docs/configuration.md, "Production"). The scheme and
# the client address come from core.proxy (trusted proxies only), not SECURE_PROXY_SSL_HEADER.
CSRF_TRUSTED_ORIGINS = [config.origin(MADOGUCHI.base_url)]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = MADOGUCHI.https
SECURE_HSTS_SECONDS = config.integer("MADOGUCHI_HSTS_SECONDS") if MADOGUCHI.https else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = config.flag("MADOGUCHI_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = SECURE_HSTS_INCLUDE_SUBDOMAINS  # only says "may be listed"; see the doc
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # a load balancer's plain-HTTP health check
# Request bodies: core.limits bounds them before Django reads anything; these bound what
# Django keeps in memory and how many fields it parses.
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024  # form fields without the files
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # larger files go to a temporary file
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
DATA_UPLOAD_MAX_NUMBER_FILES = 100

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "madoguchi": {
            "handlers": ["console"],
            "level": config.env("MADOGUCHI_LOG_LEVEL") or "INFO",
        },
        "django_tasks_db": {"handlers": ["console"], "level": "WARNING"},
    },
}
