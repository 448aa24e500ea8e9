"""A contact's consent to marketing e-mail: given (with when and where) or withdrawn.

Giving consent records the server's clock (never a time the caller sends: the record must say when
the agency learned it) and its source (required: where it was given, a sign-up form, a call, an
event; at most SOURCE_MAX_LENGTH characters, no NUL). Giving it again records the new time and
source (a renewed consent). Withdrawing clears both: the consent is false, and a source is refused
(SOURCE_WITHOUT_CONSENT) rather than silently dropped, since there is nowhere to keep it. Every
change is an internal entry in the client's activity feed, which keeps the history the row does not.

Staff set it on any contact they may edit (the mutation table: ADMIN, MANAGER, MEMBER, like every
other contact edit); a contact the caller may not see answers NOT_FOUND, like a missing one.
Only contacts with consent are in the marketing export (server/exports.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth.principal import Principal
from models import ActivityKind, Contact
from models.base import utcnow
from resolvers.activity import record_activity
from resolvers.errors import InputError
from resolvers.lookup import visible_row
from resolvers.validation import optional_text, required_text

# The column's length (models.clients.Contact.marketing_consent_source).
SOURCE_MAX_LENGTH = 200


def consent_values(consent: bool, source: str | None, source_field: str, now: dt.datetime) -> dict[str, Any]:
    """The consent columns for a consent given (at `now`, from `source`) or withdrawn."""
    if source is not None and "\x00" in source:
        raise InputError(source_field, "NUL_CHARACTER", "The source may not contain a NUL character.")
    if not consent:
        if optional_text(source_field, source, SOURCE_MAX_LENGTH) is not None:
            raise InputError(
                source_field,
                "SOURCE_WITHOUT_CONSENT",
                "A source is recorded with a consent given; withdrawing clears it.",
            )
        return {"marketing_consent": False, "marketing_consent_at": None, "marketing_consent_source": None}
    return {
        "marketing_consent": True,
        "marketing_consent_at": now,
        "marketing_consent_source": required_text(source_field, source, SOURCE_MAX_LENGTH),
    }


async def set_marketing_consent(
    session: AsyncSession, principal: Principal, *, contact_id: int, consent: bool, source: str | None
) -> Contact:
    """Record a contact's consent to marketing e-mail, or its withdrawal."""
    values = consent_values(consent, source, "input.source", utcnow())
    contact = await visible_row(
        session, principal, Contact, contact_id, what="contact", field="input.contactId", lock=True
    )
    for key, value in values.items():
        setattr(contact, key, value)
    summary = (
        f"Contact {contact.full_name} consented to marketing e-mail ({values['marketing_consent_source']})"
        if consent
        else f"Contact {contact.full_name} withdrew consent to marketing e-mail"
    )
    record_activity(
        session,
        principal,
        ActivityKind.CLIENT_UPDATED,
        summary,
        client_id=contact.client_id,
        subject_type="Contact",
        subject_id=contact.id,
    )
    await session.flush()
    return contact
