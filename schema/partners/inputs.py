"""The input and payloads of managing partner apps."""

from __future__ import annotations

import strawberry
from strawberry import relay

from schema.mutation_shape import payload
from schema.partners.types import PartnerApp


@strawberry.input(description="A partner app to register.")
class CreatePartnerAppInput:
    name: str = strawberry.field(description="What the app is, for the agency (at most 200 characters).")
    scopes: list[str] = strawberry.field(
        description="The scopes to grant (at least one), e.g. clients:read, invoices:read; the README's "
        "Partners section lists them and what each opens."
    )
    client_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Limit the app to these clients; omitted or empty: not limited."
    )


@payload
class PartnerAppSecretPayload:
    app: PartnerApp | None = None
    client_secret: str | None = strawberry.field(
        default=None,
        description="The app's secret, shown this once: store it now. The agency keeps only its hash.",
    )


@payload
class PartnerAppPayload:
    app: PartnerApp | None = None
