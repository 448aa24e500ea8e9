"""GET /invoices/{id}/pdf: the right figures in the document (its text read back), under the
invoice row scope and the field policy: a portal user gets its own client's sent invoices only,
another client's answers exactly like a missing one, a MEMBER is refused, a partner follows its
scopes and client limit."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from models import InvoiceStatus, PaymentMethod, Role
from tests.partners.support import access_token, register
from tests.utils import gid, portal, staff


def _url(invoice) -> str:
    return f"/invoices/{gid('Invoice', invoice)}/pdf"


async def _get(api, token: str | None, url: str):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await api.client.get(url, headers=headers)


def _text(response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


async def _world(factory):
    acme = await factory.client("Acme Ltd", billing_address="1 Harbour Road\nPortsmouth")
    globex = await factory.client("Globex")
    # Two lines: 10 x 100.00 and 3 x 33.33 = 1,099.99; tax on the second only.
    sent = await factory.invoice(acme, lines=(("10", "100.00"), ("3", "33.33")), number=4101)
    await factory.payment(sent, "250.00", method=PaymentMethod.CARD)
    draft = await factory.invoice(acme, status=InvoiceStatus.DRAFT, number=4102)
    theirs = await factory.invoice(globex, number=4103)
    return acme, globex, sent, draft, theirs


async def test_staff_get_the_invoice_with_its_lines_totals_payments_and_amount_due(api, factory):
    _, _, sent, _, _ = await _world(factory)
    _, token = await staff(api, factory, Role.MANAGER)
    response = await _get(api, token, _url(sent))
    assert response.headers["content-disposition"] == 'inline; filename="invoice-4101.pdf"'
    assert response.headers["cache-control"] == "private, no-store"
    text = _text(response)
    for expected in (
        "Invoice 4101",
        "Status: SENT",
        "Issue date: 2026-10-01",
        "Due date: 2026-10-31",
        "Acme Ltd",
        "1 Harbour Road",
        "Portsmouth",
        "1,000.00",
        "99.99",
        "Subtotal: USD 1,099.99",
        "Tax: USD 0.00",
        "Total: USD 1,099.99",
        "2026-10-15",
        "card",
        "USD 250.00",
        "Amount due: USD 849.99",
    ):
        assert expected in text, (expected, text)


async def test_a_portal_user_gets_its_own_sent_invoice_but_not_a_draft_nor_another_clients(api, factory):
    acme, _, sent, draft, theirs = await _world(factory)
    _, token = await portal(api, factory, acme)
    assert "Amount due: USD 849.99" in _text(await _get(api, token, _url(sent)))
    missing = await _get(api, token, "/invoices/" + gid("Invoice", 999999) + "/pdf")
    for hidden in (draft, theirs):
        response = await _get(api, token, _url(hidden))
        assert response.status_code == 404
        assert response.content == missing.content
        assert response.json() == {"errors": [{"message": "No such invoice.", "extensions": {"code": "NOT_FOUND"}}]}
    assert b"Globex" not in missing.content


@pytest.mark.parametrize("bad", ["nonsense", gid("Client", 1), gid("Invoice", 0), gid("Invoice", "1e3")])
async def test_an_id_that_names_no_invoice_answers_like_a_missing_one(api, factory, bad):
    _, token = await staff(api, factory, Role.ADMIN)
    response = await _get(api, token, f"/invoices/{bad}/pdf")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"] == {"code": "NOT_FOUND"}


async def test_a_member_touches_no_money_and_is_refused(api, factory):
    _, _, sent, _, _ = await _world(factory)
    _, token = await staff(api, factory, Role.MEMBER)
    response = await _get(api, token, _url(sent))
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert b"4101" not in response.content


async def test_anonymous_and_bad_tokens_get_the_apis_401(api, factory):
    _, _, sent, _, _ = await _world(factory)
    anonymous = await _get(api, None, _url(sent))
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    forged = await _get(api, "not-a-token", _url(sent))
    assert forged.status_code == 401
    assert forged.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_a_partner_reads_its_clients_invoices_with_invoices_read_only(api, factory, db):
    acme, _, sent, draft, theirs = await _world(factory)
    limited = await access_token(api.client, await register(db, scopes=["invoices:read"], clients=[acme]))
    text = _text(await _get(api, limited, _url(sent)))
    assert "Total: USD 1,099.99" in text
    # FINANCE opens money; the client's name and address are PUBLIC client data: clients:read.
    assert "Harbour Road" not in text and "Acme" not in text
    both = await access_token(api.client, await register(db, scopes=["invoices:read", "clients:read"]))
    assert "Harbour Road" in _text(await _get(api, both, _url(sent)))
    for hidden in (draft, theirs):
        assert (await _get(api, limited, _url(hidden))).status_code == 404
    clients_only = await access_token(api.client, await register(db, scopes=["clients:read"]))
    assert (await _get(api, clients_only, _url(sent))).status_code == 403


async def test_a_void_invoice_owes_nothing_and_non_latin_text_survives(api, factory):
    client = await factory.client("Zoë & Łukasz Sp. z o.o.")
    invoice = await factory.invoice(client, number=4200, status=InvoiceStatus.VOID)
    _, token = await staff(api, factory, Role.ADMIN)
    text = _text(await _get(api, token, _url(invoice)))
    assert "Status: VOID" in text
    assert "Amount due: USD 0.00" in text
    assert "Zo" in text and "ukasz" in text
