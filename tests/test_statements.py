"""Statement counts: a request issues as many SQL statements as its shape needs, not one per row."""
from __future__ import annotations

from models import CommentKind, Role
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


async def test_policy_checks_do_not_grow_with_rows(api, factory):
    email = await _agency(factory, 12)
    token = await api.login(email, PASSWORD)
    query = CLIENTS_LIST.replace("query($first: Int)", "query PolicyProbe($first: Int)")
    enforcement._cache.clear()
    before = enforcement.policy_checks
    await api.data(query, {"first": 3}, token)
    few = enforcement.policy_checks - before
    enforcement._cache.clear()
    before = enforcement.policy_checks
    await api.data(query, {"first": 12}, token)
    many = enforcement.policy_checks - before
    assert few == many > 0
    # And a second request with the same document is decided from the cache.
    before = enforcement.policy_checks
    await api.data(query, {"first": 12}, token)
    assert enforcement.policy_checks == before
