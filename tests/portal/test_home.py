"""The portal's welcome page: the client's own open tasks, replies and open invoices only."""

from __future__ import annotations

import datetime as dt

from models import CommentKind, InvoiceStatus, Role, TaskStatus
from tests.factories import PASSWORD

HOME = """{ portalHome { client { name } canBookMeetings openTasks { title } recentReplies { body }
  openInvoices { number amountDue } } }"""


async def test_portal_home_shows_only_the_clients_own_open_work(api, factory):
    mine = await factory.client("Mine Ltd", portal_booking_enabled=True)
    project = await factory.project(mine)
    soon = await factory.task(project, title="Review copy", due_date=dt.date(2026, 12, 1))
    await factory.task(project, title="Later", due_date=dt.date(2027, 1, 1))
    await factory.task(project, title="Finished", status=TaskStatus.DONE)
    await factory.task(project, title="Internal prep", visible_to_client=False)
    await factory.comment(soon, CommentKind.REPLY, "Draft attached")
    await factory.comment(soon, CommentKind.NOTE, "Client is slow")
    await factory.invoice(mine, number=2001)
    await factory.invoice(mine, number=2002, status=InvoiceStatus.PAID)
    other = await factory.client("Other Co")
    other_task = await factory.task(await factory.project(other), title="Other work")
    await factory.comment(other_task, CommentKind.REPLY, "Other reply")
    await factory.invoice(other, number=2003)

    portal = await api.login((await factory.portal_user(mine)).email, PASSWORD)
    home = (await api.data(HOME, token=portal))["portalHome"]
    assert home == {
        "client": {"name": "Mine Ltd"},
        "canBookMeetings": True,
        "openTasks": [{"title": "Review copy"}, {"title": "Later"}],
        "recentReplies": [{"body": "Draft attached"}],
        "openInvoices": [{"number": 2001, "amountDue": "1000.00"}],
    }

    staff = await api.login((await factory.user(Role.MANAGER)).email, PASSWORD)
    assert (await api.data(HOME, token=staff))["portalHome"] is None
