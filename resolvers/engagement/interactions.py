"""Logging an interaction with a client (a call, an e-mail, a meeting's notes)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.principal import Principal
from models import (
    ActivityKind,
    Client,
    Contact,
    Interaction,
    InteractionKind,
)
from resolvers.activity import record_activity
from resolvers.clients.contacts import locked_client
from resolvers.errors import NotFound
from resolvers.validation import not_in_future, required_text


async def log_interaction(
    session: AsyncSession,
    principal: Principal,
    *,
    client_id: int,
    kind: InteractionKind,
    summary: str,
    occurred_at: Any,
    contact_id: int | None,
) -> Interaction:
    text = required_text("summary", summary, 5000)
    when = not_in_future("occurredAt", occurred_at)
    client = await locked_client(session, principal, client_id)
    assert client.id is not None
    if contact_id is not None:
        contact = await session.scalar(
            sa.select(col(Contact.id)).where(col(Contact.id) == contact_id, col(Contact.client_id) == client.id)
        )
        if contact is None:
            raise NotFound("contact of this client", field="contactId")
    interaction = Interaction(
        client_id=client.id,
        kind=kind,
        summary=text,
        occurred_at=when,
        staff_id=principal.user_id,
        contact_id=contact_id,
    )
    session.add(interaction)
    await session.flush()
    # Only forward: a call logged late never makes the client look quieter than it is.
    await session.execute(
        sa.update(Client)
        .where(
            col(Client.id) == client.id,
            sa.or_(col(Client.last_interaction_at).is_(None), col(Client.last_interaction_at) < when),
        )
        .values(last_interaction_at=when)
        .execution_options(synchronize_session="fetch")
    )
    record_activity(
        session,
        principal,
        ActivityKind.INTERACTION_LOGGED,
        f"{kind.value.replace('_', '-').lower()} logged: {text}",
        client_id=client.id,
        subject_type="Interaction",
        subject_id=interaction.id,
    )
    return interaction
