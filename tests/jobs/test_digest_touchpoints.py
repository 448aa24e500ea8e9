"""The weekly digest's "went quiet" is the touchpoint signal: an internal edit of a client (a feed entry
the edit wrote) does not keep it out of the digest; a REPLY from its portal user does."""

from __future__ import annotations

import datetime as dt

from models import Activity, ActivityKind, CommentKind, Interaction, InteractionKind, OutboxEmail, Role
from tests.jobs.test_selection import NOW, run
from tests.utils import rows


async def test_an_internal_edit_keeps_a_quiet_client_in_the_digest(db, factory):
    maria = await factory.user(Role.MANAGER, full_name="Maria")
    quiet = await factory.client("Quiet Co", account_manager_id=maria.id)
    chatty = await factory.client("Chatty Co", account_manager_id=maria.id)
    await factory.add(
        Interaction(
            client_id=quiet.id, kind=InteractionKind.CALL, summary="Call", occurred_at=NOW - dt.timedelta(days=45)
        ),
        # What editing the client's notes writes: a feed entry, yesterday. Not a touchpoint.
        Activity(
            client_id=quiet.id,
            kind=ActivityKind.CLIENT_UPDATED,
            summary="Client updated: internal notes",
            occurred_at=NOW - dt.timedelta(days=1),
        ),
    )
    portal_user = await factory.portal_user(chatty)
    task = await factory.task(await factory.project(chatty))
    await factory.comment(
        task, CommentKind.REPLY, "Looks good", author_id=portal_user.id, created_at=NOW - dt.timedelta(days=3)
    )

    assert (await run(db, "weekly_digest")).sent == 1
    [email] = await rows(db, OutboxEmail)
    quiet_section = email.body.split("Went quiet", 1)[1]
    called = (NOW - dt.timedelta(days=45)).date().isoformat()
    assert f"Quiet Co: last activity {called} (45 days ago)" in quiet_section
    assert "Chatty Co" not in email.body
