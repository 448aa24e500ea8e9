"""Roots of partner apps: registering integrations, their scopes, secrets and revocation.

Business functions in resolvers/partners/apps.py (its docstring has the decisions), declared here
(schema.mutation_shape). Only an ADMIN may call the mutations (auth.policy_table MUTATION_ROLES);
`partnerApps` lists no app to anyone else.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from resolvers.partners import apps
from schema.context import Info
from schema.mutation_shape import CallArguments, given, mutation
from schema.partners.inputs import CreatePartnerAppInput, PartnerAppPayload, PartnerAppSecretPayload
from schema.partners.types import PartnerApp

ClientIdArgument = Annotated[str, strawberry.argument(description="The app's OAuth client_id (agp_...).")]


@strawberry.type
class PartnersQuery:
    @strawberry.field(description="Every registered partner app, revoked ones too, oldest first (ADMIN only).")
    async def partner_apps(self, info: Info) -> list[PartnerApp] | None:
        # PartnerApp maps the attributes of the resolver's RegisteredApp rows.
        registered: Any = await apps.list_partner_apps(info.context.db, info.context.principal)
        return registered


@strawberry.type
class PartnersMutation:
    @mutation(
        apps.create_partner_app,
        PartnerAppSecretPayload,
        ids={"client_ids": "Client"},
        description="Register a partner app with its scopes and, optionally, the clients it is limited to. "
        "The payload holds its secret, shown this once (ADMIN only).",
    )
    def create_partner_app(self, info: Info, input: CreatePartnerAppInput) -> CallArguments:
        return given(input)

    @mutation(
        apps.update_partner_app_scopes,
        PartnerAppPayload,
        description="Grant an app exactly these scopes. A change refuses the tokens it holds on their next use "
        "(ADMIN only).",
    )
    def update_partner_app_scopes(
        self,
        info: Info,
        client_id: ClientIdArgument,
        scopes: Annotated[list[str], strawberry.argument(description="Every scope the app is to hold, at least one.")],
    ) -> CallArguments:
        return dict(client_id=client_id, scopes=scopes)

    @mutation(
        apps.rotate_partner_app_secret,
        PartnerAppSecretPayload,
        description="Give an app a new secret, shown this once; the old one and the tokens issued with it stop "
        "working (ADMIN only).",
    )
    def rotate_partner_app_secret(self, info: Info, client_id: ClientIdArgument) -> CallArguments:
        return dict(client_id=client_id)

    @mutation(
        apps.revoke_partner_app,
        PartnerAppPayload,
        description="Revoke an app for good: it gets no new token and the tokens it holds are refused on their "
        "next use (ADMIN only).",
    )
    def revoke_partner_app(self, info: Info, client_id: ClientIdArgument) -> CallArguments:
        return dict(client_id=client_id)
