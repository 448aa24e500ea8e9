"""Time entries and expenses: delivery work on a project, and what it costs and bills.

Money fields are split by who may read them: what the agency pays (cost rate, cost amount,
an expense's amount) is COST; what the client is billed (bill rate, billable amount, the
invoice) is FINANCE. A MEMBER logs time and sees hours, never either kind of money.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

import models
from models.base import money
from resolvers.billing import line_amounts
from schema.context import Info
from schema.types.base import ModelNode
from schema.types.people import User

if TYPE_CHECKING:
    from schema.types.billing import Invoice
    from schema.types.work import Project, Task

_ZERO = Decimal("0")


@strawberry.type(description="Hours someone worked on a project, with the cost and bill rates captured when logged.")
class TimeEntry(ModelNode):
    __model__ = models.TimeEntry
    __loader__ = "billing.time_entry"

    id: relay.NodeID[int]
    work_date: dt.date
    hours: Decimal
    billable: bool
    description: str | None = strawberry.field(
        description="The team's own words; the client is billed by invoice line."
    )
    created_at: dt.datetime
    cost_rate: Decimal | None = strawberry.field(
        description="What an hour of this person cost the agency, when logged."
    )
    bill_rate: Decimal | None = strawberry.field(description="What an hour of this person billed at, when logged.")

    @strawberry.field(description="Hours x cost rate.")
    def cost_amount(self) -> Decimal | None:
        return line_amounts(self.hours, self.cost_rate, _ZERO)[0]  # type: ignore[arg-type]

    @strawberry.field(description="Hours x bill rate when billable, else zero: what invoicing it bills before tax.")
    def billable_amount(self) -> Decimal | None:
        return line_amounts(self.hours, self.bill_rate, _ZERO)[0] if self.billable else money(0)  # type: ignore[arg-type]

    @strawberry.field(description="On an invoice line (of a draft or sent invoice); a void invoice releases it.")
    def invoiced(self) -> bool | None:
        return self.invoice_line_id is not None  # type: ignore[attr-defined]

    @strawberry.field(description="The invoice that bills this entry.")
    async def invoice(self, info: Info) -> Annotated[Invoice, strawberry.lazy("schema.types.billing")] | None:
        line_id = self.invoice_line_id  # type: ignore[attr-defined]
        return None if line_id is None else await info.context.loaders.billing.invoice_by_line.load(line_id)

    @strawberry.field(description="Who worked.")
    async def user(self, info: Info) -> User | None:
        return await info.context.loaders.user.load(self.user_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def project(self, info: Info) -> Annotated[Project, strawberry.lazy("schema.types.work")] | None:
        return await info.context.loaders.project.load(self.project_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The task worked on, if any (null when the caller may not see it).")
    async def task(self, info: Info) -> Annotated[Task, strawberry.lazy("schema.types.work")] | None:
        task_id = self.task_id  # type: ignore[attr-defined]
        return None if task_id is None else await info.context.loaders.task.load(task_id)


@strawberry.type(description="Money the agency spent on a project; a billable one is passed on to the client at cost.")
class Expense(ModelNode):
    __model__ = models.Expense
    __loader__ = "billing.expense"

    id: relay.NodeID[int]
    description: str
    billable: bool
    incurred_on: dt.date
    created_at: dt.datetime
    amount: Decimal | None = strawberry.field(description="What the agency paid.")

    @strawberry.field(description="The amount when billable, else zero: what invoicing it bills before tax.")
    def billable_amount(self) -> Decimal | None:
        return self.amount if self.billable else money(0)

    @strawberry.field(description="On an invoice line (of a draft or sent invoice); a void invoice releases it.")
    def invoiced(self) -> bool | None:
        return self.invoice_line_id is not None  # type: ignore[attr-defined]

    @strawberry.field(description="The invoice that bills this expense.")
    async def invoice(self, info: Info) -> Annotated[Invoice, strawberry.lazy("schema.types.billing")] | None:
        line_id = self.invoice_line_id  # type: ignore[attr-defined]
        return None if line_id is None else await info.context.loaders.billing.invoice_by_line.load(line_id)

    @strawberry.field(description="Who logged it.")
    async def created_by(self, info: Info) -> User | None:
        user_id = self.created_by_id  # type: ignore[attr-defined]
        return None if user_id is None else await info.context.loaders.user.load(user_id)

    @strawberry.field
    async def project(self, info: Info) -> Annotated[Project, strawberry.lazy("schema.types.work")] | None:
        return await info.context.loaders.project.load(self.project_id)  # type: ignore[attr-defined]
