"""Partner apps: integrations that call the API with OAuth 2 client credentials (RFC 6749 4.4)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class PartnerApp(SQLModel, table=True):
    """A registered integration: its public OAuth client id, the scopes it was granted and its
    secret (an Argon2 hash; the secret itself is shown once, when it is made).

    `oauth_client_id` is the OAuth `client_id` (`agp_...`), named so it is never taken for the
    agency's Client ids that `PartnerAppClient` limits the app to. `generation` goes up whenever
    what a token of the app may do changes (scopes changed, secret rotated, app revoked): a token
    carries the generation it was issued under and is refused once it is no longer current."""

    __tablename__ = "partner_app"

    id: int | None = Field(default=None, primary_key=True)
    oauth_client_id: str = Field(sa_type=sa.String(64), unique=True)
    name: str = Field(sa_type=sa.String(200))
    scopes: str = Field(sa_type=sa.String(1000))  # space-separated and sorted, as OAuth writes scopes
    secret_hash: str = Field(sa_type=sa.String(255))
    generation: int = Field(default=1)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # None: registered at the console (`agency partner create`).
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class PartnerAppClient(SQLModel, table=True):
    """One client a partner app is limited to. An app with no rows here is not limited."""

    __tablename__ = "partner_app_client"

    partner_app_id: int = Field(foreign_key="partner_app.id", primary_key=True)
    client_id: int = Field(foreign_key="client.id", primary_key=True, index=True)
