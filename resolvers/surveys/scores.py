"""Recording a client's satisfaction score (the NPS question, 0..10) for the Clients Dashboard.

Decisions the brief left open (also in the README):
- Staff record a score a client gave them (on a call, in a review): they name the client,
  and optionally the contact who answered. A portal user answers for itself: its own client
  (a `clientId` may be omitted or must be its own; another client's is NOT_FOUND, as for any
  row it cannot see) and its own contact, set from its user record; naming another contact
  is NOT_ALLOWED.
- A score is a whole number from 0 to 10; a comment is optional, at most 2,000 characters;
  `respondedAt` defaults to now, needs a time zone and may not be in the future (the usual
  five minutes of clock leeway, as for logged interactions).
- The answer is the agency's reading of the relationship: rows are staff only
  (auth.scopes.satisfaction_survey_scope). The portal user who just answered gets its own
  answer back in the mutation's payload, and nothing else ever. The feed entry is internal
  and never carries the score, so no summary text can reveal it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import contact_scope, user_scope
from models import ActivityKind, Client, Contact, User
from models.base import utcnow
from models.surveys import SatisfactionSurvey
from resolvers.activity import record_activity
from resolvers.errors import InputError, NotFound
from resolvers.lookup import visible_row
from resolvers.validation import not_in_future, optional_text

MIN_SCORE, MAX_SCORE = 0, 10


MAX_COMMENT = 2000


async def record_satisfaction_score(
    session: AsyncSession,
    principal: Principal,
    *,
    client_id: int | None,
    contact_id: int | None,
    score: int,
    comment: str | None,
    responded_at: dt.datetime | None,
) -> SatisfactionSurvey:
    """One answer to "How likely are you to recommend us?", checked whole before it is written."""
    if score is None or not MIN_SCORE <= score <= MAX_SCORE:
        raise InputError("input.score", "OUT_OF_RANGE", f"A score is a whole number from {MIN_SCORE} to {MAX_SCORE}.")
    text = optional_text("input.comment", comment, MAX_COMMENT)
    when = utcnow() if responded_at is None else not_in_future("input.respondedAt", responded_at)

    if principal.is_client:
        client_id = principal.client_id if client_id is None else client_id
    elif client_id is None:
        raise InputError("input.clientId", "REQUIRED", "Say which client gave the score.")
    client = await visible_row(session, principal, Client, client_id, what="client", field="input.clientId")
    assert client.id is not None

    contact = None
    if contact_id is not None:
        contact = await session.scalar(
            sa.select(Contact).where(
                col(Contact.id) == contact_id, col(Contact.client_id) == client.id, contact_scope(principal)
            )
        )
        if contact is None:
            raise NotFound("contact of this client", field="input.contactId")
    if principal.is_client:
        own_contact_id = await session.scalar(
            sa.select(col(User.contact_id)).where(col(User.id) == principal.user_id, user_scope(principal))
        )
        contact_id = own_contact_id  # input.contactId is staff only (auth.policy ARGUMENT_RULES)

    survey = SatisfactionSurvey(
        client_id=client.id,
        contact_id=contact_id,
        score=score,
        comment=text,
        responded_at=when,
    )
    session.add(survey)
    await session.flush()
    record_activity(
        session,
        principal,
        ActivityKind.SATISFACTION_RECORDED,
        "Satisfaction survey answered in the portal" if principal.is_client else "Satisfaction score recorded",
        client_id=client.id,
        subject_type="SatisfactionScore",
        subject_id=survey.id,
        client_visible=False,
    )
    return survey
