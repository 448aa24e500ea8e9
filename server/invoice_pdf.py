"""GET /invoices/{id}/pdf: an invoice as a PDF, for whoever may read it in the API.

Who: the same Bearer token as /graphql. A refused token answers the API's one 401; no token at
all, 401 UNAUTHENTICATED with a bare `Bearer` challenge (as the marketing export). `{id}` is the
invoice's global id as the API shows it (`Invoice.id`).

What the caller must be allowed, decided once from the policy table and its policy key (never
per row): every invoice field the document prints (number, status, dates, lines, subtotal, tax,
total, payments, amount due). A caller missing any of them (a MEMBER: money is FINANCE) is
refused 403 FORBIDDEN; the client's name and billing address are printed only when the caller may
read `Client.name` and `Client.billingAddress` (a partner needs clients:read for them). Which
invoices: the invoice row scope (auth.scopes.invoice_scope): a portal user gets its own client's
invoices once sent, never a draft; a partner with invoices:read those of the clients it is limited
to. An invoice outside it answers exactly as a missing one: 404 NOT_FOUND, the same body.
Payments printed are those under the payment scope.

The document: the agency's name (`AGENCY_NAME`), the client's name and billing address, the
invoice number, issue and due dates and status, one row per line (description, quantity, unit
price, tax, amount), subtotal, tax, total, the payments received (date, method, amount), and the
amount due (zero for a void invoice, as `Invoice.amountDue`). Amounts are the stored cents, summed
exactly, in `AGENCY_CURRENCY`. Text is set in DejaVu Sans when the system has it (any script it
covers), else in the PDF core font with what Latin-1 cannot hold transliterated or replaced by `?`.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import Response
from strawberry import relay
from strawberry.relay.types import GlobalIDValueError

from auth.policy import decide
from auth.principal import PolicyKey, Principal
from auth.scopes import invoice_scope, payment_scope
from models import Client, Invoice, InvoiceLine, InvoiceStatus, Payment
from models.base import money
from models.db import close_session, is_unavailable
from resolvers.errors import DatabaseUnavailable
from schema.ids import row_id
from server.bearer import Identify, RefuseToken, signed_in_caller
from server.middleware import json_error

#: What the document prints: the caller must be allowed every one of these.
PRINTED_FIELDS = (
    ("Invoice", "number"),
    ("Invoice", "status"),
    ("Invoice", "issueDate"),
    ("Invoice", "dueDate"),
    ("Invoice", "lines"),
    ("Invoice", "subtotal"),
    ("Invoice", "tax"),
    ("Invoice", "total"),
    ("Invoice", "payments"),
    ("Invoice", "amountDue"),
    ("Invoice", "client"),
    ("InvoiceLine", "description"),
    ("InvoiceLine", "quantity"),
    ("InvoiceLine", "unitPrice"),
    ("InvoiceLine", "taxAmount"),
    ("InvoiceLine", "amount"),
    ("Payment", "receivedOn"),
    ("Payment", "method"),
    ("Payment", "amount"),
)
UNICODE_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)
NOT_FOUND = "No such invoice."


def may_print(key: PolicyKey) -> bool:
    return all(decide(type_name, field, key).allowed for type_name, field in PRINTED_FIELDS)


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything the PDF shows, read under the caller's scopes."""

    agency: str
    currency: str
    client_name: str | None
    billing_address: str | None
    number: int
    status: InvoiceStatus
    issue_date: dt.date
    due_date: dt.date
    lines: list[tuple[str, Decimal, Decimal, Decimal, Decimal]]  # description, qty, unit, tax, amount
    payments: list[tuple[dt.date, str, Decimal]]

    @property
    def subtotal(self) -> Decimal:
        return money(sum((line[4] for line in self.lines), Decimal(0)))

    @property
    def tax(self) -> Decimal:
        return money(sum((line[3] for line in self.lines), Decimal(0)))

    @property
    def total(self) -> Decimal:
        return money(self.subtotal + self.tax)

    @property
    def paid(self) -> Decimal:
        return money(sum((p[2] for p in self.payments), Decimal(0)))

    @property
    def due(self) -> Decimal:
        return money(0) if self.status is InvoiceStatus.VOID else money(self.total - self.paid)


async def read_document(
    session: AsyncSession, principal: Principal, invoice_id: int, *, agency: str, currency: str
) -> InvoiceDocument | None:
    """The invoice as the caller may see it, in three statements; None when it is not visible."""
    found = (
        await session.execute(
            sa.select(Invoice, col(Client.name), col(Client.billing_address))
            .join(Client, col(Client.id) == col(Invoice.client_id))
            .where(col(Invoice.id) == invoice_id, invoice_scope(principal))
        )
    ).first()
    if found is None:
        return None
    invoice, client_name, billing_address = found
    lines = (
        await session.scalars(
            sa.select(InvoiceLine)
            .where(col(InvoiceLine.invoice_id) == invoice_id)
            .order_by(col(InvoiceLine.position), col(InvoiceLine.id))
        )
    ).all()
    payments = (
        await session.scalars(
            sa.select(Payment)
            .where(col(Payment.invoice_id) == invoice_id, payment_scope(principal))
            .order_by(col(Payment.received_on), col(Payment.id))
        )
    ).all()
    key = principal.policy_key
    show_name, show_address = (decide("Client", field, key).allowed for field in ("name", "billingAddress"))
    return InvoiceDocument(
        agency=agency,
        currency=currency,
        client_name=client_name if show_name else None,
        billing_address=billing_address if show_address else None,
        number=invoice.number,
        status=invoice.status,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        lines=[(ln.description, ln.quantity, ln.unit_price, ln.tax_amount, ln.amount) for ln in lines],
        payments=[(p.received_on, p.method.value.replace("_", " ").lower(), p.amount) for p in payments],
    )


def _latin1(text: str) -> str:
    """For the core font: accents kept where Latin-1 has them, else decomposed, else `?`."""
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
            out.append(plain or "?")
    return "".join(out)


class _Writer:
    def __init__(self) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.set_title("Invoice")
        font = next((path for path in UNICODE_FONTS if path.is_file()), None)
        self.clean: Callable[[str], str]
        if font is not None:
            self.pdf.add_font("body", "", str(font))
            self.family, self.clean = "body", str
        else:
            self.family, self.clean = "helvetica", _latin1
        self.pdf.add_page()

    def text(self, value: str, *, size: float = 10, width: float = 0, align: str = "L", newline: bool = True) -> None:
        self.pdf.set_font(self.family, size=size)
        if newline:
            self.pdf.cell(width, 6, self.clean(value), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            self.pdf.cell(width, 6, self.clean(value), align=align)

    def fit(self, value: str, width: float, *, size: float = 10) -> str:
        """`value`, cut with an ellipsis to fit a cell `width` wide (2 mm kept clear)."""
        self.pdf.set_font(self.family, size=size)
        text = self.clean(value)
        if self.pdf.get_string_width(text) <= width - 2:
            return text
        while text and self.pdf.get_string_width(text + "...") > width - 2:
            text = text[:-1]
        return text.rstrip() + "..."

    def block(self, value: str, *, size: float = 10) -> None:
        self.pdf.set_font(self.family, size=size)
        self.pdf.multi_cell(0, 5, self.clean(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render(document: InvoiceDocument) -> bytes:
    """The PDF's bytes."""
    w = _Writer()
    amount = lambda value: f"{document.currency} {value:,.2f}"  # noqa: E731 - local formatting
    w.text(document.agency, size=16)
    w.text(f"Invoice {document.number}", size=14)
    w.text(f"Status: {document.status.value}")
    w.text(f"Issue date: {document.issue_date.isoformat()}")
    w.text(f"Due date: {document.due_date.isoformat()}")
    w.pdf.ln(3)
    if document.client_name is not None:
        w.text("Bill to:")
        w.text(document.client_name, size=11)
    if document.billing_address:
        w.block(document.billing_address)
    w.pdf.ln(4)
    widths = (80, 20, 30, 25, 35)
    for title, width in zip(("Description", "Quantity", "Unit price", "Tax", "Amount"), widths, strict=True):
        w.text(title, width=width, newline=False, align="L" if title == "Description" else "R")
    w.pdf.ln(7)
    for description, quantity, unit_price, tax, line_amount in document.lines:
        w.text(w.fit(description, widths[0]), width=widths[0], newline=False)
        w.text(f"{quantity:,.2f}", width=widths[1], newline=False, align="R")
        w.text(f"{unit_price:,.2f}", width=widths[2], newline=False, align="R")
        w.text(f"{tax:,.2f}", width=widths[3], newline=False, align="R")
        w.text(f"{line_amount:,.2f}", width=widths[4], align="R")
    w.pdf.ln(3)
    for label, value in (("Subtotal", document.subtotal), ("Tax", document.tax), ("Total", document.total)):
        w.text(f"{label}: {amount(value)}", align="R")
    if document.payments:
        w.pdf.ln(3)
        w.text("Payments received:")
        for received_on, method, paid in document.payments:
            w.text(f"{received_on.isoformat()}  {method}  {amount(paid)}")
    w.pdf.ln(3)
    w.text(f"Amount due: {amount(document.due)}", size=12, align="R")
    return bytes(w.pdf.output())


class InvoicePdf:
    """The endpoint. `identify` is the API's own (bearer token -> Principal, as for /graphql);
    `refuse_token` its 401 for a refused token."""

    def __init__(
        self,
        *,
        identify: Identify,
        refuse_token: RefuseToken,
        session_factory: async_sessionmaker[AsyncSession],
        agency: str,
        currency: str,
    ) -> None:
        self.identify = identify
        self.refuse_token = refuse_token
        self.session_factory = session_factory
        self.agency = agency
        self.currency = currency

    async def respond(self, request: Request) -> Response:
        principal = await signed_in_caller(
            request,
            identify=self.identify,
            refuse_token=self.refuse_token,
            session_factory=self.session_factory,
            what="An invoice PDF",
        )
        if isinstance(principal, Response):
            return principal
        if not may_print(principal.policy_key):
            return json_error(403, "You may not read invoices.", "FORBIDDEN")
        invoice_id = _invoice_id(request.path_params["id"])
        document = None
        if invoice_id is not None:
            session = self.session_factory()
            try:
                document = await read_document(
                    session, principal, invoice_id, agency=self.agency, currency=self.currency
                )
            except Exception as error:
                if is_unavailable(error):  # answered 503 + Retry-After by the app's handler
                    raise DatabaseUnavailable() from error
                raise
            finally:
                await close_session(session)
        if document is None:
            return json_error(404, NOT_FOUND, "NOT_FOUND")
        return Response(
            render(document),
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="invoice-{document.number}.pdf"',
                "Cache-Control": "private, no-store",
                "Vary": "Authorization",
            },
        )


def _invoice_id(value: str) -> int | None:
    """The row id of an Invoice global id; None for anything else (answered as a missing invoice)."""
    try:
        global_id = relay.GlobalID.from_id(value)
    except GlobalIDValueError:
        return None
    return row_id(global_id.node_id) if global_id.type_name == "Invoice" else None
