"""Invoices ("Create Payment"): raising, pulling in unbilled work, sending, payments, voiding;
exact sums, who sees what, and bad input that writes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import (
    Activity,
    ActivityKind,
    Expense,
    Invoice,
    InvoiceLine,
    Notification,
    OutboxEmail,
    Payment,
    Role,
    TimeEntry,
)
from resolvers.billing import invoices
from tests.billing.support import (
    CREATE_INVOICE,
    RECORD_PAYMENT,
    SEND_INVOICE,
    VOID_INVOICE,
    agency,
    count,
    counts,
    days_ago,
    expense,
    login,
    time_entry,
)
from tests.utils import gid, raw_id

TODAY = dt.datetime.now(dt.UTC).date()


def _fixed(client, *lines, **kw) -> dict:
    value = {
        "clientId": gid("Client", client.id),
        "lines": [{"description": d, "quantity": q, "unitPrice": p, "taxRate": t} for d, q, p, t in lines],
    }
    value.update(kw)
    return value


async def _create(api, token, value) -> dict:
    data = await api.data(CREATE_INVOICE, {"input": value}, token)
    assert data["createInvoice"]["errors"] == [], data["createInvoice"]["errors"]
    return data["createInvoice"]["invoice"]


async def _pay(api, token, invoice_id, amount, **kw) -> dict:
    return (await api.data(RECORD_PAYMENT, {"input": {"invoiceId": invoice_id, "amount": amount, **kw}}, token))[
        "recordPayment"
    ]


async def test_creating_an_invoice_with_fixed_lines_numbers_it_and_sums_exactly(api, factory, db):
    a = await agency(factory)
    token = await login(api, a.manager)
    first = await _create(
        api,
        token,
        _fixed(
            a.client,
            ("Discovery workshop", "1", "1200.00", "0.2"),
            ("Design hours", "3.5", "99.99", "0.2"),
            ("Hosting set-up", "1", "0", "0"),
        ),
    )
    assert first["status"] == "DRAFT" and first["number"] == 1001
    assert first["issueDate"] == str(TODAY) and first["dueDate"] == str(TODAY + dt.timedelta(days=14))
    assert [(line["kind"], line["amount"], line["taxAmount"]) for line in first["lines"]] == [
        ("FIXED", "1200.00", "240.00"),
        ("FIXED", "349.97", "69.99"),
        ("FIXED", "0.00", "0.00"),
    ]
    assert (first["subtotal"], first["tax"], first["total"], first["amountPaid"], first["amountDue"]) == (
        "1549.97",
        "309.99",
        "1859.96",
        "0.00",
        "1859.96",
    )
    assert first["isOverdue"] is False and first["sentAt"] is None

    second = await _create(
        api, token, _fixed(a.other, ("Retainer", "1", "500", "0"), issueDate="2026-01-10", dueDate="2026-02-01")
    )
    assert second["number"] == 1002 and (second["issueDate"], second["dueDate"]) == ("2026-01-10", "2026-02-01")
    third = await _create(api, token, _fixed(a.other, ("Retainer", "1", "500", "0"), issueDate="2026-01-10"))
    assert third["number"] == 1003 and third["dueDate"] == "2026-02-09"  # issue + the client's 30 days

    activity = await count(
        db, Activity, Activity.kind == ActivityKind.INVOICE_CREATED, Activity.client_visible.is_(False)
    )
    assert activity == 3


async def test_an_invoice_pulls_in_unbilled_billable_time_per_project_and_rate_and_each_expense(api, factory, db):
    a = await agency(factory)
    second_project = await factory.project(a.client, name="Menu boards")
    t1 = await time_entry(factory, a.member, a.project, "2.25", days=5)
    t2 = await time_entry(factory, a.member, a.project, "1.5", days=4)
    t3 = await time_entry(factory, a.manager, a.project, "1", days=4)  # other rate: its own line
    t4 = await time_entry(factory, a.member, second_project, "4", days=3)
    await time_entry(factory, a.member, a.project, "8", billable=False)  # never pulled in
    late = await time_entry(factory, a.member, a.project, "2", days=0)  # after unbilledThrough
    await time_entry(factory, a.member, a.other_project, "6")  # another client's
    e1 = await expense(factory, a.project, "249.99", description="Stock photos", days=4)
    await expense(factory, a.project, "30.00", billable=False, description="Team lunch")
    await expense(factory, a.other_project, "70.00")

    token = await login(api, a.manager)
    before = await api.data(
        "query($id: ID!) { client(id: $id) { unbilledAmount } }", {"id": gid("Client", a.client.id)}, token
    )
    # 3.75 h x 120 + 1 h x 150 + 4 h x 120 + 2 h x 120 + 249.99
    assert before["client"]["unbilledAmount"] == "1569.99"

    invoice = await _create(
        api,
        token,
        {
            "clientId": gid("Client", a.client.id),
            "includeUnbilled": True,
            "unbilledThrough": str(days_ago(1)),
            "taxRate": "0.1",
            "lines": [{"description": "Project management", "quantity": "1", "unitPrice": "100"}],
        },
    )
    lines = [
        (line["kind"], line["description"], line["quantity"], line["unitPrice"], line["amount"], line["taxAmount"])
        for line in invoice["lines"]
    ]
    assert lines == [
        ("FIXED", "Project management", "1.00", "100.00", "100.00", "0.00"),
        ("TIME", "Loyalty app: time at 120.00 per hour", "3.75", "120.00", "450.00", "45.00"),
        ("TIME", "Loyalty app: time at 150.00 per hour", "1.00", "150.00", "150.00", "15.00"),
        ("TIME", "Menu boards: time at 120.00 per hour", "4.00", "120.00", "480.00", "48.00"),
        ("EXPENSE", "Loyalty app: Stock photos", "1.00", "249.99", "249.99", "25.00"),
    ]
    assert sorted(raw_id(t["id"]) for t in invoice["lines"][1]["timeEntries"]) == sorted([t1.id, t2.id])
    assert [raw_id(t["id"]) for t in invoice["lines"][2]["timeEntries"]] == [t3.id]
    assert [raw_id(t["id"]) for t in invoice["lines"][3]["timeEntries"]] == [t4.id]
    assert [raw_id(e["id"]) for e in invoice["lines"][4]["expenses"]] == [e1.id]
    assert invoice["total"] == "1562.99"

    # Exactly those rows are claimed, each by its own line.
    async with db() as session:
        claimed = dict(
            (
                await session.execute(
                    sa.select(TimeEntry.id, InvoiceLine.kind).join(
                        InvoiceLine, InvoiceLine.id == TimeEntry.invoice_line_id
                    )
                )
            ).all()
        )
        assert set(claimed) == {t1.id, t2.id, t3.id, t4.id}
        assert await session.scalar(sa.select(Expense.invoice_line_id).where(Expense.id == e1.id)) is not None
    after = await api.data(
        "query($id: ID!) { client(id: $id) { unbilledAmount } }", {"id": gid("Client", a.client.id)}, token
    )
    assert after["client"]["unbilledAmount"] == "240.00"  # only the late entry is left

    # A second pull takes only what is left; the first invoice's rows are never billed again.
    rest = await _create(api, token, {"clientId": gid("Client", a.client.id), "includeUnbilled": True})
    assert [(line["kind"], line["quantity"]) for line in rest["lines"]] == [("TIME", "2.00")]
    assert [raw_id(t["id"]) for t in rest["lines"][0]["timeEntries"]] == [late.id]
    nothing = await api.data(
        CREATE_INVOICE, {"input": {"clientId": gid("Client", a.client.id), "includeUnbilled": True}}, token
    )
    assert [(e["field"], e["code"]) for e in nothing["createInvoice"]["errors"]] == [
        ("input.includeUnbilled", "NOTHING_TO_BILL")
    ]


async def test_sending_an_invoice_shows_it_in_the_portal_and_notifies_the_client(api, factory, db):
    a = await agency(factory)
    second_portal = await factory.portal_user(a.client)
    token = await login(api, a.manager)
    invoice = await _create(api, token, _fixed(a.client, ("Sprint 1", "1", "4000", "0")))
    portal = await login(api, a.portal)
    listed = "{ invoices { totalCount edges { node { number status total } } } }"

    # A draft is the agency's work in progress: not in the portal yet.
    assert (await api.data(listed, token=portal))["invoices"] == {"totalCount": 0, "edges": []}
    assert (await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": invoice["id"]}, portal))["node"] is None

    sent = (await api.data(SEND_INVOICE, {"id": invoice["id"]}, token))["sendInvoice"]
    assert sent["errors"] == [] and sent["invoice"]["status"] == "SENT" and sent["invoice"]["sentAt"]
    assert (await api.data(listed, token=portal))["invoices"] == {
        "totalCount": 1,
        "edges": [{"node": {"number": 1001, "status": "SENT", "total": "4000.00"}}],
    }

    async with db() as session:
        notified = (
            await session.scalars(sa.select(Notification.user_id).where(Notification.kind == "INVOICE_SENT"))
        ).all()
        emails = (await session.scalars(sa.select(OutboxEmail.to_email))).all()
        feed = (await session.scalars(sa.select(Activity).where(Activity.kind == ActivityKind.INVOICE_SENT))).one()
    assert sorted(notified) == sorted([a.portal.id, second_portal.id])
    assert sorted(emails) == sorted([a.portal.email, second_portal.email])
    assert feed.client_visible is True and feed.client_id == a.client.id

    again = (await api.data(SEND_INVOICE, {"id": invoice["id"]}, token))["sendInvoice"]
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("id", "INVALID_TRANSITION")]


async def test_a_client_without_portal_users_is_emailed_at_its_primary_contact(api, factory, db):
    a = await agency(factory)
    lonely = await factory.client("No Portal Ltd")
    await factory.contact(lonely, primary=True, email="Boss@NoPortal.example")
    token = await login(api, a.manager)
    invoice = await _create(api, token, _fixed(lonely, ("Audit", "1", "900", "0")))
    await api.data(SEND_INVOICE, {"id": invoice["id"]}, token)
    async with db() as session:
        assert (await session.scalars(sa.select(OutboxEmail.to_email))).all() == ["boss@noportal.example"]
        assert await session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


async def test_partial_then_full_payment_marks_the_invoice_paid(api, factory, db):
    a = await agency(factory)
    token = await login(api, a.manager)
    invoice = await _create(api, token, _fixed(a.client, ("Launch", "1", "1000.00", "0.2")))
    await api.data(SEND_INVOICE, {"id": invoice["id"]}, token)

    partial = await _pay(
        api, token, invoice["id"], "400.10", receivedOn=str(days_ago(5)), method="CARD", reference="CH-1"
    )
    assert partial["errors"] == []
    assert partial["payment"] == {
        "id": partial["payment"]["id"],
        "amount": "400.10",
        "receivedOn": str(days_ago(5)),
        "method": "CARD",
        "reference": "CH-1",
    }
    assert partial["invoice"]["status"] == "SENT" and partial["invoice"]["amountDue"] == "799.90"

    over = await _pay(api, token, invoice["id"], "799.91")
    assert [(e["field"], e["code"]) for e in over["errors"]] == [("input.amount", "OVERPAYMENT")]
    assert over["payment"] is None

    full = await _pay(api, token, invoice["id"], "799.90", receivedOn=str(days_ago(2)))
    assert full["invoice"] == {
        "id": invoice["id"],
        "status": "PAID",
        "paidOn": str(days_ago(2)),
        "amountPaid": "1200.00",
        "amountDue": "0.00",
    }
    after_paid = await _pay(api, token, invoice["id"], "1.00")
    assert [(e["field"], e["code"]) for e in after_paid["errors"]] == [("input.invoiceId", "INVALID_TRANSITION")]

    async with db() as session:
        feed = (await session.scalars(sa.select(Activity).where(Activity.kind == ActivityKind.PAYMENT_RECEIVED))).all()
    assert len(feed) == 2 and all(f.client_visible for f in feed)
    assert await count(db, Payment) == 2


async def test_wrong_transitions_are_typed_errors_and_change_nothing(api, factory, db):
    a = await agency(factory)
    token = await login(api, a.manager)
    draft = await _create(api, token, _fixed(a.client, ("A", "1", "100", "0")))
    sent = await _create(api, token, _fixed(a.client, ("B", "1", "100", "0")))
    await api.data(SEND_INVOICE, {"id": sent["id"]}, token)
    await _pay(api, token, sent["id"], "10.00")
    paid = await _create(api, token, _fixed(a.client, ("C", "1", "100", "0")))
    await api.data(SEND_INVOICE, {"id": paid["id"]}, token)
    await _pay(api, token, paid["id"], "100.00")
    void = await _create(api, token, _fixed(a.client, ("D", "1", "100", "0")))
    await api.data(VOID_INVOICE, {"id": void["id"]}, token)
    before = await counts(db)
    async with db() as session:
        statuses = dict((await session.execute(sa.select(Invoice.id, Invoice.status))).all())

    async def errors(query, variables, name):
        return [(e["field"], e["code"]) for e in (await api.data(query, variables, token))[name]["errors"]]

    assert await errors(RECORD_PAYMENT, {"input": {"invoiceId": draft["id"], "amount": "1"}}, "recordPayment") == [
        ("input.invoiceId", "INVALID_TRANSITION")
    ]
    assert await errors(RECORD_PAYMENT, {"input": {"invoiceId": void["id"], "amount": "1"}}, "recordPayment") == [
        ("input.invoiceId", "INVALID_TRANSITION")
    ]
    assert await errors(VOID_INVOICE, {"id": paid["id"]}, "voidInvoice") == [("id", "INVALID_TRANSITION")]
    assert await errors(VOID_INVOICE, {"id": void["id"]}, "voidInvoice") == [("id", "INVALID_TRANSITION")]
    assert await errors(VOID_INVOICE, {"id": sent["id"]}, "voidInvoice") == [("id", "HAS_PAYMENTS")]
    assert await errors(SEND_INVOICE, {"id": void["id"]}, "sendInvoice") == [("id", "INVALID_TRANSITION")]
    assert await errors(SEND_INVOICE, {"id": paid["id"]}, "sendInvoice") == [("id", "INVALID_TRANSITION")]
    assert await errors(SEND_INVOICE, {"id": gid("Invoice", 999999)}, "sendInvoice") == [("id", "NOT_FOUND")]
    # An id of another type answers exactly as a missing invoice does: no oracle for which types exist.
    assert await api.post(SEND_INVOICE, {"id": gid("Client", a.client.id)}, token) == await api.post(
        SEND_INVOICE, {"id": gid("Invoice", 999999)}, token
    )
    assert await counts(db) == before
    async with db() as session:
        assert dict((await session.execute(sa.select(Invoice.id, Invoice.status))).all()) == statuses


async def test_voiding_releases_time_and_expenses_to_be_billed_again(api, factory, db):
    a = await agency(factory)
    entry = await time_entry(factory, a.member, a.project, "2")
    spent = await expense(factory, a.project, "50.00")
    token = await login(api, a.manager)
    first = await _create(
        api, token, {"clientId": gid("Client", a.client.id), "includeUnbilled": True, "notes": "Check rate"}
    )
    await api.data(SEND_INVOICE, {"id": first["id"]}, token)
    assert (await counts(db))["claimed_time"] == 1

    voided = (await api.data(VOID_INVOICE, {"id": first["id"], "reason": "Wrong rate"}, token))["voidInvoice"]
    assert voided["invoice"]["status"] == "VOID" and voided["invoice"]["voidedAt"]
    assert voided["invoice"]["notes"] == "Check rate\nVoided: Wrong rate"
    assert (await counts(db))["claimed_time"] == 0 and (await counts(db))["claimed_expenses"] == 0
    feed = await count(db, Activity, Activity.kind == ActivityKind.INVOICE_VOIDED, Activity.client_visible.is_(True))
    assert feed == 1  # it had been sent, so the client is told

    again = await _create(api, token, {"clientId": gid("Client", a.client.id), "includeUnbilled": True})
    assert [raw_id(t["id"]) for t in again["lines"][0]["timeEntries"]] == [entry.id]
    assert [raw_id(e["id"]) for e in again["lines"][1]["expenses"]] == [spent.id]
    # The void invoice keeps its lines as history, at zero due.
    data = await api.data(
        "query($id: ID!) { invoice(id: $id) { status total amountDue lines { kind timeEntries { id } } } }",
        {"id": first["id"]},
        token,
    )
    assert (
        data["invoice"]["status"] == "VOID"
        and data["invoice"]["total"] == "290.00"
        and data["invoice"]["amountDue"] == "0.00"
    )
    assert [line["timeEntries"] for line in data["invoice"]["lines"]] == [[], []]


async def test_bad_invoice_input_is_a_typed_error_and_writes_nothing(api, factory, db):
    a = await agency(factory)
    await time_entry(factory, a.member, a.project, "2", bill_rate="0")
    token = await login(api, a.manager)
    ok_line = ("Work", "1", "100", "0")
    before = await counts(db)
    cases = [
        ({"clientId": gid("Client", 999999), "lines": [_line(*ok_line)]}, "input.clientId", "NOT_FOUND"),
        ({"clientId": gid("Project", a.project.id), "lines": [_line(*ok_line)]}, "input.clientId", "NOT_FOUND"),
        (_fixed(a.client, ("Work", "0", "100", "0")), "input.lines[0].quantity", "MUST_BE_POSITIVE"),
        (_fixed(a.client, ok_line, ("Work", "-1", "100", "0")), "input.lines[1].quantity", "MUST_BE_POSITIVE"),
        (_fixed(a.client, ("Work", "1", "-0.01", "0")), "input.lines[0].unitPrice", "TOO_SMALL"),
        (_fixed(a.client, ("Work", "1", "10.005", "0")), "input.lines[0].unitPrice", "TOO_MANY_DECIMAL_PLACES"),
        (_fixed(a.client, ("Work", "1", "100", "1.5")), "input.lines[0].taxRate", "TOO_LARGE"),
        (_fixed(a.client, ("Work", "1", "100", "-0.1")), "input.lines[0].taxRate", "TOO_SMALL"),
        (_fixed(a.client, ("", "1", "100", "0")), "input.lines[0].description", "REQUIRED"),
        (_fixed(a.client, ("x" * 501, "1", "100", "0")), "input.lines[0].description", "TOO_LONG"),
        (_fixed(a.client, ("Work", "99999999", "999999999", "0")), "input.lines[0].quantity", "TOO_LARGE"),
        (_fixed(a.client, ok_line, notes="n" * 2001), "input.notes", "TOO_LONG"),
        (_fixed(a.client, ok_line, issueDate="2026-03-01", dueDate="2026-02-01"), "input.dueDate", "DUE_BEFORE_ISSUE"),
        (_fixed(a.client), "input.lines", "NOTHING_TO_BILL"),
        (_fixed(a.client, ("Free", "1", "0", "0")), "input.lines", "ZERO_TOTAL"),
        # The only unbilled time is at a 0.00 rate: pulling it in would raise a zero invoice.
        ({"clientId": gid("Client", a.client.id), "includeUnbilled": True}, "input.lines", "ZERO_TOTAL"),
        ({"clientId": gid("Client", a.other.id), "includeUnbilled": True}, "input.includeUnbilled", "NOTHING_TO_BILL"),
    ]
    for value, field, code in cases:
        data = await api.data(CREATE_INVOICE, {"input": value}, token)
        assert data["createInvoice"]["invoice"] is None, value
        assert [(e["field"], e["code"]) for e in data["createInvoice"]["errors"]] == [(field, code)], value
    # A client id of another type answers exactly as a missing client does.
    assert await api.post(CREATE_INVOICE, {"input": cases[1][0]}, token) == await api.post(
        CREATE_INVOICE, {"input": cases[0][0]}, token
    )
    assert await counts(db) == before

    invoice = await _create(api, token, _fixed(a.client, ok_line))
    await api.data(SEND_INVOICE, {"id": invoice["id"]}, token)
    before = await counts(db)
    for amount, field, code in [
        ("0", "input.amount", "MUST_BE_POSITIVE"),
        ("-5", "input.amount", "MUST_BE_POSITIVE"),
        ("100.01", "input.amount", "OVERPAYMENT"),
        ("1.001", "input.amount", "TOO_MANY_DECIMAL_PLACES"),
    ]:
        paid = await _pay(api, token, invoice["id"], amount)
        assert [(e["field"], e["code"]) for e in paid["errors"]] == [(field, code)]
    for extra, field, code in [
        ({"reference": "r" * 201}, "input.reference", "TOO_LONG"),
        ({"receivedOn": str(days_ago(-9))}, "input.receivedOn", "IN_FUTURE"),
    ]:
        paid = await _pay(api, token, invoice["id"], "10", **extra)
        assert [(e["field"], e["code"]) for e in paid["errors"]] == [(field, code)]
    unknown = await _pay(api, token, gid("Invoice", 999999), "10")
    assert [(e["field"], e["code"]) for e in unknown["errors"]] == [("input.invoiceId", "NOT_FOUND")]
    long_reason = (await api.data(VOID_INVOICE, {"id": invoice["id"], "reason": "r" * 2001}, token))["voidInvoice"]
    assert [(e["field"], e["code"]) for e in long_reason["errors"]] == [("reason", "TOO_LONG")]
    assert await counts(db) == before


def _line(description, quantity, unit_price, tax_rate) -> dict:
    return {"description": description, "quantity": quantity, "unitPrice": unit_price, "taxRate": tax_rate}


async def test_a_failed_claim_rolls_back_the_whole_invoice_and_leaves_no_half_claimed_rows(
    api, factory, db, monkeypatch
):
    """If another invoice billed one of the rows between the read and the claim, nothing is written."""
    a = await agency(factory)
    fresh = [await time_entry(factory, a.member, a.project, "1", days=d) for d in (2, 3, 4)]
    token = await login(api, a.manager)
    taken = await _create(api, token, {"clientId": gid("Client", a.other.id), "lines": [_line("X", "1", "1", "0")]})
    already = await time_entry(factory, a.member, a.project, "1", days=5)
    async with db() as session, session.begin():
        line_id = await session.scalar(sa.select(InvoiceLine.id).where(InvoiceLine.invoice_id == raw_id(taken["id"])))
        await session.execute(sa.update(TimeEntry).where(TimeEntry.id == already.id).values(invoice_line_id=line_id))

    original = invoices._unbilled_lines

    async def stale_read(*args, **kwargs):
        lines = await original(*args, **kwargs)
        lines[0].billed_ids.append(already.id)  # as if read before the other invoice claimed it
        return lines

    monkeypatch.setattr(invoices, "_unbilled_lines", stale_read)
    before = await counts(db)
    data = await api.data(
        CREATE_INVOICE, {"input": {"clientId": gid("Client", a.client.id), "includeUnbilled": True}}, token
    )
    assert [(e["field"], e["code"]) for e in data["createInvoice"]["errors"]] == [
        ("input.includeUnbilled", "ALREADY_BILLED")
    ]
    assert await counts(db) == before
    async with db() as session:
        lines = dict((await session.execute(sa.select(TimeEntry.id, TimeEntry.invoice_line_id))).all())
    assert [lines[e.id] for e in fresh] == [None, None, None] and lines[already.id] == line_id


async def test_outstanding_and_revenue_are_exact_sums_under_partial_payments_and_voids(api, factory):
    a = await agency(factory)
    token = await login(api, a.manager)
    ids = []
    for price in ("0.10", "0.20", "33.33"):
        invoice = await _create(api, token, _fixed(a.client, ("Item", "3", price, "0.0725")))
        await api.data(SEND_INVOICE, {"id": invoice["id"]}, token)
        ids.append((invoice["id"], invoice["total"]))
    draft = await _create(api, token, _fixed(a.client, ("Not sent", "1", "1000", "0")))
    voided = await _create(api, token, _fixed(a.client, ("Voided", "1", "500", "0")))
    await api.data(SEND_INVOICE, {"id": voided["id"]}, token)
    await api.data(VOID_INVOICE, {"id": voided["id"]}, token)
    assert [t for _, t in ids] == ["0.32", "0.64", "107.24"]  # 0.30 + 0.02, 0.60 + 0.04, 99.99 + 7.25
    await _pay(api, token, ids[0][0], "0.32")  # paid in full
    await _pay(api, token, ids[1][0], "0.10")
    await _pay(api, token, ids[2][0], "33.33")
    await _pay(api, token, ids[2][0], "0.01")

    query = """query($id: ID!) { client(id: $id) {
  outstandingAmount accountValue invoices { number status } payments { amount } } }"""
    data = await api.data(query, {"id": gid("Client", a.client.id)}, token)
    # Outstanding: 0.64 - 0.10 + 107.24 - 33.34 (the draft and the void count for nothing).
    assert data["client"]["outstandingAmount"] == "74.44"
    assert data["client"]["accountValue"] == "33.76"
    assert len(data["client"]["invoices"]) == 5 and len(data["client"]["payments"]) == 4
    assert draft["status"] == "DRAFT"

    # The portal sees the same money, minus the draft.
    portal = await login(api, a.portal)
    mine = await api.data(query.replace("accountValue ", ""), {"id": gid("Client", a.client.id)}, portal)
    assert mine["client"]["outstandingAmount"] == "74.44"
    assert sorted(i["status"] for i in mine["client"]["invoices"]) == ["PAID", "SENT", "SENT", "VOID"]


async def test_a_member_touches_no_invoice_and_sees_no_money(api, factory, db):
    a = await agency(factory)
    manager = await login(api, a.manager)
    invoice = await _create(api, manager, _fixed(a.client, ("Work", "1", "100", "0")))
    member = await login(api, a.member)
    before = await counts(db)
    for query, variables in [
        (CREATE_INVOICE, {"input": _fixed(a.client, ("Work", "1", "100", "0"))}),
        (SEND_INVOICE, {"id": invoice["id"]}),
        (RECORD_PAYMENT, {"input": {"invoiceId": invoice["id"], "amount": "1"}}),
        (VOID_INVOICE, {"id": invoice["id"]}),
    ]:
        body = await api.post(query, variables, member)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await counts(db) == before

    body = await api.post(
        """query($id: ID!) { invoices { totalCount } invoice(id: $id) { number }
        client(id: $c) { name unbilledAmount outstandingAmount invoices { number } payments { amount } } }""".replace(
            "query($id: ID!)", "query($id: ID!, $c: ID!)"
        ),
        {"id": invoice["id"], "c": gid("Client", a.client.id)},
        member,
    )
    assert body["data"]["invoices"] is None and body["data"]["invoice"] is None
    assert body["data"]["client"] == {
        "name": "Northwind Coffee",
        "unbilledAmount": None,
        "outstandingAmount": None,
        "invoices": None,
        "payments": None,
    }
    assert {e["extensions"]["field"] for e in body["errors"]} == {
        "Query.invoices",
        "Query.invoice",
        "Client.unbilledAmount",
        "Client.outstandingAmount",
        "Client.invoices",
        "Client.payments",
    }


async def test_a_client_of_another_company_sees_none_of_the_first_clients_billing(api, factory):
    a = await agency(factory)
    await time_entry(factory, a.member, a.project, "3")
    await expense(factory, a.project, "40.00")
    manager = await login(api, a.manager)
    mine = await _create(api, manager, {"clientId": gid("Client", a.client.id), "includeUnbilled": True})
    await api.data(SEND_INVOICE, {"id": mine["id"]}, manager)
    paid = await _pay(api, manager, mine["id"], "100.00")
    theirs = await _create(api, manager, _fixed(a.other, ("Their work", "2", "50", "0")))
    await api.data(SEND_INVOICE, {"id": theirs["id"]}, manager)

    other = await login(api, a.other_portal)
    data = await api.data(
        """query($i: ID!, $p: ID!, $c: ID!, $f: InvoiceFilterInput) {
      invoices(filter: $f) { totalCount edges { node { number total } } }
      invoice(id: $i) { number }
      payment: node(id: $p) { id }
      client(id: $c) { name }
      project: node(id: $c) { id }
      clients { edges { node { name outstandingAmount unbilledAmount invoices { number } payments { amount } } } }
    }""",
        {
            "i": mine["id"],
            "p": paid["payment"]["id"],
            "c": gid("Client", a.client.id),
            "f": {"clientId": gid("Client", a.client.id)},
        },
        other,
    )
    assert data["invoices"] == {"totalCount": 0, "edges": []}
    assert data["invoice"] is None and data["payment"] is None and data["client"] is None and data["project"] is None
    assert data["clients"]["edges"] == [
        {
            "node": {
                "name": "Other Co",
                "outstandingAmount": "100.00",
                "unbilledAmount": "0.00",
                "invoices": [{"number": theirs["number"]}],
                "payments": [],
            }
        }
    ]
    everything = await api.data(
        "{ invoices { totalCount edges { node { number total client { name } } } } }", token=other
    )
    assert everything["invoices"]["totalCount"] == 1
    assert everything["invoices"]["edges"][0]["node"] == {
        "number": theirs["number"],
        "total": "100.00",
        "client": {"name": "Other Co"},
    }
    entry_ids = [t["id"] for line in mine["lines"] for t in line["timeEntries"]]
    hidden = await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": entry_ids[0]}, other)
    assert hidden["node"] is None

    # And the first client's own portal sees its invoice, its payment and the time behind it.
    own = await login(api, a.portal)
    data = await api.data(
        """{ invoices { edges { node { number amountPaid lines { kind timeEntries { hours billRate } } } } } }""",
        token=own,
    )
    assert data["invoices"]["edges"][0]["node"]["amountPaid"] == "100.00"
    assert data["invoices"]["edges"][0]["node"]["lines"][0]["timeEntries"] == [{"hours": "3.00", "billRate": "120.00"}]


async def test_invoices_list_filters_by_status_client_and_overdue_and_pages(api, factory):
    a = await agency(factory)
    token = await login(api, a.manager)
    made = []
    for client, issue, due in [
        (a.client, "2026-01-01", "2026-01-15"),
        (a.client, "2026-02-01", str(TODAY + dt.timedelta(days=30))),
        (a.other, "2026-01-05", "2026-01-20"),
        (a.other, "2026-02-02", None),
    ]:
        value = _fixed(client, ("Work", "1", "100", "0"), issueDate=issue)
        if due:
            value["dueDate"] = due
        made.append(await _create(api, token, value))
    for invoice in made[:3]:
        await api.data(SEND_INVOICE, {"id": invoice["id"]}, token)
    query = """query($f: InvoiceFilterInput, $first: Int, $after: String) {
      invoices(filter: $f, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
        edges { node { number status isOverdue client { name } } } } }"""

    async def numbers(**variables):
        return [e["node"]["number"] for e in (await api.data(query, variables, token))["invoices"]["edges"]]

    assert await numbers() == [1004, 1003, 1002, 1001]
    assert await numbers(f={"status": ["DRAFT"]}) == [1004]
    assert await numbers(f={"clientId": gid("Client", a.other.id)}) == [1004, 1003]
    assert await numbers(f={"overdue": True}) == [1003, 1001]
    assert await numbers(f={"overdue": False}) == [1004, 1002]
    assert await numbers(f={"overdue": True, "clientId": gid("Client", a.client.id)}) == [1001]
    page = (await api.data(query, {"first": 3}, token))["invoices"]
    assert page["totalCount"] == 4 and page["pageInfo"]["hasNextPage"] is True
    assert await numbers(first=3, after=page["pageInfo"]["endCursor"]) == [1001]
    # Filtering by an id of another type answers exactly as filtering by a missing client does.
    body = await api.post(query, {"f": {"clientId": gid("Project", a.project.id)}}, token)
    assert body == await api.post(query, {"f": {"clientId": gid("Client", 999999)}}, token)
    assert body["data"]["invoices"]["totalCount"] == 0


async def test_invoices_list_statement_count_does_not_grow_with_rows(api, factory, statements):
    a = await agency(factory)
    token = await login(api, a.manager)
    query = """{ invoices(first: 50) { totalCount edges { node { number total amountDue isOverdue client { name }
      lines { kind timeEntries { hours user { fullName } invoice { number } } expenses { billableAmount } }
      payments { amount } } } } }"""

    async def raise_one(client, project):
        await time_entry(factory, a.member, project, "2")
        await expense(factory, project, "12.50")
        invoice = await _create(api, token, {"clientId": gid("Client", client.id), "includeUnbilled": True})
        await api.data(SEND_INVOICE, {"id": invoice["id"]}, token)
        await _pay(api, token, invoice["id"], "10.00")

    async def measure() -> tuple[int, int]:
        await api.data("{ me { id } }", token=token)
        statements.reset()
        data = await api.data(query, token=token)
        return statements.count, len(data["invoices"]["edges"])

    await raise_one(a.client, a.project)
    small, n = await measure()
    assert n == 1
    for i in range(5):
        client = await factory.client(f"Batch {i}")
        await raise_one(client, await factory.project(client))
    large, n = await measure()
    assert n == 6 and small == large


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
async def test_admins_and_managers_may_raise_invoices(api, factory, role):
    a = await agency(factory)
    user = await factory.user(role)
    token = await login(api, user)
    invoice = await _create(api, token, _fixed(a.client, ("Work", "1", "10", "0")))
    assert invoice["status"] == "DRAFT"


async def test_the_demo_agency_walks_through_time_to_paid_invoice(api, demo, db):
    """The guide's flow on the demo data: a developer logs time, the account manager raises an
    invoice from the unbilled work, sends it, the client sees it, and pays it in two parts."""
    from models import Client
    from server.demo import DEMO_PASSWORD

    dev = await api.login("dev.member@agency.example", DEMO_PASSWORD)
    maria = await api.login("maria.manager@agency.example", DEMO_PASSWORD)
    olivia = await api.login("olivia@northwind.example", DEMO_PASSWORD)
    async with db() as session:
        northwind = await session.scalar(sa.select(Client).where(Client.name == "Northwind Coffee"))
    client = (
        await api.data(
            "query($id: ID!) { client(id: $id) { unbilledAmount projects(status: [ACTIVE]) { id } } }",
            {"id": gid("Client", northwind.id)},
            maria,
        )
    )["client"]
    logged = await api.data(
        "mutation($i: LogTimeInput!) { logTime(input: $i) { timeEntry { hours } errors { code } } }",
        {
            "i": {
                "projectId": client["projects"][0]["id"],
                "workDate": str(days_ago(0)),
                "hours": "1.5",
                "billable": True,
            }
        },
        dev,
    )
    assert logged["logTime"] == {"timeEntry": {"hours": "1.50"}, "errors": []}
    after = (
        await api.data(
            "query($id: ID!) { client(id: $id) { unbilledAmount } }", {"id": gid("Client", northwind.id)}, maria
        )
    )["client"]["unbilledAmount"]
    assert Decimal(after) - Decimal(client["unbilledAmount"]) == Decimal("262.50")  # 1.5 h x 175.00

    invoice = await _create(api, maria, {"clientId": gid("Client", northwind.id), "includeUnbilled": True})
    assert sum(Decimal(line["amount"]) for line in invoice["lines"]) == Decimal(after)
    await api.data(SEND_INVOICE, {"id": invoice["id"]}, maria)
    seen = await api.data("{ invoices(filter: {status: [SENT]}) { edges { node { number total } } } }", token=olivia)
    assert {"number": invoice["number"], "total": invoice["total"]} in [e["node"] for e in seen["invoices"]["edges"]]
    half = (Decimal(invoice["total"]) / 2).quantize(Decimal("0.01"))
    await _pay(api, maria, invoice["id"], str(half))
    done = await _pay(api, maria, invoice["id"], str(Decimal(invoice["total"]) - half))
    assert done["invoice"]["status"] == "PAID" and done["invoice"]["amountDue"] == "0.00"
