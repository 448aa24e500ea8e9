"""Statement counts: a request issues as many SQL statements as its shape needs, not one per row."""

from __future__ import annotations

import sqlalchemy as sa

from models import CommentKind, Role
from models.db import make_session_factory, read_engine
from resolvers.db import RequestDb
from schema import enforcement
from tests.factories import PASSWORD

CLIENTS_LIST = """
query($first: Int) {
  clients(first: $first) {
    totalCount
    edges { node {
      id name logoUrl
      status { name category }
      primaryContact { fullName email }
      accountManager { fullName }
      activeProjectCount outstandingAmount accountValue lastInteractionAt lastProjectOn
      projects { name status tasks { title status assignee { fullName } comments { kind body author { fullName } } } }
      invoices { number total amountDue payments { amount } }
    } }
  }
}
"""


async def _agency(factory, clients: int) -> str:
    manager = await factory.user(Role.MANAGER)
    for i in range(clients):
        client = await factory.client(f"Client {i:03}", account_manager_id=manager.id)
        await factory.contact(client, primary=True)
        project = await factory.project(client)
        task = await factory.task(project, assignee_id=manager.id)
        await factory.comment(task, CommentKind.REPLY, "ok", author_id=manager.id)
        invoice = await factory.invoice(client)
        await factory.payment(invoice, "10.00")
    return manager.email


async def _count(api, statements, token, first) -> tuple[int, dict]:
    await api.data("{ me { id } }", token=token)  # warm: the first request of a process parses and plans
    statements.reset()
    data = await api.data(CLIENTS_LIST, {"first": first}, token)
    return statements.count, data


async def test_clients_list_statement_count_does_not_grow_with_rows(api, factory, statements):
    email = await _agency(factory, 10)
    token = await api.login(email, PASSWORD)
    small, data = await _count(api, statements, token, 10)
    assert len(data["clients"]["edges"]) == 10

    await _agency(factory, 30)
    token = await api.login(email, PASSWORD)
    large, data = await _count(api, statements, token, 40)
    assert len(data["clients"]["edges"]) == 40
    assert small == large, f"{small} statements for 10 clients, {large} for 40"
    assert small <= 25


NESTED = """query PolicyProbe { clients { edges { node { name internalNotes
  projects { name budget tasks { title estimateHours assignee { fullName email }
    comments { kind body author { fullName email } } } } } } } }"""


async def _nested_tasks(factory, tasks: int) -> str:
    from models import Comment, Task

    manager = await factory.user(Role.MANAGER)
    client = await factory.client("Acme")
    project = await factory.project(client)
    rows = [Task(project_id=project.id, title=f"Task {i}", assignee_id=manager.id) for i in range(tasks)]
    await factory.add(*rows)
    await factory.add(
        *[
            Comment(project_id=project.id, task_id=t.id, kind=CommentKind.REPLY, body="ok", author_id=manager.id)
            for t in rows
        ]
    )
    return (await factory.portal_user(client)).email


async def _checks_for(api, token) -> tuple[int, dict]:
    enforcement.decisions.clear()
    before = enforcement.decisions.policy_checks
    body = await api.post(NESTED, token=token)
    return enforcement.decisions.policy_checks - before, body


async def test_policy_checks_do_not_grow_with_rows(api, factory, db):
    """A 200-row nested list, read by a portal user, is judged field by field once, not per row."""
    token = await api.login(await _nested_tasks(factory, 1), PASSWORD)
    one, small = await _checks_for(api, token)
    from tests.conftest import empty_database

    await empty_database(db.kw["bind"])
    token = await api.login(await _nested_tasks(factory, 200), PASSWORD)
    many, large = await _checks_for(api, token)
    tasks = large["data"]["clients"]["edges"][0]["node"]["projects"][0]["tasks"]
    assert len(tasks) == 200 and all(t["assignee"]["email"] is None for t in tasks)
    # One error per refused coordinate, however many rows carried it.
    assert sorted(e["extensions"]["field"] for e in large["errors"]) == sorted(
        e["extensions"]["field"] for e in small["errors"]
    )
    # Client.internalNotes, Task.estimateHours and User.email (for assignee and author alike: one coordinate).
    assert len(large["errors"]) == 3
    assert one == many > 0
    query = NESTED
    # And a second request with the same document is decided from the cache.
    before = enforcement.decisions.policy_checks
    await api.post(query, token=token)
    assert enforcement.decisions.policy_checks == before


async def test_a_request_that_only_reads_runs_each_statement_on_its_own_on_postgresql(engine, db):
    """On PostgreSQL a request's reads run in autocommit (models.db.read_engine): no BEGIN and
    no ROLLBACK round trips, each statement its own transaction, as READ COMMITTED reads are
    anyway. On SQLite the request's reads stay one transaction: one snapshot of the WAL file."""
    handle = RequestDb(make_session_factory(engine))
    try:
        if engine.dialect.name == "postgresql":
            first = await handle.scalar(sa.text("SELECT txid_current()"))
            second = await handle.scalar(sa.text("SELECT txid_current()"))
            assert second > first
        else:
            await handle.scalar(sa.text("SELECT 1"))
            session = await handle._read_session()
            assert session.in_transaction()
            assert read_engine(engine) is engine
        async with handle.transaction() as session:  # a write is still one transaction
            first = await session.scalar(
                sa.text("SELECT txid_current()" if engine.dialect.name == "postgresql" else "SELECT 1")
            )
            assert (
                await session.scalar(
                    sa.text("SELECT txid_current()" if engine.dialect.name == "postgresql" else "SELECT 1")
                )
                == first
            )
    finally:
        await handle.close()
