"""Factories: each test builds exactly the rows it needs."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.passwords import hash_password
from models import (
    Client,
    Comment,
    CommentKind,
    Contact,
    Invoice,
    InvoiceLine,
    InvoiceLineKind,
    InvoiceStatus,
    Payment,
    Project,
    ProjectStatus,
    Role,
    Task,
    User,
)
from models.clients import STATUS_ACTIVE

PASSWORD = "correct-horse-battery"
_HASH = hash_password(PASSWORD)
_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


class _Row(Protocol):
    id: int | None


def row_id(row: _Row) -> int:
    """The id of a row the factory has written: the model leaves it empty until the row is flushed."""
    assert row.id is not None, f"{type(row).__name__} has no id: build it through the factory first"
    return row.id


class Factory:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def add(self, *rows):
        async with self.session_factory() as session, session.begin():
            session.add_all(rows)
            await session.flush()
            for row in rows:
                await session.refresh(row)
        return rows[0] if len(rows) == 1 else rows

    async def user(self, role: Role = Role.MANAGER, **kw) -> User:
        n = _n()
        kw.setdefault("email", f"user{n}@agency.example")
        kw.setdefault("full_name", f"User {n}")
        return await self.add(User(role=role, password_hash=_HASH, **kw))

    async def client(self, name: str | None = None, **kw) -> Client:
        kw.setdefault("status_id", STATUS_ACTIVE)
        return await self.add(Client(name=name or f"Client {_n()}", **kw))

    async def contact(self, client: Client, primary: bool = False, **kw) -> Contact:
        n = _n()
        kw.setdefault("email", f"person{n}@client{client.id}.example")
        kw.setdefault("full_name", f"Person {n}")
        return await self.add(Contact(client_id=client.id, is_primary=primary, **kw))

    async def portal_user(self, client: Client, **kw) -> User:
        contact = await self.contact(client, primary=False)
        return await self.user(Role.CLIENT, client_id=client.id, contact_id=contact.id, email=contact.email, **kw)

    async def project(self, client: Client, **kw) -> Project:
        kw.setdefault("status", ProjectStatus.ACTIVE)
        kw.setdefault("start_date", dt.date(2026, 1, 1))
        return await self.add(Project(client_id=row_id(client), name=kw.pop("name", f"Project {_n()}"), **kw))

    async def task(self, project: Project, **kw) -> Task:
        return await self.add(Task(project_id=row_id(project), title=kw.pop("title", f"Task {_n()}"), **kw))

    async def comment(self, task: Task, kind: CommentKind, body: str, **kw) -> Comment:
        return await self.add(Comment(project_id=task.project_id, task_id=task.id, kind=kind, body=body, **kw))

    async def invoice(self, client: Client, lines: Sequence[tuple[str, str]] = (("10", "100.00"),), **kw) -> Invoice:
        kw.setdefault("status", InvoiceStatus.SENT)
        kw.setdefault("issue_date", dt.date(2026, 10, 1))
        kw.setdefault("due_date", dt.date(2026, 10, 31))
        invoice = await self.add(Invoice(client_id=row_id(client), number=kw.pop("number", 1000 + _n()), **kw))
        for position, (qty, price) in enumerate(lines):
            amount = (Decimal(qty) * Decimal(price)).quantize(Decimal("0.01"))
            await self.add(
                InvoiceLine(
                    invoice_id=invoice.id,
                    kind=InvoiceLineKind.FIXED,
                    description="Work",
                    quantity=Decimal(qty),
                    unit_price=Decimal(price),
                    tax_rate=Decimal("0"),
                    amount=amount,
                    tax_amount=Decimal("0"),
                    position=position,
                )
            )
        return invoice

    async def payment(self, invoice: Invoice, amount: str, **kw) -> Payment:
        kw.setdefault("received_on", dt.date(2026, 10, 15))
        return await self.add(Payment(invoice_id=row_id(invoice), amount=Decimal(amount), **kw))
