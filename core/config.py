"""Settings from the environment only (pydantic-settings); one clear line per bad value."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.crypto import parse_keys


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable and is shown as is."""


def _secret_value(secret: SecretStr | None) -> str:
    return secret.get_secret_value() if secret is not None else ""


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
MAX_WEBHOOK_SECRETS = 2  # the current signing secret, plus the old one while it is rotated


def _check_http_url(name: str, raw: str, example: str) -> str:
    """A base URL FlyO builds links or requests on: http(s), a host, no query or fragment."""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or any(c.isspace() for c in raw):
        raise ValueError(f"{name} must be a base URL such as {example} (http or https, no query)")
    return raw


def parse_api_url(url: str) -> tuple[str, int, bool]:
    """AMADEUS_API_URL → (host, port, ssl) for amadeus.Client; https defaults to 443, http to 80.

    A path is refused: the SDK joins host, port and API path itself, so a gateway prefix would be lost.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
        raise ValueError("expected https://host[:port] without a path")
    ssl = parts.scheme == "https"
    return parts.hostname, parts.port or (443 if ssl else 80), ssl


class Settings(BaseSettings):
    """Every variable of the DESIGN.md table, same names and defaults, plus a few documented extras."""

    model_config = SettingsConfigDict(env_file=None, case_sensitive=True, extra="ignore")

    TELEGRAM_BOT_TOKEN: SecretStr | None = None
    TELEGRAM_API_URL: str = DEFAULT_TELEGRAM_API_URL
    TELEGRAM_WEBHOOK_URL: str = ""
    TELEGRAM_WEBHOOK_SECRET: SecretStr | None = None
    # Webhook mode: a stored update not handled this long after a process took it is taken over by another
    # (that process died); longer than any update's handling.
    TELEGRAM_UPDATE_LEASE_SECONDS: int = Field(default=60, ge=5, le=3600)
    ADMIN_IDS: Annotated[frozenset[int], NoDecode] = frozenset()

    MONGODB_URI: SecretStr | None = None
    MONGODB_DB: str = "flyo"
    DATA_DIR: Path = Path("./var")
    # Keys that encrypt birth dates and document numbers at rest (core.crypto), comma-separated: the first
    # encrypts, all decrypt (rotation: docs/operations.md). Empty: a key made once in DATA_DIR with the embedded
    # database; with MONGODB_URI FlyO refuses to start without it (replicas must share the key).
    DATA_ENCRYPTION_KEYS: SecretStr | None = None

    HTTP_HOST: str = "127.0.0.1"
    HTTP_PORT: int = Field(default=8080, ge=0, le=65535)
    PUBLIC_URL: str = ""
    # How long a Mini App page's Telegram init data is accepted after Telegram signed it (issue #19).
    WEBAPP_AUTH_MAX_AGE_SECONDS: int = Field(default=3600, ge=60, le=7 * 24 * 3600)

    STRIPE_SECRET_KEY: SecretStr | None = None
    STRIPE_WEBHOOK_SECRET: SecretStr | None = None
    STRIPE_API_URL: str = "https://api.stripe.com"
    STRIPE_ALLOW_LIVE: bool = False
    DEMO_PAYMENTS: bool = False  # set by `python -m bot console`; only ever used without a Stripe key

    SENDGRID_API_KEY: SecretStr | None = None
    SENDGRID_API_URL: str = "https://api.sendgrid.com"
    EMAIL_FROM: str = ""
    EMAIL_FROM_NAME: str = Field(default="FlyO", max_length=64)

    # SMS through Twilio's REST API (flight changes and the 24 h reminder to travellers who gave a phone): off
    # while TWILIO_ACCOUNT_SID is empty; TWILIO_API_URL points at a loopback fake in tests.
    TWILIO_ACCOUNT_SID: str = ""
    TWILIO_AUTH_TOKEN: SecretStr | None = None
    TWILIO_FROM: str = ""  # the sending number (E.164) or a Messaging Service SID (MG…)
    TWILIO_API_URL: str = "https://api.twilio.com"

    AMADEUS_CLIENT_ID: str = ""
    AMADEUS_CLIENT_SECRET: SecretStr | None = None
    AMADEUS_API_URL: str = "https://test.api.amadeus.com"
    AMADEUS_TIMEOUT_SECONDS: float = Field(default=4.0, gt=0, le=60)

    # Conversations kept in memory between updates (services.conversations); empty: 512 with the embedded
    # database (one FlyO per DATA_DIR), 0 (off) with MONGODB_URI, where replicas share the chats.
    CONVERSATION_CACHE_SIZE: int | None = Field(default=None, ge=0, le=100_000)
    # Seats taken per flight ("N left") kept in memory until a seat of it changes here or a hold lapses
    # (services.seat_counts); empty: on with the embedded database, off with MONGODB_URI (replicas' holds).
    SEAT_COUNT_CACHE: bool | None = None
    HOLD_MINUTES: int = Field(default=15, ge=1, le=120)
    # connections: the least time to change planes at a hub (LHR has its own 90), and the longest wait offered
    MIN_CONNECT_MINUTES: int = Field(default=60, ge=20, le=360)
    MAX_LAYOVER_HOURS: int = Field(default=8, ge=1, le=23)
    PAYMENT_WINDOW_MINUTES: int = Field(default=30, ge=30, le=1440)
    # an infant on a lap pays this share of each flight's fare (services.infants)
    INFANT_FARE_PERCENT: int = Field(default=10, ge=0, le=100)
    MAX_PAYMENT_ATTEMPTS: int = Field(default=3, ge=1, le=10)
    # no booking, hold or payment link for a flight departing sooner than this
    BOOKING_CUTOFF_MINUTES: int = Field(default=120, ge=0, le=7*24*60)
    # a booking's seats stay held this long past its payment window (Stripe may deliver late)
    HOLD_GRACE_MINUTES: int = Field(default=60, ge=5, le=24*60)
    MAX_PENDING_BOOKINGS_PER_USER: int = Field(default=2, ge=1, le=50)
    MAX_HELD_SEATS_PER_FLIGHT: int = Field(default=9, ge=1, le=50)  # per user per flight
    SWEEP_INTERVAL_SECONDS: int = Field(default=60, ge=1, le=3600)
    # Days after a booking's last flight departed until the sweep removes its passengers' personal details
    # (names, birth dates, documents, e-mail, phone); what accounting needs stays (services.erasure).
    PERSONAL_DATA_RETENTION_DAYS: int = Field(default=90, ge=1, le=3650)
    # the in-process worker that applies stored Stripe events; off only to test that a stored event survives
    INBOX_WORKER_ENABLED: bool = True

    # Where flight status reports come from besides the admins: "" (none) or "scripted:<path.json>", a replayed
    # day (services.providers.status_feed); read at start-up, a wrong script stops FlyO with the line at fault.
    FLIGHT_STATUS_FEED: str = ""
    # A delay this long after the schedule offers the same choice as a cancellation: another flight or a refund.
    DISRUPTION_DELAY_MINUTES: int = Field(default=180, ge=30, le=24 * 60)
    # A cancelled flight's travellers who chose nothing are refunded in full this long before its departure.
    DISRUPTION_REFUND_HOURS: int = Field(default=6, ge=1, le=72)

    TELEGRAM_RATE_LIMIT: bool = True  # PTB's AIORateLimiter; off only for local benchmarks
    # Messages a second this process sends at most (PTB's AIORateLimiter). Telegram allows about 30 per bot in all,
    # so N replicas share them: 30 / N each (docker-compose.yml's two replicas: 15).
    TELEGRAM_SEND_RATE: float = Field(default=30.0, gt=0, le=30)
    FLOOD_MAX_UPDATES: int = Field(default=20, ge=1, le=10_000)
    FLOOD_WINDOW_SECONDS: float = Field(default=10.0, gt=0, le=3600)
    # Flood control's window in MongoDB (services.flood), so a user spread over replicas counts once: one more
    # round trip per update. Empty: off with the embedded database (one FlyO), on with MONGODB_URI (replicas).
    FLOOD_SHARED: bool | None = None
    METRICS_TOKEN: SecretStr | None = None  # set → GET /metrics wants "Authorization: Bearer <token>"

    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    LOG_FORMAT: Literal["text", "json"] = "text"

    # The terminal chat's own loopback Bot API root, set only by `for_console` (never from the environment):
    # demo payments exist only where it equals TELEGRAM_API_URL.
    _console_bot_api: str = PrivateAttr(default="")

    @field_validator("ADMIN_IDS", mode="before")
    @classmethod
    def _parse_admin_ids(cls, raw: object) -> object:
        if isinstance(raw, str):
            parts = [p.strip() for p in raw.split(",") if p.strip()]
            bad = [p for p in parts if not p.lstrip("-").isdigit()]
            if bad:
                raise ValueError(f"expected comma-separated numeric Telegram user ids, got {bad[0]!r}")
            return frozenset(int(p) for p in parts)
        return raw

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _upper_level(cls, raw: object) -> object:
        return raw.upper() if isinstance(raw, str) else raw

    @field_validator("TELEGRAM_BOT_TOKEN", "STRIPE_SECRET_KEY", "SENDGRID_API_KEY", "MONGODB_URI",
                     "STRIPE_WEBHOOK_SECRET", "TELEGRAM_WEBHOOK_SECRET", "AMADEUS_CLIENT_SECRET",
                     "METRICS_TOKEN", "CONVERSATION_CACHE_SIZE", "SEAT_COUNT_CACHE", "TWILIO_AUTH_TOKEN",
                     "FLOOD_SHARED", "DATA_ENCRYPTION_KEYS", mode="before")
    @classmethod
    def _empty_is_unset(cls, raw: object) -> object:
        # An empty variable in .env or docker-compose means "not configured", not "configured as ''".
        return None if isinstance(raw, str) and not raw.strip() else raw

    @field_validator("DATA_ENCRYPTION_KEYS")
    @classmethod
    def _check_data_keys(cls, raw: SecretStr | None) -> SecretStr | None:
        if raw is not None:
            parse_keys(raw.get_secret_value())  # a malformed key stops start-up, not the first booking's save
        return raw

    @field_validator("AMADEUS_API_URL")
    @classmethod
    def _check_amadeus_url(cls, raw: str) -> str:
        parse_api_url(raw)  # the Amadeus adapter's own rule, checked at start-up
        return raw

    @field_validator("FLIGHT_STATUS_FEED")
    @classmethod
    def _check_status_feed(cls, raw: str) -> str:
        raw = raw.strip()
        if raw and not (raw.startswith("scripted:") and raw.removeprefix("scripted:").strip()):
            raise ValueError("FLIGHT_STATUS_FEED is empty or scripted:<path to a JSON script>, "
                             f"e.g. scripted:docs/status-day.json (got {raw[:60]!r})")
        return raw

    @field_validator("PUBLIC_URL")
    @classmethod
    def _check_public_url(cls, raw: str) -> str:
        return _check_http_url("PUBLIC_URL", raw, "https://flyo.example.com") if raw else raw

    @field_validator("TELEGRAM_API_URL", "STRIPE_API_URL", "SENDGRID_API_URL", "TWILIO_API_URL")
    @classmethod
    def _check_api_url(cls, raw: str, info: ValidationInfo) -> str:
        return _check_http_url(str(info.field_name), raw, "https://api.example.com")

    @model_validator(mode="after")
    def _check_twilio(self) -> Settings:
        parts = {"TWILIO_ACCOUNT_SID": self.TWILIO_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": _secret_value(
            self.TWILIO_AUTH_TOKEN), "TWILIO_FROM": self.TWILIO_FROM}
        if any(parts.values()) and not all(parts.values()):
            missing = ", ".join(name for name, value in parts.items() if not value)
            raise ValueError(f"Twilio SMS needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM together; "
                             f"missing: {missing}")
        if self.TWILIO_ACCOUNT_SID and not re.fullmatch(r"AC[0-9a-fA-F]{32}", self.TWILIO_ACCOUNT_SID):
            raise ValueError("TWILIO_ACCOUNT_SID is AC followed by 32 hex digits (Twilio Console → Account Info)")
        if self.TWILIO_FROM and not re.fullmatch(r"\+[1-9][0-9]{6,14}|MG[0-9a-fA-F]{32}", self.TWILIO_FROM):
            raise ValueError("TWILIO_FROM is a number in E.164 (+447700900123) or a Messaging Service SID (MG…)")
        return self

    @model_validator(mode="after")
    def _check_webhook(self) -> Settings:
        # Without the secret anyone who learns the URL could post forged updates as any user.
        if self.TELEGRAM_WEBHOOK_URL and not _secret_value(self.TELEGRAM_WEBHOOK_SECRET):
            raise ValueError("TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is empty; "
                             "webhook mode needs a secret (1-256 characters A-Z a-z 0-9 _ -)")
        if self.TELEGRAM_WEBHOOK_URL and not self.TELEGRAM_WEBHOOK_URL.startswith(("https://", "http://")):
            raise ValueError("TELEGRAM_WEBHOOK_URL must be a full URL such as "
                             "https://flyo.example.com/webhooks/telegram")
        secret = _secret_value(self.TELEGRAM_WEBHOOK_SECRET)
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET may only use 1-256 characters A-Z a-z 0-9 _ - "
                             "(Telegram's rule for secret_token)")
        return self

    @model_validator(mode="after")
    def _check_stripe_mode(self) -> Settings:
        key = _secret_value(self.STRIPE_SECRET_KEY)
        if key and not key.startswith(("sk_", "rk_")):
            raise ValueError("STRIPE_SECRET_KEY must be a secret (sk_test_…) or restricted (rk_test_…) key, "
                             "not a publishable key or another value")
        if key.startswith(("sk_live_", "rk_live_")) and not self.STRIPE_ALLOW_LIVE:
            raise ValueError(
                "STRIPE_SECRET_KEY is a live key; FlyO runs in Stripe test mode unless STRIPE_ALLOW_LIVE=1"
            )
        secrets = self.stripe_webhook_secrets
        if key and not secrets:
            # Without it every Stripe webhook is refused and no payment is ever confirmed.
            raise ValueError("STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is empty; set the signing "
                             "secret (whsec_…) of the endpoint POST /webhooks/stripe")
        if len(secrets) > MAX_WEBHOOK_SECRETS or any(not s.startswith("whsec_") for s in secrets):
            raise ValueError("STRIPE_WEBHOOK_SECRET must be a signing secret whsec_…, or two separated by a comma "
                             "while one is rotated (whsec_old,whsec_new)")
        return self

    @model_validator(mode="after")
    def _check_demo_payments(self) -> Settings:
        # From the environment DEMO_PAYMENTS is only harmless without a bot: on a real Bot API the demo
        # checkout would confirm bookings nobody paid for. The terminal chat turns it on itself (`for_console`).
        if self.DEMO_PAYMENTS and (self.bot_token or self.TELEGRAM_API_URL != DEFAULT_TELEGRAM_API_URL):
            raise ValueError("DEMO_PAYMENTS is only for the terminal chat (`python -m bot console` turns it on "
                             "itself); unset it when FlyO runs with TELEGRAM_BOT_TOKEN or TELEGRAM_API_URL")
        return self

    @model_validator(mode="after")
    def _check_email(self) -> Settings:
        if self.sendgrid_key and not self.EMAIL_FROM.strip():
            raise ValueError("SENDGRID_API_KEY is set but EMAIL_FROM is empty; SendGrid needs a verified sender "
                             "such as FlyO <tickets@example.com>")
        return self

    # ---- the terminal chat --------------------------------------------------------------------------
    def for_console(self, api_root: str, token: str, **update: object) -> Settings:
        """These settings on the terminal chat's own loopback Bot API, polling, with demo payments allowed.

        Not validated again (a real token of the user's may be kept in the environment); the marker is a
        private attribute, so no environment variable can claim to be the console.
        """
        if urlsplit(api_root).hostname not in LOOPBACK_HOSTS:
            raise ValueError(f"the console's Bot API must be on loopback, not {api_root}")
        console = self.model_copy(update={
            "TELEGRAM_BOT_TOKEN": SecretStr(token), "TELEGRAM_API_URL": api_root, "TELEGRAM_WEBHOOK_URL": "",
            "DEMO_PAYMENTS": True, **update,
        })
        console._console_bot_api = api_root
        return console

    @property
    def console_chat(self) -> bool:
        """The Bot API is the terminal chat's own stand-in on loopback (not Telegram)."""
        return bool(self._console_bot_api) and self._console_bot_api == self.TELEGRAM_API_URL

    @property
    def demo_payments(self) -> bool:
        """Labelled demo checkout: only in the terminal chat, and a real Stripe key always wins."""
        return self.DEMO_PAYMENTS and self.console_chat and not self.stripe_key

    # ---- derived values -------------------------------------------------------------------------
    @property
    def bot_token(self) -> str:
        return _secret_value(self.TELEGRAM_BOT_TOKEN)

    @property
    def public_url(self) -> str:
        """Where travellers and Stripe reach FlyO: PUBLIC_URL; else the Telegram webhook's origin (public, and the
        same on every replica — Stripe Checkout's return URLs are part of its idempotent request, so a replica
        finishing another's payment link must ask for the same ones); else this process's own address."""
        if self.PUBLIC_URL:
            return self.PUBLIC_URL.rstrip("/")
        if self.TELEGRAM_WEBHOOK_URL:
            webhook = urlsplit(self.TELEGRAM_WEBHOOK_URL)
            return f"{webhook.scheme}://{webhook.netloc}"
        return f"http://{self.HTTP_HOST}:{self.HTTP_PORT}"

    @property
    def mongodb_uri(self) -> str:
        return _secret_value(self.MONGODB_URI)

    @property
    def stripe_key(self) -> str:
        return _secret_value(self.STRIPE_SECRET_KEY)

    @property
    def stripe_webhook_secret(self) -> str:
        """As configured: one secret, or two separated by a comma while rotating."""
        return ",".join(self.stripe_webhook_secrets)

    @property
    def stripe_webhook_secrets(self) -> tuple[str, ...]:
        return tuple(s.strip() for s in _secret_value(self.STRIPE_WEBHOOK_SECRET).split(",") if s.strip())

    @property
    def sendgrid_key(self) -> str:
        return _secret_value(self.SENDGRID_API_KEY)

    @property
    def data_encryption_keys(self) -> str:
        return _secret_value(self.DATA_ENCRYPTION_KEYS)

    @property
    def sms_configured(self) -> bool:
        return bool(self.TWILIO_ACCOUNT_SID and self.twilio_token and self.TWILIO_FROM)

    @property
    def twilio_token(self) -> str:
        return _secret_value(self.TWILIO_AUTH_TOKEN)

    @property
    def amadeus_configured(self) -> bool:
        return bool(self.AMADEUS_CLIENT_ID and _secret_value(self.AMADEUS_CLIENT_SECRET))

    @property
    def webhook_mode(self) -> bool:
        return bool(self.TELEGRAM_WEBHOOK_URL)


def load_settings(**overrides: object) -> Settings:
    """Read the environment; turn pydantic's report into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        given = first.get("input")
        secret = name.endswith(("TOKEN", "KEY", "KEYS", "SECRET", "URI"))
        shown = "" if not name or secret or isinstance(given, dict) else f" (got {given!r})"
        message = str(first["msg"]).removeprefix("Value error, ")
        if not name:  # a rule across settings: the message names them
            raise ConfigError(f"Invalid configuration: {message}") from None
        raise ConfigError(f"Invalid setting {name}: {message}{shown}") from None
