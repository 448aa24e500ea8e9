"""Loading the relationship around the work: opportunities, interactions and meetings, sign-ins
(with a manager's view-as preview), the notifications and e-mails they caused, and the
satisfaction survey's answers."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import col

from models import (
    ActivityKind,
    Client,
    Comment,
    CommentKind,
    Interaction,
    InteractionKind,
    InvoiceStatus,
    LoginEvent,
    Meeting,
    MeetingStatus,
    Notification,
    Opportunity,
    OutboxEmail,
    Role,
)
from models.base import money
from models.surveys import SatisfactionSurvey
from server.demo.data.engagement import INTERACTIONS, KICKOFFS, MEETINGS, OPPORTUNITIES, SURVEYS
from server.demo.data.people import MEMBER_LOGIN_DAYS, OFFICE_LOGIN_DAYS, PORTAL_LOGINS, USER_AGENTS
from server.demo.data.records import MeetingSpec
from server.demo.loader.state import DemoLoad, known


def _meeting_starts(load: DemoLoad, spec: MeetingSpec, client: Client) -> dt.datetime:
    if spec.day is None:  # on the client's first day
        return load.at(load.ago(known(client.became_client_on)), spec.hour)
    if spec.day > 0:
        return load.ahead(spec.day, spec.hour)
    return load.at(-spec.day, spec.hour)


async def add_opportunities(load: DemoLoad) -> None:
    opportunities = []
    for spec in OPPORTUNITIES:
        client = load.clients[spec.client]
        created = max(load.at(spec.created_ago, 12), client.created_at)
        opportunities.append(
            (
                spec.client,
                Opportunity(
                    client_id=known(client.id),
                    title=spec.title,
                    kind=spec.kind,
                    stage=spec.stage,
                    value=money(spec.value),
                    expected_close_on=load.day(spec.close_in),
                    owner_id=load.staff[spec.owner].id,
                    created_at=created,
                    updated_at=max(created, load.at(min(spec.created_ago, 2), 12)),
                ),
            )
        )
    load.session.add_all(o for _, o in opportunities)
    await load.session.flush()
    for key, opp in opportunities:
        load.log(
            ActivityKind.OPPORTUNITY_CHANGED,
            load.clients[key],
            opp.updated_at,
            f"Opportunity {opp.title}: {opp.stage.value.lower()}",
            actor=load.staff_by_id(opp.owner_id),
            subject=opp,
        )


async def add_interactions_and_meetings(load: DemoLoad) -> None:
    interactions = []
    for spec in INTERACTIONS:
        client = load.clients[spec.client]
        interactions.append(
            Interaction(
                client_id=known(client.id),
                kind=spec.kind,
                summary=spec.summary,
                occurred_at=load.at(spec.days_ago, spec.hour),
                staff_id=load.staff[spec.staff].id,
                contact_id=load.contacts[spec.client][spec.contact].id,
                created_at=load.at(spec.days_ago, spec.hour, 40),
            )
        )
    # The new clients' kickoff meetings happened on their first day.
    for key, summary in KICKOFFS:
        client = load.clients[key]
        when = load.at(load.ago(known(client.became_client_on)), 11)
        interactions.append(
            Interaction(
                client_id=known(client.id),
                kind=InteractionKind.MEETING,
                summary=summary,
                occurred_at=when,
                staff_id=client.account_manager_id,
                contact_id=load.contacts[key][0].id,
                created_at=when,
            )
        )
    load.session.add_all(interactions)
    await load.session.flush()
    for interaction in interactions:
        client = load.client_by_id(interaction.client_id)
        if client.last_interaction_at is None or interaction.occurred_at > client.last_interaction_at:
            client.last_interaction_at = interaction.occurred_at
        load.log(
            ActivityKind.INTERACTION_LOGGED,
            client,
            interaction.created_at,
            f"{interaction.kind.value.replace('_', '-').lower()} logged: {interaction.summary}",
            actor=load.staff_by_id(interaction.staff_id),
            subject=interaction,
        )

    meetings = []
    for meeting_spec in MEETINGS:
        client = load.clients[meeting_spec.client]
        starts = _meeting_starts(load, meeting_spec, client)
        meetings.append(
            (
                meeting_spec.client,
                Meeting(
                    client_id=known(client.id),
                    title=meeting_spec.title,
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(minutes=45),
                    status=meeting_spec.status,
                    location=meeting_spec.location,
                    agenda=meeting_spec.agenda,
                    requested_by_id=load.user(meeting_spec.requested_by).id,
                    staff_id=load.staff[meeting_spec.staff].id,
                    created_at=max(
                        client.created_at,
                        min(starts - dt.timedelta(days=5), load.now)
                        if meeting_spec.status is not MeetingStatus.REQUESTED
                        else load.at(1, 9),
                    ),
                ),
            )
        )
    load.session.add_all(m for _, m in meetings)
    await load.session.flush()
    for key, meeting in meetings:
        by_portal = meeting.requested_by_id == getattr(load.portal.get(key), "id", None)
        load.log(
            ActivityKind.MEETING_BOOKED,
            load.clients[key],
            meeting.created_at,
            f"Meeting booked: {meeting.title}",
            actor=load.user(key) if by_portal else load.staff_by_id(meeting.requested_by_id),
            subject=meeting,
            visible=True,
        )
        if meeting.status in (MeetingStatus.COMPLETED, MeetingStatus.CANCELLED, MeetingStatus.CONFIRMED):
            when = min(meeting.ends_at, load.now) if meeting.status is MeetingStatus.COMPLETED else meeting.created_at
            load.log(
                ActivityKind.MEETING_UPDATED,
                load.clients[key],
                max(when, meeting.created_at),
                f"Meeting {meeting.status.value.lower()}: {meeting.title}",
                actor=load.staff_by_id(meeting.staff_id),
                subject=meeting,
                visible=True,
            )
    load.meetings = meetings


async def add_logins_notifications_and_outbox(load: DemoLoad) -> None:
    events = []
    for key, (network, first_host, days) in PORTAL_LOGINS.items():
        user = load.portal[key]
        for i, days_ago in enumerate(days):
            events.append(
                LoginEvent(
                    user_id=known(user.id),
                    client_id=user.client_id,
                    occurred_at=load.at(days_ago, 8 + i % 9, 12),
                    ip_address=f"{network}.{first_host + i}",
                    user_agent=USER_AGENTS[i % 2],
                )
            )
    for i, staff in enumerate(load.staff.values()):
        for days_ago in MEMBER_LOGIN_DAYS if staff.role is Role.MEMBER else OFFICE_LOGIN_DAYS:
            events.append(
                LoginEvent(
                    user_id=known(staff.id),
                    occurred_at=load.at(days_ago, 8, 5 + i),
                    ip_address=f"192.0.2.{10 + i}",
                    user_agent=USER_AGENTS[0],
                )
            )
    load.session.add_all(events)
    last_login: dict[int, dt.datetime] = {}
    for event in events:
        last_login[event.user_id] = max(last_login.get(event.user_id, event.occurred_at), event.occurred_at)
    for user in [*load.staff.values(), *load.portal.values()]:
        user.last_login_at = last_login.get(known(user.id))
    for key, user in load.portal.items():
        load.log(
            ActivityKind.PORTAL_LOGIN,
            load.clients[key],
            last_login[known(user.id)],
            f"{user.full_name} signed in to the portal",
            actor=user,
            subject=user,
        )
    # A manager previewed Northwind's portal before the beta review.
    maria, olivia, northwind = load.staff["maria"], load.portal["northwind"], load.clients["northwind"]
    load.log(
        ActivityKind.VIEW_AS_ISSUED,
        northwind,
        load.at(15, 9),
        f"View as {olivia.full_name} issued",
        actor=maria,
        subject=olivia,
    )
    load.log(
        ActivityKind.VIEW_AS_USED,
        northwind,
        load.at(15, 9, 2),
        f"Portal viewed as {olivia.full_name}",
        actor=maria,
        on_behalf_of=olivia,
        subject=olivia,
    )

    latest_sent = {spec.client: inv for spec, inv in load.invoices if inv.status is InvoiceStatus.SENT}
    overdue = [inv for _, inv in load.invoices if inv.status is InvoiceStatus.SENT and inv.due_date < load.today]
    requested = [m for _, m in load.meetings if m.status is MeetingStatus.REQUESTED]
    olivia_reply = (
        await load.session.scalars(
            sa.select(Comment)
            .where(col(Comment.author_id) == olivia.id)
            .order_by(col(Comment.created_at).desc())
            .limit(1)
        )
    ).one()
    ben = load.portal["bluebird"]
    sam_reply = (
        await load.session.scalars(
            sa.select(Comment)
            .where(col(Comment.author_id) == load.staff["sam"].id, col(Comment.kind) == CommentKind.REPLY)
            .order_by(col(Comment.created_at).desc())
            .limit(1)
        )
    ).one()
    load_test = next(
        task for _, _, tasks in load.projects for t, task in tasks if t.title == "Load-test the ledger before launch"
    )
    notifications = [
        Notification(
            user_id=known(maria.id),
            kind="COMMENT_REPLY",
            subject_type="Comment",
            subject_id=olivia_reply.id,
            message=f"{olivia.full_name} replied on Review beta tester feedback",
            created_at=olivia_reply.created_at,
        ),
        Notification(
            user_id=known(olivia.id),
            kind="INVOICE_SENT",
            subject_type="Invoice",
            subject_id=latest_sent["northwind"].id,
            message=f"Invoice #{latest_sent['northwind'].number} is ready in your portal",
            created_at=known(latest_sent["northwind"].sent_at),
            read_at=load.at(8, 9),
        ),
        Notification(
            user_id=known(ben.id),
            kind="COMMENT_REPLY",
            subject_type="Comment",
            subject_id=sam_reply.id,
            message=f"{load.staff['sam'].full_name} replied on {sam_reply.body[:60]}",
            created_at=sam_reply.created_at,
        ),
        Notification(
            user_id=known(load.staff["dev"].id),
            kind="TASK_ASSIGNED",
            subject_type="Task",
            subject_id=load_test.id,
            message=f"You were assigned {load_test.title}",
            created_at=load.at(6, 10),
            read_at=load.at(6, 11),
        ),
    ]
    for inv in overdue:
        client = load.client_by_id(inv.client_id)
        notifications.append(
            Notification(
                user_id=known(client.account_manager_id),
                kind="INVOICE_OVERDUE",
                subject_type="Invoice",
                subject_id=inv.id,
                message=f"Invoice #{inv.number} for {client.name} is overdue",
                created_at=load.at(load.ago(inv.due_date) - 1, 7),
            )
        )
    for meeting in requested:
        notifications.append(
            Notification(
                user_id=known(meeting.staff_id),
                kind="MEETING_REQUESTED",
                subject_type="Meeting",
                subject_id=meeting.id,
                message=f"Meeting requested from the portal: {meeting.title}",
                created_at=meeting.created_at,
            )
        )
    load.session.add_all(notifications)

    outbox = []
    for user in load.portal.values():
        outbox.append(
            OutboxEmail(
                to_email=user.email,
                subject="You're invited to the Agency OS client portal",
                body=f"Hi {user.full_name.split()[0]},\n\nYour account manager has invited you to the client "
                "portal, where you can follow your projects, reply on tasks and see your invoices.\n",
                sent_at=user.created_at + dt.timedelta(minutes=1),
                attempts=1,
                created_at=user.created_at,
            )
        )
    for key, inv in latest_sent.items():
        contact = load.contacts[key][0]
        outbox.append(
            OutboxEmail(
                to_email=known(contact.email),
                subject=f"Invoice #{inv.number} from the agency",
                body=f"Hi {contact.full_name.split()[0]},\n\nInvoice #{inv.number} is due on "
                f"{inv.due_date.isoformat()}.\n",
                sent_at=known(inv.sent_at) + dt.timedelta(minutes=1),
                attempts=1,
                created_at=known(inv.sent_at),
            )
        )
    for meeting in requested:
        staff = load.staff_member(meeting.staff_id)
        outbox.append(
            OutboxEmail(
                to_email=staff.email,
                subject=f"Meeting requested: {meeting.title}",
                body=f"A client requested a meeting on {meeting.starts_at:%Y-%m-%d %H:%M} UTC.\n",
                sent_at=None,
                attempts=0,
                created_at=meeting.created_at,
            )
        )
    load.session.add_all(outbox)
    await load.session.flush()


async def add_satisfaction_surveys(load: DemoLoad) -> None:
    """Answers to "How likely are you to recommend us?" after milestones."""
    load.session.add_all(
        SatisfactionSurvey(
            client_id=known(load.clients[spec.client].id),
            contact_id=load.contacts[spec.client][spec.contact].id,
            score=spec.score,
            comment=spec.comment,
            responded_at=max(load.at(spec.days_ago, 16), load.clients[spec.client].created_at),
        )
        for spec in SURVEYS
    )
    await load.session.flush()
