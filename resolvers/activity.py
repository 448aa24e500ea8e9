"""Writing the activity feed and audit trail, notifications and outbound e-mail.

Every mutation records what it did here, in its own transaction: the entry exists
exactly when the change does.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from auth.principal import Principal
from models import Activity, ActivityKind, Notification, OutboxEmail


def record_activity(
    session: AsyncSession,
    principal: Principal,
    kind: ActivityKind,
    summary: str,
    *,
    client_id: int | None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    client_visible: bool = False,
) -> Activity:
    """Add one feed entry. `client_visible` entries reach the client's portal; the rest are internal.

    The actor is always the person who really acted: behind a view-as token that is the
    manager (the token's `act`), and the portal user viewed as is `on_behalf_of`.
    """
    entry = Activity(
        client_id=client_id,
        actor_id=principal.actor_id or principal.user_id,
        on_behalf_of_id=principal.user_id if principal.actor_id else None,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        summary=summary[:500],
        client_visible=client_visible,
    )
    session.add(entry)
    return entry


def notify(
    session: AsyncSession,
    user_ids: Iterable[int],
    kind: str,
    message: str,
    *,
    subject_type: str | None = None,
    subject_id: int | None = None,
) -> list[Notification]:
    rows = [
        Notification(
            user_id=user_id, kind=kind, message=message[:500], subject_type=subject_type, subject_id=subject_id
        )
        for user_id in dict.fromkeys(user_ids)
    ]
    session.add_all(rows)
    return rows


def queue_email(session: AsyncSession, to_email: str, subject: str, body: str) -> OutboxEmail:
    """Queue an e-mail in the outbox; a sender drains it (the log sender by default)."""
    email = OutboxEmail(to_email=to_email, subject=subject[:300], body=body)
    session.add(email)
    return email
