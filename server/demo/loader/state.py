"""One load in progress: the rows written so far, by key, the clock every date is relative to,
and the activity feed collected along the way (written last)."""

from __future__ import annotations

import datetime as dt
import random
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from models import Activity, ActivityKind, Client, Contact, Expense, Invoice, Meeting, Project, Task, TimeEntry, User
from server.demo.data.clients import CLIENTS
from server.demo.data.records import ClientSpec, InvoiceSpec, ProjectSpec, TaskSpec

UTC = dt.UTC
T = TypeVar("T")


def known(value: T | None) -> T:
    """A value the model may leave empty that is set here: a flushed row's id, or a column the
    demo data always fills in (a client's start date, a staff member's rates, an e-mail)."""
    if value is None:
        raise ValueError("the demo data left a value empty that the load relies on")
    return value


class DemoLoad:
    """One load: the objects built so far, by key, and the clock everything is relative to."""

    def __init__(self, session: AsyncSession, today: dt.date | None, password_hash: str) -> None:
        self.session = session
        real_now = dt.datetime.now(UTC)
        self.today = today or real_now.date()
        # "Now" is the real clock on the real today, midday of any other day a caller asks for.
        self.now = real_now if self.today == real_now.date() else dt.datetime.combine(self.today, dt.time(12), UTC)
        self.password_hash = password_hash
        self.rng = random.Random(20240611)
        self.staff: dict[str, User] = {}
        self.portal: dict[str, User] = {}  # client key -> portal user
        self.statuses: dict[str, int] = {}
        self.clients: dict[str, Client] = {}
        self.client_specs: dict[str, ClientSpec] = {c.key: c for c in CLIENTS}
        self.contacts: dict[str, list[Contact]] = {}
        self.projects: list[tuple[ProjectSpec, Project, list[tuple[TaskSpec, Task]]]] = []
        self.time_entries: list[TimeEntry] = []
        self.expenses: list[tuple[Expense, str]] = []  # (expense, client key)
        self.activities: list[Activity] = []
        self.invoices: list[tuple[InvoiceSpec, Invoice]] = []
        self.meetings: list[tuple[str, Meeting]] = []

    # ---- clock
    def day(self, offset: int) -> dt.date:
        return self.today + dt.timedelta(days=offset)

    def at(self, days_ago: int, hour: int = 10, minute: int = 0) -> dt.datetime:
        """A moment in the past (never later than now)."""
        moment = dt.datetime.combine(self.day(-days_ago), dt.time(hour, minute), UTC)
        return min(moment, self.now)

    def ahead(self, days: int, hour: int = 10) -> dt.datetime:
        return dt.datetime.combine(self.day(days), dt.time(hour), UTC)

    def became_on(self, spec: ClientSpec) -> dt.date:
        if spec.became == "month":
            return self.today.replace(day=1)
        if spec.became == "quarter":
            quarter_start = dt.date(self.today.year, 3 * ((self.today.month - 1) // 3) + 1, 1)
            return max(quarter_start, self.day(-40))
        return self.day(-int(spec.became))

    def ago(self, date: dt.date) -> int:
        return (self.today - date).days

    # ---- lookups
    def user(self, key: str) -> User:
        return self.staff.get(key) or self.portal[key]

    def staff_by_id(self, user_id: int | None) -> User | None:
        return next((u for u in self.staff.values() if u.id == user_id), None)

    def staff_member(self, user_id: int | None) -> User:
        """The staff member with this id, who must exist (an account manager, a time entry's author)."""
        return known(self.staff_by_id(user_id))

    def client_by_id(self, client_id: int) -> Client:
        return next(c for c in self.clients.values() if c.id == client_id)

    # ---- the activity feed
    def log(
        self,
        kind: ActivityKind,
        client: Client | None,
        when: dt.datetime,
        summary: str,
        *,
        actor: User | None = None,
        subject: object | None = None,
        visible: bool = False,
        on_behalf_of: User | None = None,
    ) -> None:
        self.activities.append(
            Activity(
                client_id=client.id if client else None,
                actor_id=actor.id if actor else None,
                on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
                kind=kind,
                subject_type=type(subject).__name__ if subject is not None else None,
                subject_id=getattr(subject, "id", None),
                summary=summary[:500],
                client_visible=visible,
                occurred_at=when,
            )
        )
