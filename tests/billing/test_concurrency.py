"""Billing under concurrent requests: no time entry or expense is billed twice, invoice numbers
stay unique and sequential, and concurrent payments never overpay an invoice.

The request-level tests run on both stores (SQLite serialises writers with BEGIN IMMEDIATE;
PostgreSQL with the advisory lock, row locks and the conditional claim). The session-level
tests are PostgreSQL only: they hold one transaction open while another races it.
"""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import col

from auth.principal import Principal
from models import Expense, Invoice, InvoiceLine, Payment, Role, TimeEntry
from resolvers.billing import invoices
from resolvers.errors import InputError
from tests.billing.support import CREATE_INVOICE, RECORD_PAYMENT, SEND_INVOICE, agency, expense, login, time_entry
from tests.utils import gid

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="holds one PostgreSQL transaction open while another races it"
)


async def _billing_state(db) -> tuple[dict[int, int | None], Decimal, Decimal]:
    """Each time entry's line, what the TIME and EXPENSE lines bill, and what the billable rows are worth."""
    async with db() as session:
        claimed = dict((await session.execute(sa.select(col(TimeEntry.id), col(TimeEntry.invoice_line_id)))).all())
        billed = await session.scalar(
            sa.select(sa.func.sum(InvoiceLine.amount)).where(col(InvoiceLine.kind).in_(["TIME", "EXPENSE"]))
        )
        entries = (
            await session.execute(
                sa.select(col(TimeEntry.hours), col(TimeEntry.bill_rate)).where(col(TimeEntry.billable).is_(True))
            )
        ).all()
        expenses = await session.scalar(sa.select(sa.func.sum(Expense.amount)).where(col(Expense.billable).is_(True)))
    worth = sum((Decimal(str(h)) * r for h, r in entries), Decimal("0")) + Decimal(str(expenses or 0))
    return claimed, Decimal(str(billed or 0)).quantize(Decimal("0.01")), worth.quantize(Decimal("0.01"))


async def test_two_invoices_raised_at_once_never_bill_a_time_entry_twice(api, factory, db):
    a = await agency(factory)
    # Whole hours at whole rates: the billed total must equal the unbilled total to the cent.
    for days in range(1, 13):
        await time_entry(factory, a.member, a.project, str(1 + days % 3), days=days)
        await time_entry(factory, a.manager, a.project, "1.5", days=days)
    for i in range(4):
        await expense(factory, a.project, f"{10 + i}.25", days=i + 1)
    token = await login(api, a.manager)
    unbilled = (
        await api.data(
            "query($id: ID!) { client(id: $id) { unbilledAmount } }", {"id": gid("Client", a.client.id)}, token
        )
    )["client"]["unbilledAmount"]

    def raise_invoice(label: str):
        return api.data(
            CREATE_INVOICE,
            {
                "input": {
                    "clientId": gid("Client", a.client.id),
                    "includeUnbilled": True,
                    "lines": [{"description": label, "quantity": "1", "unitPrice": "5"}],
                }
            },
            token,
        )

    results = await asyncio.gather(*(raise_invoice(f"Request {i}") for i in range(4)))
    invoices = [r["createInvoice"]["invoice"] for r in results]
    assert all(r["createInvoice"]["errors"] == [] for r in results)
    assert sorted(i["number"] for i in invoices) == [1001, 1002, 1003, 1004]

    claimed, billed, worth = await _billing_state(db)
    lines_with_time = [i for i in invoices if any(line["kind"] != "FIXED" for line in i["lines"])]
    assert len(lines_with_time) == 1, "one request billed everything; the others found nothing left to pull in"
    assert all(line_id is not None for line_id in claimed.values())
    billed_ids = [t["id"] for i in invoices for line in i["lines"] for t in line["timeEntries"]]
    assert len(billed_ids) == len(set(billed_ids)) == len(claimed) == 24
    assert billed == worth == Decimal(unbilled)


async def test_concurrent_pulls_without_fixed_lines_bill_once_and_refuse_the_rest(api, factory, db):
    a = await agency(factory)
    for days in range(1, 6):
        await time_entry(factory, a.member, a.project, "2", days=days)
    token = await login(api, a.manager)
    value = {"input": {"clientId": gid("Client", a.client.id), "includeUnbilled": True}}
    results = await asyncio.gather(*(api.data(CREATE_INVOICE, value, token) for _ in range(3)))
    made = [r["createInvoice"]["invoice"] for r in results if r["createInvoice"]["invoice"]]
    refused = [r["createInvoice"]["errors"] for r in results if not r["createInvoice"]["invoice"]]
    assert len(made) == 1 and made[0]["total"] == "1200.00"
    assert (
        refused
        == [[{"field": "input.includeUnbilled", "code": "NOTHING_TO_BILL", "message": refused[0][0]["message"]}]] * 2
    )
    _, billed, worth = await _billing_state(db)
    assert billed == worth == Decimal("1200.00")
    async with db() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Invoice)) == 1


async def test_concurrent_payments_never_overpay_an_invoice(api, factory, db):
    a = await agency(factory)
    token = await login(api, a.manager)
    invoice = (
        await api.data(
            CREATE_INVOICE,
            {
                "input": {
                    "clientId": gid("Client", a.client.id),
                    "lines": [{"description": "Work", "quantity": "1", "unitPrice": "300"}],
                }
            },
            token,
        )
    )["createInvoice"]["invoice"]
    await api.data(SEND_INVOICE, {"id": invoice["id"]}, token)
    pay = {"input": {"invoiceId": invoice["id"], "amount": "200.00"}}
    results = await asyncio.gather(*(api.data(RECORD_PAYMENT, pay, token) for _ in range(3)))
    accepted = [r for r in results if r["recordPayment"]["payment"]]
    assert len(accepted) == 1
    assert sorted(e["code"] for r in results for e in r["recordPayment"]["errors"]) == ["OVERPAYMENT", "OVERPAYMENT"]
    async with db() as session:
        assert await session.scalar(sa.select(sa.func.sum(Payment.amount))) == Decimal("200.00")


# ---- the claim itself, raced transaction against transaction (PostgreSQL)


async def _waiting_on_a_lock(db) -> None:
    """Until some other backend is waiting for a lock (bounded: fail rather than hang)."""
    for _ in range(500):
        async with db() as probe:
            if await probe.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")):
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the second transaction never waited for the first")


@postgres_only
async def test_a_second_transaction_claims_nothing_the_first_already_claimed(factory, db):
    """Both read the same unbilled rows; the first claims and commits while the second waits on
    the row locks; the second's conditional UPDATE then finds them claimed and claims none."""
    a = await agency(factory)
    entries = [await time_entry(factory, a.member, a.project, "1", days=d) for d in (1, 2, 3)]
    spare = await factory.invoice(a.client)
    async with db() as session, session.begin():
        line_a = await session.scalar(sa.select(InvoiceLine.id).where(InvoiceLine.invoice_id == spare.id))
        line_b = (
            await session.execute(
                sa.insert(InvoiceLine)
                .values(
                    invoice_id=spare.id,
                    kind="FIXED",
                    description="B",
                    quantity=1,
                    unit_price=0,
                    amount=0,
                    tax_amount=0,
                )
                .returning(InvoiceLine.id)
            )
        ).scalar_one()

    first, second = db(), db()
    try:
        await first.begin()
        await second.begin()
        ids = [e.id for e in entries]
        # Both have read the rows as unbilled before either claims.
        for session in (first, second):
            unclaimed = (
                await session.scalars(
                    sa.select(TimeEntry.id).where(TimeEntry.id.in_(ids), TimeEntry.invoice_line_id.is_(None))
                )
            ).all()
            assert sorted(unclaimed) == sorted(ids)
        assert await invoices.claim(first, TimeEntry, dict.fromkeys(ids, line_a)) == 3
        racing = asyncio.ensure_future(invoices.claim(second, TimeEntry, dict.fromkeys(ids, line_b)))
        await _waiting_on_a_lock(db)
        await first.commit()
        assert await racing == 0
        await second.commit()
    finally:
        await first.close()
        await second.close()
    async with db() as session:
        lines = (await session.scalars(sa.select(TimeEntry.invoice_line_id).where(TimeEntry.id.in_(ids)))).all()
    assert lines == [line_a] * 3


@postgres_only
async def test_raising_an_invoice_waits_for_the_one_in_progress_then_bills_only_what_is_left(factory, db):
    """create_invoice itself, from two sessions: the second blocks on the numbering lock while the
    first holds its transaction open, then reads after the first commits and finds nothing unbilled."""
    a = await agency(factory)
    for d in (1, 2, 3):
        await time_entry(factory, a.member, a.project, "2", days=d)
    staff = Principal(user_id=a.manager.id, role=Role.MANAGER)
    first, second = db(), db()
    try:
        await first.begin()
        await second.begin()
        invoice = await invoices.create_invoice(first, staff, client_id=a.client.id, include_unbilled=True)
        racing = asyncio.ensure_future(
            invoices.create_invoice(second, staff, client_id=a.client.id, include_unbilled=True)
        )
        await _waiting_on_a_lock(db)
        await first.commit()
        with pytest.raises(InputError) as refused:
            await racing
        assert refused.value.code == "NOTHING_TO_BILL"
        await second.rollback()
    finally:
        await first.close()
        await second.close()
    async with db() as session:
        lines = set((await session.scalars(sa.select(TimeEntry.invoice_line_id))).all())
        on_invoice = set(
            (await session.scalars(sa.select(InvoiceLine.id).where(InvoiceLine.invoice_id == invoice.id))).all()
        )
        assert lines <= on_invoice and None not in lines
        assert await session.scalar(sa.select(sa.func.count()).select_from(Invoice)) == 1
