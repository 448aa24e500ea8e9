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

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth.principal import Principal
from models import (
    ActivityKind,
    Meeting,
    MeetingStatus,
    Role,
    User,
)
from models.base import utcnow
from resolvers.activity import notify, queue_email, record_activity
from resolvers.clients.contacts import locked_client
from resolvers.errors import InputError, NotFound, Refused
from resolvers.lookup import staff_user_id, visible_row
from resolvers.validation import aware, optional_text, required_text

MEETING_TRANSITIONS: dict[MeetingStatus, frozenset[MeetingStatus]] = {
    MeetingStatus.REQUESTED: frozenset({MeetingStatus.CONFIRMED, MeetingStatus.CANCELLED}),
    MeetingStatus.CONFIRMED: frozenset({MeetingStatus.COMPLETED, MeetingStatus.CANCELLED}),
    MeetingStatus.COMPLETED: frozenset(),
    MeetingStatus.CANCELLED: frozenset(),
}


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
        staff_id = await staff_user_id(session, data.get("staff_id") or principal.user_id, "input.staffId")
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
        values["staff_id"] = await staff_user_id(session, changes["staff_id"], "input.staffId")
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
