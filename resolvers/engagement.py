"""The relationship around the work: meetings, logged interactions, opportunities.

Decisions the guide leaves open (also in the README):
- A portal user books for its own client only, where the client has booking enabled
  (else BOOKING_DISABLED); the meeting starts REQUESTED, with the account manager as its
  staff member, who is notified. Staff book for any client and the meeting starts
  CONFIRMED. Either way it starts in the future and ends after it starts.
- Meeting status: REQUESTED -> CONFIRMED | CANCELLED, CONFIRMED -> COMPLETED | CANCELLED;
  COMPLETED and CANCELLED are final, and a meeting is completed only once it has started.
  Confirming or cancelling a portal user's request notifies that user.
- An interaction happened already (not in the future); it moves the client's last
  interaction date only forward (a conditional UPDATE), so logging an old call later never
  makes a client look quieter than it is.
- Opportunities move freely between the open stages (IDENTIFIED, QUALIFIED, PROPOSED);
  WON and LOST close them for good. Their value is zero or more.
"""

from __future__ import annotations

from decimal import Decimal
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
    Meeting,
    MeetingStatus,
    Opportunity,
    OpportunityKind,
    OpportunityStage,
    Role,
    User,
)
from models.base import utcnow
from resolvers.activity import notify, queue_email, record_activity
from resolvers.contacts import locked_client
from resolvers.errors import InputError, NotFound, Refused
from resolvers.lookup import visible_row
from resolvers.validation import amount, aware, not_in_future, optional_text, required_text, staff_member

MEETING_TRANSITIONS: dict[MeetingStatus, frozenset[MeetingStatus]] = {
    MeetingStatus.REQUESTED: frozenset({MeetingStatus.CONFIRMED, MeetingStatus.CANCELLED}),
    MeetingStatus.CONFIRMED: frozenset({MeetingStatus.COMPLETED, MeetingStatus.CANCELLED}),
    MeetingStatus.COMPLETED: frozenset(),
    MeetingStatus.CANCELLED: frozenset(),
}
CLOSED_STAGES = frozenset({OpportunityStage.WON, OpportunityStage.LOST})


async def _staff_id(session: AsyncSession, user_id: int | None, field: str) -> int | None:
    if user_id is None:
        return None
    return staff_member(field, await session.get(User, user_id)).id


# ---- meetings


async def book_meeting(
    session: AsyncSession, principal: Principal, *, client_id: int | None, data: dict[str, Any]
) -> Meeting:
    title = required_text("input.title", data.get("title"), 300)
    starts_at = aware("input.startsAt", data["starts_at"])
    ends_at = aware("input.endsAt", data["ends_at"])
    if ends_at <= starts_at:
        raise InputError("input.endsAt", "END_BEFORE_START", "A meeting ends after it starts.")
    if starts_at <= utcnow():
        raise InputError("input.startsAt", "IN_PAST", "A meeting is booked for a time still to come.")
    location = optional_text("input.location", data.get("location"), 300)
    agenda = optional_text("input.agenda", data.get("agenda"), 10000)
    if principal.is_client:  # input.staffId is staff only (auth.policy ARGUMENT_RULES)
        client_id = client_id if client_id is not None else principal.client_id
    elif client_id is None:
        raise InputError("input.clientId", "REQUIRED", "Say which client the meeting is with.")
    if client_id is None:  # a CLIENT principal with no client: its scope names no row either
        raise NotFound("client", field="input.clientId")
    client = await locked_client(session, principal, client_id, field="input.clientId")
    assert client.id is not None
    if principal.is_client:
        if not client.portal_booking_enabled:
            raise Refused("Booking meetings from the portal is not enabled for your account.", code="BOOKING_DISABLED")
        staff_id, status = client.account_manager_id, MeetingStatus.REQUESTED
    else:
        staff_id = await _staff_id(session, data.get("staff_id") or principal.user_id, "input.staffId")
        status = MeetingStatus.CONFIRMED
    meeting = Meeting(
        client_id=client.id,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        status=status,
        location=location,
        agenda=agenda,
        requested_by_id=principal.user_id,
        staff_id=staff_id,
    )
    session.add(meeting)
    await session.flush()
    record_activity(
        session,
        principal,
        ActivityKind.MEETING_BOOKED,
        f"Meeting booked: {meeting.title}",
        client_id=client.id,
        subject_type="Meeting",
        subject_id=meeting.id,
        client_visible=True,
    )
    if principal.is_client and staff_id is not None:
        staff = await session.get(User, staff_id)
        if staff is not None and staff.is_active:
            assert staff.id is not None
            when = starts_at.strftime("%Y-%m-%d %H:%M UTC")
            notify(
                session,
                [staff.id],
                "MEETING_REQUESTED",
                f"{client.name} asked for a meeting: {title} ({when})",
                subject_type="Meeting",
                subject_id=meeting.id,
            )
            queue_email(
                session,
                staff.email,
                f"Meeting request from {client.name}",
                f"{client.name} asked for a meeting: {title}, {when}.\n\n{agenda or ''}\n",
            )
    return meeting


async def update_meeting(
    session: AsyncSession, principal: Principal, *, meeting_id: int, changes: dict[str, Any]
) -> Meeting:
    """Confirm, cancel, complete or reschedule (staff)."""
    if not changes:
        raise InputError("input", "NOTHING_TO_UPDATE", "Give at least one field to change.")
    meeting = await visible_row(
        session, principal, Meeting, meeting_id, what="meeting", field="input.meetingId", lock=True
    )
    values: dict[str, Any] = {}
    if "title" in changes:
        values["title"] = required_text("input.title", changes["title"], 300)
    if "location" in changes:
        values["location"] = optional_text("input.location", changes["location"], 300)
    if "agenda" in changes:
        values["agenda"] = optional_text("input.agenda", changes["agenda"], 10000)
    for key, label in (("starts_at", "startsAt"), ("ends_at", "endsAt"), ("status", "status")):
        if key in changes:
            if changes[key] is None:
                raise InputError(f"input.{label}", "REQUIRED", f"{label} cannot be empty.")
            values[key] = aware(f"input.{label}", changes[key]) if key != "status" else changes[key]
    if "staff_id" in changes:
        values["staff_id"] = await _staff_id(session, changes["staff_id"], "input.staffId")
    if meeting.status in (MeetingStatus.COMPLETED, MeetingStatus.CANCELLED):
        raise InputError(
            "input.meetingId", "MEETING_CLOSED", f"The meeting is {meeting.status.value.lower()}; that is final."
        )
    starts, ends = values.get("starts_at", meeting.starts_at), values.get("ends_at", meeting.ends_at)
    if ends <= starts:
        raise InputError("input.endsAt", "END_BEFORE_START", "A meeting ends after it starts.")
    status = values.get("status")
    if status is not None and status is not meeting.status:
        if status not in MEETING_TRANSITIONS[meeting.status]:
            raise InputError(
                "input.status",
                "INVALID_TRANSITION",
                f"A meeting cannot move from {meeting.status.value} to {status.value}.",
            )
        if status is MeetingStatus.COMPLETED and starts > utcnow():
            raise InputError("input.status", "NOT_STARTED", "A meeting is completed only once it has started.")
    before = meeting.status
    for key, value in values.items():
        setattr(meeting, key, value)
    await session.flush()
    record_activity(
        session,
        principal,
        ActivityKind.MEETING_UPDATED,
        f"Meeting {meeting.status.value.lower()}: {meeting.title}"
        if meeting.status is not before
        else f"Meeting updated: {meeting.title}",
        client_id=meeting.client_id,
        subject_type="Meeting",
        subject_id=meeting.id,
        client_visible=True,
    )
    if meeting.status is not before and meeting.status in (MeetingStatus.CONFIRMED, MeetingStatus.CANCELLED):
        requester = await session.get(User, meeting.requested_by_id) if meeting.requested_by_id else None
        if requester is not None and requester.role is Role.CLIENT and requester.is_active:
            assert requester.id is not None
            word = meeting.status.value.lower()
            notify(
                session,
                [requester.id],
                f"MEETING_{meeting.status.value}",
                f"Your meeting {meeting.title} was {word}",
                subject_type="Meeting",
                subject_id=meeting.id,
            )
            queue_email(
                session,
                requester.email,
                f"Meeting {word}: {meeting.title}",
                f"Your meeting {meeting.title} on {meeting.starts_at:%Y-%m-%d %H:%M} UTC was {word}.\n",
            )
    return meeting


# ---- interactions


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


# ---- opportunities


async def create_opportunity(
    session: AsyncSession, principal: Principal, *, client_id: int, data: dict[str, Any]
) -> Opportunity:
    title = required_text("input.title", data.get("title"), 300)
    value = amount("input.value", data.get("value"))
    owner_id = await _staff_id(session, data.get("owner_id") or principal.user_id, "input.ownerId")
    client = await locked_client(session, principal, client_id)
    assert client.id is not None
    opportunity = Opportunity(
        client_id=client.id,
        title=title,
        kind=data.get("kind") or OpportunityKind.UPSELL,
        stage=data.get("stage") or OpportunityStage.IDENTIFIED,
        value=value if value is not None else Decimal(0),
        expected_close_on=data.get("expected_close_on"),
        owner_id=owner_id,
    )
    session.add(opportunity)
    await session.flush()
    record_activity(
        session,
        principal,
        ActivityKind.OPPORTUNITY_CHANGED,
        f"Opportunity {opportunity.title}: {opportunity.stage.value.lower()}",
        client_id=client.id,
        subject_type="Opportunity",
        subject_id=opportunity.id,
    )
    return opportunity


async def update_opportunity(
    session: AsyncSession, principal: Principal, *, opportunity_id: int, changes: dict[str, Any]
) -> Opportunity:
    if not changes:
        raise InputError("input", "NOTHING_TO_UPDATE", "Give at least one field to change.")
    values: dict[str, Any] = {}
    if "title" in changes:
        values["title"] = required_text("input.title", changes["title"], 300)
    for key, label in (("kind", "kind"), ("stage", "stage"), ("value", "value")):
        if key in changes and changes[key] is None:
            raise InputError(f"input.{label}", "REQUIRED", f"{label} cannot be empty.")
    if "value" in changes:
        values["value"] = amount("input.value", changes["value"])
    for key in ("kind", "stage", "expected_close_on"):
        if key in changes:
            values[key] = changes[key]
    if "owner_id" in changes:
        values["owner_id"] = await _staff_id(session, changes["owner_id"], "input.ownerId")
    opportunity = await visible_row(
        session, principal, Opportunity, opportunity_id, what="opportunity", field="input.opportunityId", lock=True
    )
    if opportunity.stage in CLOSED_STAGES:
        raise InputError(
            "input.opportunityId",
            "OPPORTUNITY_CLOSED",
            f"The opportunity is {opportunity.stage.value}; a closed opportunity is final.",
        )
    for key, value in values.items():
        setattr(opportunity, key, value)
    opportunity.updated_at = utcnow()
    record_activity(
        session,
        principal,
        ActivityKind.OPPORTUNITY_CHANGED,
        f"Opportunity {opportunity.title}: {opportunity.stage.value.lower()}",
        client_id=opportunity.client_id,
        subject_type="Opportunity",
        subject_id=opportunity.id,
    )
    await session.flush()
    return opportunity
