"""Settings, read from the environment: the only place that reads environment variables."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from pathlib import Path
from typing import Annotated

from limits import parse as parse_limit
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from auth.throttle import LOGIN_PER_ACCOUNT, LOGIN_PER_ADDRESS
from schema.limits import DEFAULT_MAX_COST

log = logging.getLogger("agency")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(default="sqlite+aiosqlite:///agency.db", alias="DATABASE_URL")
    secret_key: str | None = Field(
        default=None, alias="AGENCY_SECRET_KEY", description="HS256 signing key, 32+ characters"
    )
    token_issuer: str = Field(default="agency-os", alias="AGENCY_TOKEN_ISSUER")
    token_audience: str = Field(default="agency-os-api", alias="AGENCY_TOKEN_AUDIENCE")
    access_token_minutes: int = Field(default=15, alias="AGENCY_ACCESS_TOKEN_MINUTES", gt=0)
    refresh_token_days: int = Field(default=30, alias="AGENCY_REFRESH_TOKEN_DAYS", gt=0)
    view_as_minutes: int = Field(default=15, alias="AGENCY_VIEW_AS_MINUTES", gt=0)
    partner_token_minutes: int = Field(
        default=10,
        alias="AGENCY_PARTNER_TOKEN_MINUTES",
        gt=0,
        le=60,
        description="how long a partner app's access token (POST /oauth/token) lives; at most an hour",
    )
    currency: str = Field(default="USD", alias="AGENCY_CURRENCY")
    agency_name: str = Field(
        default="Agency OS", alias="AGENCY_NAME", description="the agency's name, as invoice PDFs print it"
    )
    portal_accept_url: str | None = Field(
        default=None,
        alias="AGENCY_PORTAL_ACCEPT_URL",
        description="where the portal's set-your-password page lives; invitation e-mails link to it. Unset:"
        " the page this server serves, at the address `agency serve` listens on (http://HOST:PORT/portal/accept)",
    )
    debug: bool = Field(default=False, alias="AGENCY_DEBUG")
    outbox_interval_seconds: float = Field(
        default=5.0,
        alias="AGENCY_OUTBOX_INTERVAL",
        ge=0,
        description="how often the server drains the e-mail outbox; 0: never",
    )
    webhook_interval_seconds: float = Field(
        default=5.0,
        alias="AGENCY_WEBHOOK_INTERVAL",
        ge=0,
        description="how often the server fans the change log out to webhook endpoints and delivers what is due;"
        " 0: never",
    )
    jobs_interval_seconds: float = Field(
        default=900.0,
        alias="AGENCY_JOBS_INTERVAL",
        ge=0,
        description="how often the server runs the scheduled jobs (reminders, surveys, digests, portal alerts);"
        " 0: never (run them with `agency run-jobs`)",
    )
    reminder_days: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(1, 7, 14),
        alias="AGENCY_REMINDER_DAYS",
        description="comma-separated days after an invoice's due date on which its billing contact is reminded",
    )
    portal_url: str | None = Field(
        default=None,
        alias="AGENCY_PORTAL_URL",
        description="the client portal's address, which survey requests link to; unset: /graphql on the"
        " server AGENCY_PORTAL_ACCEPT_URL points at",
    )
    webhook_retry_schedule: Annotated[tuple[float, ...], NoDecode] = Field(
        default=(10, 60, 300, 1800, 7200, 21600),
        alias="AGENCY_WEBHOOK_RETRY_SCHEDULE",
        description="comma-separated seconds to wait after each failed webhook attempt; after the last, it is FAILED",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, alias="AGENCY_WEBHOOK_TIMEOUT", gt=0, le=60, description="how long one webhook attempt may take"
    )
    webhook_allow_insecure: bool = Field(
        default=False,
        alias="AGENCY_WEBHOOK_ALLOW_INSECURE",
        description="allow http:// and private, loopback and link-local webhook receivers (development and tests only)",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        alias="AGENCY_MAX_BODY_BYTES",
        gt=0,
        description="largest request body accepted; a larger one is refused with 413 before it is read",
    )
    files_dir: Path | None = Field(
        default=None,
        alias="AGENCY_FILES_DIR",
        description="folder for uploaded files (made on first use); default: files/ by the SQLite file, or ./files",
    )
    max_upload_bytes: int = Field(
        default=25 * 1024 * 1024,
        alias="AGENCY_MAX_UPLOAD_BYTES",
        gt=0,
        description="largest file one upload may carry; a multipart body may be this much over AGENCY_MAX_BODY_BYTES",
    )
    max_query_cost: int = Field(
        default=DEFAULT_MAX_COST,
        alias="AGENCY_MAX_QUERY_COST",
        gt=0,
        description="the most fields one operation may ask for (pages times nested lists); more is QUERY_TOO_COMPLEX",
    )
    sign_in_limit_per_account: str = Field(
        default=LOGIN_PER_ACCOUNT,
        alias="AGENCY_SIGN_IN_LIMIT_PER_ACCOUNT",
        description="failed sign-ins one account (e-mail) may have in a sliding window before login is refused"
        ' with TOO_MANY_ATTEMPTS, in the `limits` notation: "10 per 15 minutes", "5/hour"',
    )
    sign_in_limit_per_address: str = Field(
        default=LOGIN_PER_ADDRESS,
        alias="AGENCY_SIGN_IN_LIMIT_PER_ADDRESS",
        description="failed sign-ins one client address (an IPv6 address by its /64) may have in a sliding window,"
        ' whatever the accounts, before login is refused with TOO_MANY_ATTEMPTS: "50 per 15 minutes"',
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        alias="AGENCY_CORS_ORIGINS",
        description="comma-separated origins web front ends call from (https://app.example.com); empty: no CORS",
    )

    compiled_reads: bool = Field(
        default=True,
        alias="AGENCY_COMPILED_READS",
        description="answer query root fields the compiler can express with one SQL statement building the JSON;"
        " 0: always the resolvers",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(float(part) for part in value.split(",") if part.strip())
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _not_negative(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(seconds < 0 for seconds in value) or len(value) > 20:
            raise ValueError("at most 20 waits, none negative")
        return value

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _days(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(part) for part in value.split(",") if part.strip())
        return value

    @field_validator("reminder_days")
    @classmethod
    def _reminder_steps(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or len(value) > 20 or any(not 0 <= days <= 3650 for days in value) or len(set(value)) < len(value):
            raise ValueError("1 to 20 different days, each from 0 to 3650")
        return tuple(sorted(value))

    @field_validator("sign_in_limit_per_account", "sign_in_limit_per_address")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            item = parse_limit(value)
        except ValueError:
            raise ValueError('a limit such as "10 per 15 minutes"') from None
        if item.amount < 1:
            raise ValueError("at least 1 attempt")
        return value

    @property
    def access_ttl(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.access_token_minutes)

    @property
    def partner_token_ttl(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.partner_token_minutes)

    @property
    def view_as_ttl(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.view_as_minutes)

    @property
    def refresh_ttl(self) -> dt.timedelta:
        return dt.timedelta(days=self.refresh_token_days)

    @property
    def files_path(self) -> Path:
        """AGENCY_FILES_DIR, or files/ beside the SQLite database file, or ./files."""
        if self.files_dir is not None:
            return self.files_dir
        prefix, _, path = self.database_url.partition(":///")
        if prefix.startswith("sqlite") and path and not path.startswith(":memory:"):
            return Path(path).parent / "files"
        return Path("files")

    def signing_key(self) -> str:
        """The configured key, or (with a warning) a random one that lasts as long as the process."""
        if self.secret_key:
            return self.secret_key
        log.warning("AGENCY_SECRET_KEY is not set: using a random key; tokens will not survive a restart")
        self.secret_key = secrets.token_urlsafe(48)
        return self.secret_key
