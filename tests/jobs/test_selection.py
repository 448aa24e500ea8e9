"""Each job's selection on hand-made data: who gets what, at which step, once; the expected
recipients and digest contents are worked out here from the rows the test wrote."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from models import (
    ContactRole,
    ContactRoleAssignment,
    Interaction,
    InteractionKind,
    InvoiceStatus,
    JobRun,
    JobSent,
    Opportunity,
    OpportunityStage,
    OutboxEmail,
    Project,
    ProjectHealth,
    ProjectStatus,
    Role,
    User,
)
from models.clients import STATUS_CHURNED
from resolvers.jobs import JobConfig, run_jobs
from resolvers.jobs.reminders import reminder_step
from tests.utils import rows

NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
CONFIG = JobConfig(reminder_days=(1, 7, 14), portal_url="https://portal.example/graphql", agency_name="Test Agency")


async def outbox(db) -> list[tuple[str, str]]:
    return sorted((email.to_email, email.subject) for email in await rows(db, OutboxEmail))


async def run(db, job: str, now: dt.datetime = NOW):
    [result] = await run_jobs(db, CONFIG, now=now, only=[job])
    assert result.status == "DONE", result
    return result


def test_the_step_is_the_latest_one_reached():
    due = dt.date(2026, 11, 1)
    assert reminder_step(due, dt.date(2026, 11, 1), (1, 7, 14)) is None
    assert reminder_step(due, dt.date(2026, 11, 2), (1, 7, 14)) == 1
    assert reminder_step(due, dt.date(2026, 11, 7), (1, 7, 14)) == 1
    assert reminder_step(due, dt.date(2026, 11, 8), (1, 7, 14)) == 7
    assert reminder_step(due, dt.date(2027, 1, 1), (1, 7, 14)) == 14


async def test_reminders_go_to_the_billing_contact_once_per_step_until_paid(db, factory):
    billed = await factory.client("Billed")
    primary = await factory.contact(billed, primary=True, email="boss@billed.example")
    accounts = await factory.contact(billed, email="accounts@billed.example")
    await factory.add(ContactRoleAssignment(contact_id=accounts.id, role=ContactRole.BILLING))
    fallback = await factory.client("Fallback")
    await factory.contact(fallback, primary=True, email="owner@fallback.example")
    nobody = await factory.client("Nobody")
    await factory.contact(nobody, primary=True, email=None)

    one_day = await factory.invoice(billed, number=1, due_date=dt.date(2026, 11, 14))  # 1 day late
    await factory.invoice(billed, number=2, due_date=dt.date(2026, 11, 8))  # 7 days
    await factory.invoice(fallback, number=3, due_date=dt.date(2026, 10, 1))  # 45 days: step 14 only
    await factory.invoice(fallback, number=4, due_date=dt.date(2026, 11, 15))  # due today: not yet
    paid = await factory.invoice(billed, number=5, due_date=dt.date(2026, 11, 1))
    await factory.payment(paid, "1000.00")  # 10 x 100.00, paid in full
    part = await factory.invoice(fallback, number=6, due_date=dt.date(2026, 11, 1))
    await factory.payment(part, "400.00")
    await factory.invoice(billed, number=7, due_date=dt.date(2026, 10, 1), status=InvoiceStatus.VOID)
    await factory.invoice(billed, number=8, due_date=dt.date(2026, 10, 1), status=InvoiceStatus.DRAFT)
    await factory.invoice(nobody, number=9, due_date=dt.date(2026, 10, 1))

    result = await run(db, "invoice_reminders")
    assert (result.sent, result.no_recipient) == (4, 1)
    assert await outbox(db) == sorted(
        [
            ("accounts@billed.example", "Reminder: invoice 1 is overdue"),
            ("accounts@billed.example", "Reminder: invoice 2 is overdue"),
            ("owner@fallback.example", "Reminder: invoice 3 is overdue"),
            ("owner@fallback.example", "Reminder: invoice 6 is overdue"),
        ]
    )
    assert primary.email not in {to for to, _ in await outbox(db)}
    sent = {row.key for row in await rows(db, JobSent)}
    ids = {inv.number: inv.id for inv in [one_day, paid, part]}
    assert f"invoice:{ids[1]}:day:1" in sent and f"invoice:{ids[6]}:day:14" in sent
    [partial] = [e for e in await rows(db, OutboxEmail) if e.subject.endswith("invoice 6 is overdue")]
    assert "600.00 USD of it is still outstanding" in partial.body

    # Again the same day: nothing new.
    assert (await run(db, "invoice_reminders")).sent == 0
    # Six days on, invoice 1 reaches day 7 and invoice 4 day 1 (invoice 2 stays at day 7 until 14).
    assert (await run(db, "invoice_reminders", NOW + dt.timedelta(days=6))).sent == 2
    assert len(await rows(db, OutboxEmail, OutboxEmail.subject == "Reminder: invoice 1 is overdue")) == 2
    # Invoice 1 is paid in full: its day-14 step never goes out; invoice 2's day 14 and 4's day 7 do.
    await factory.payment(one_day, "1000.00")
    assert (await run(db, "invoice_reminders", NOW + dt.timedelta(days=13))).sent == 2
    assert len(await rows(db, OutboxEmail, OutboxEmail.subject == "Reminder: invoice 4 is overdue")) == 2
    assert len(await rows(db, OutboxEmail, OutboxEmail.subject == "Reminder: invoice 1 is overdue")) == 2
    assert len(await rows(db, OutboxEmail, OutboxEmail.subject == "Reminder: invoice 2 is overdue")) == 2
    # Invoice 9's client gets an address: its reminder goes out now.
    async with db() as session, session.begin():
        await session.execute(
            sa.text("UPDATE contact SET email = 'ap@nobody.example' WHERE client_id = :c"), {"c": nobody.id}
        )
    result = await run(db, "invoice_reminders", NOW + dt.timedelta(days=13))
    assert (result.sent, result.no_recipient) == (1, 0)
    assert ("ap@nobody.example", "Reminder: invoice 9 is overdue") in await outbox(db)


async def test_a_completed_project_asks_its_clients_portal_users_once(db, factory):
    client = await factory.client("Surveyed")
    asked = await factory.portal_user(client, full_name="Olivia Portal")
    await factory.portal_user(client, is_active=False)
    done = await factory.project(
        client, name="Website", status=ProjectStatus.COMPLETED, completed_at=NOW - dt.timedelta(days=2)
    )
    await factory.project(
        client, name="Old site", status=ProjectStatus.COMPLETED, completed_at=NOW - dt.timedelta(days=60)
    )
    await factory.project(client, name="Running", status=ProjectStatus.ACTIVE, updated_at=NOW - dt.timedelta(days=1))
    # Completed long ago, edited yesterday (its health, say): not newly completed, not asked.
    await factory.project(
        client,
        name="Edited",
        status=ProjectStatus.COMPLETED,
        completed_at=NOW - dt.timedelta(days=90),
        updated_at=NOW - dt.timedelta(days=1),
    )
    no_portal = await factory.client("No portal")
    await factory.project(
        no_portal, name="Brochure", status=ProjectStatus.COMPLETED, completed_at=NOW - dt.timedelta(days=1)
    )
    churned = await factory.client("Gone", status_id=STATUS_CHURNED)
    await factory.portal_user(churned)
    await factory.project(
        churned, name="Last one", status=ProjectStatus.COMPLETED, completed_at=NOW - dt.timedelta(days=1)
    )

    result = await run(db, "survey_requests")
    assert (result.sent, result.no_recipient) == (1, 1)
    [email] = await rows(db, OutboxEmail)
    assert (email.to_email, email.subject) == (asked.email, "How did we do on Website?")
    assert "https://portal.example/graphql" in email.body and "from 0 to 10" in email.body
    assert [row.key for row in await rows(db, JobSent)] == [f"project:{done.id}:user:{asked.id}"]
    assert (await run(db, "survey_requests")).sent == 0
    # Reopened and completed again: not asked twice.
    async with db() as session, session.begin():
        await session.execute(sa.update(Project).where(Project.id == done.id).values(completed_at=NOW, updated_at=NOW))
    assert (await run(db, "survey_requests", NOW + dt.timedelta(days=1))).sent == 0


async def test_a_portal_user_answers_the_survey_in_the_portal(api, db, factory):
    from tests.utils import portal

    client = await factory.client("Answers")
    user, token = await portal(api, factory, client)
    await factory.project(client, status=ProjectStatus.COMPLETED, completed_at=NOW - dt.timedelta(days=1))
    assert (await run(db, "survey_requests")).sent == 1
    data = await api.data(
        "mutation($input: RecordSatisfactionScoreInput!) { recordSatisfactionScore(input: $input) {"
        " errors { code } } }",
        {"input": {"score": 9, "comment": "Great work"}},
        token,
    )
    assert data["recordSatisfactionScore"]["errors"] == []
    async with db() as session:
        answer = (await session.execute(sa.text("SELECT client_id, contact_id, score FROM satisfaction_survey"))).one()
    assert tuple(answer) == (client.id, user.contact_id, 9)


def _sections(body: str) -> dict[str, set[str]]:
    """The client names under each section of a digest."""
    found: dict[str, set[str]] = {}
    current = None
    for line in body.splitlines():
        if line.endswith(":") and not line.startswith("-"):
            current = line.split(" (")[0].rstrip(":")
            found[current] = set()
        elif line.startswith("- ") and current is not None:
            found[current].add(line[2:].split(":")[0])
    return found


async def test_the_weekly_digest_names_each_managers_flagged_clients(db, factory):
    maria = await factory.user(Role.MANAGER, full_name="Maria")
    sam = await factory.user(Role.MANAGER, full_name="Sam")
    calm = await factory.user(Role.MANAGER, full_name="Calm")
    churn_only = await factory.user(Role.MANAGER, full_name="Churn only")
    gone = await factory.user(Role.MANAGER, full_name="Gone", is_active=False)

    async def touched(client, days_ago: int = 2):
        await factory.add(
            Interaction(
                client_id=client.id,
                kind=InteractionKind.CALL,
                summary="Call",
                occurred_at=NOW - dt.timedelta(days=days_ago),
            )
        )

    risky = await factory.client("Risky", account_manager_id=maria.id)
    await touched(risky)
    await factory.project(risky, health=ProjectHealth.OFF_TRACK)
    await factory.client("Silent", account_manager_id=maria.id)  # nothing ever: quiet
    late = await factory.client("Late payer", account_manager_id=sam.id)
    await touched(late)
    await factory.project(late)
    await factory.invoice(late, due_date=dt.date(2026, 11, 1))
    upsell = await factory.client("Upsell", account_manager_id=sam.id)
    await touched(upsell)
    await factory.project(upsell, status=ProjectStatus.COMPLETED)
    await factory.add(Opportunity(client_id=upsell.id, title="Phase 2", stage=OpportunityStage.PROPOSED, value=5000))
    fine = await factory.client("Fine", account_manager_id=calm.id)
    await touched(fine)
    await factory.project(fine)
    dev = await factory.user(Role.MEMBER, full_name="Dev")  # a MEMBER may manage accounts, and reads no money
    dev_client = await factory.client("Dev's", account_manager_id=dev.id)
    await touched(dev_client)
    await factory.project(dev_client, health=ProjectHealth.AT_RISK)
    await factory.invoice(dev_client, due_date=dt.date(2026, 11, 1))
    await factory.client("Ex", account_manager_id=churn_only.id, status_id=STATUS_CHURNED)
    await factory.client("Orphan")  # quiet, but no account manager: in no digest
    await factory.client("Left behind", account_manager_id=gone.id)

    result = await run(db, "weekly_digest")
    assert result.sent == 4
    emails = {email.to_email: email for email in await rows(db, OutboxEmail)}
    assert set(emails) == {maria.email, sam.email, calm.email, dev.email}
    # The MEMBER's digest: its client at risk, not its overdue invoice, and no amount anywhere.
    dev_body = emails.pop(dev.email).body
    assert _sections(dev_body) == {"Your clients in week 2026-W46, as of 2026-11-15": set(), "At risk": {"Dev's"}}
    assert "USD" not in dev_body and "invoice" not in dev_body
    assert emails[maria.email].subject == "Your clients this week (2026-W46)"
    assert _sections(emails[maria.email].body) == {
        "Your clients in week 2026-W46, as of 2026-11-15": set(),
        "At risk": {"Risky"},
        "Went quiet": {"Silent"},
    }
    assert _sections(emails[sam.email].body) == {
        "Your clients in week 2026-W46, as of 2026-11-15": set(),
        "Overdue invoices": {"Late payer"},
        "Ready for upsell": {"Upsell"},
    }
    assert "1000.00 USD on 1 invoice(s), the oldest due 2026-11-01 (14 days)" in emails[sam.email].body
    assert "1 open opportunity worth 5000.00 USD; 1 completed project(s) and nothing active" in emails[sam.email].body
    assert "Nothing needs your attention" in emails[calm.email].body
    for email in emails.values():
        assert "Orphan" not in email.body and "Left behind" not in email.body

    # Once a week: the same week sends nothing, the next Monday sends again.
    assert (await run(db, "weekly_digest", NOW + dt.timedelta(hours=11))).sent == 0
    assert (await run(db, "weekly_digest", dt.datetime(2026, 11, 16, 0, 1, tzinfo=dt.UTC))).sent == 4
    keys = sorted(row.key for row in await rows(db, JobSent))
    managers = (maria, sam, calm, dev)
    assert keys == sorted(f"manager:{m.id}:week:{w}" for m in managers for w in ("2026-W46", "2026-W47"))


async def test_a_portal_user_quiet_for_30_days_is_reported_once_per_spell(db, factory):
    maria = await factory.user(Role.MANAGER)
    client = await factory.client("Quiet portal", account_manager_id=maria.id)
    away = await factory.portal_user(client, full_name="Away", last_login_at=NOW - dt.timedelta(days=40))
    await factory.portal_user(client, full_name="Recent", last_login_at=NOW - dt.timedelta(days=10))
    never = await factory.portal_user(client, full_name="Never", created_at=NOW - dt.timedelta(days=31))
    await factory.portal_user(client, full_name="New", created_at=NOW - dt.timedelta(days=3))
    await factory.portal_user(client, full_name="Revoked", is_active=False, last_login_at=NOW - dt.timedelta(days=90))
    unmanaged = await factory.client("Unmanaged")
    await factory.portal_user(unmanaged, last_login_at=NOW - dt.timedelta(days=90))
    await factory.user(Role.MEMBER, last_login_at=NOW - dt.timedelta(days=90))  # staff: not a portal user

    result = await run(db, "portal_login_alerts")
    assert (result.sent, result.no_recipient) == (2, 1)
    assert await outbox(db) == sorted(
        [
            (maria.email, "Away (Quiet portal) has not used the portal for 40 days"),
            (maria.email, "Never (Quiet portal) has not used the portal for 31 days"),
        ]
    )
    [never_mail] = [e for e in await rows(db, OutboxEmail) if e.subject.startswith("Never")]
    assert "has never signed in" in never_mail.body
    assert (await run(db, "portal_login_alerts", NOW + dt.timedelta(days=5))).sent == 0
    # Away signs in, then goes quiet again: a new spell, a new alert.
    async with db() as session, session.begin():
        await session.execute(
            sa.update(User).where(User.id == away.id).values(last_login_at=NOW + dt.timedelta(days=1))
        )
    # Day 20: Recent's 30 days are up (Away's new spell is 19 days old).
    assert (await run(db, "portal_login_alerts", NOW + dt.timedelta(days=20))).sent == 1
    # Day 31: Away again (30 days since it signed in) and New (34 days since it was made).
    assert (await run(db, "portal_login_alerts", NOW + dt.timedelta(days=31))).sent == 2
    subjects = [e.subject for e in await rows(db, OutboxEmail)]
    assert subjects[2:] == [
        "Recent (Quiet portal) has not used the portal for 30 days",
        "Away (Quiet portal) has not used the portal for 30 days",
        "New (Quiet portal) has not used the portal for 34 days",
    ]
    assert len([k for k in (r.key for r in await rows(db, JobSent)) if k.startswith(f"user:{away.id}:")]) == 2
    runs = await rows(db, JobRun)
    assert [r.status for r in runs] == ["DONE"] * 4 and [r.sent for r in runs] == [2, 0, 1, 2]
    # Never is still in its first spell: alerted once.
    assert len([k for k in (r.key for r in await rows(db, JobSent)) if k.startswith(f"user:{never.id}:")]) == 1
