"""Benchmark the API against a hand-written SQL floor, through the real ASGI app over HTTP.

    python bench/run.py --db sqlite --clients 500
    python bench/run.py --db postgresql --clients 500 --results bench/RESULTS.md

Builds a synthetic agency (bench/agency.py) in a fresh database (SQLite: a temp file;
PostgreSQL: the `agency_bench` database, its public schema dropped first), serves the app
with uvicorn on 127.0.0.1 in a thread of this process (so an engine event listener counts
the SQL statements of each request), and times each operation with httpx. The floor of an
operation is the same data fetched with the fewest statements through the same engine and
driver (raw SQL, no ORM, no GraphQL) and encoded with orjson, timed inside the server's loop.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import math
import os
import platform
import re
import shlex
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import orjson  # noqa: E402
import sqlalchemy as sa  # noqa: E402
import uvicorn  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from auth.passwords import hash_password  # noqa: E402
from bench import score_floor  # noqa: E402
from bench.agency import Agency, Shape, build_agency  # noqa: E402
from models.db import make_engine  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from server.app import create_app  # noqa: E402
from server.settings import Settings  # noqa: E402

PASSWORD = "bench-password-0123"
POSTGRES_URL = "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/agency_bench"


# --------------------------------------------------------------------------- the server, in a thread


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _ServerTiming:
    """Bench-only ASGI wrapper: while `on`, adds up the server-side time of each HTTP request,
    the time in AsyncSession.execute (SQL, driver and ORM rows) and in JSON encoding."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.on = False
        self.total = self.database = self.encoding = 0.0

    async def __call__(self, scope, receive, send) -> None:
        if not self.on or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        sent_at = None

        async def timed_send(message) -> None:
            nonlocal sent_at
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                sent_at = time.perf_counter()

        try:
            await self.app(scope, receive, timed_send)
        finally:
            # Up to the last byte handed to uvicorn; closing the request's session comes after.
            self.total += (sent_at or time.perf_counter()) - start

    def patch(self) -> Callable[[], None]:
        from sqlalchemy.ext.asyncio import AsyncSession

        from server.app import AgencyGraphQL

        execute, encode = AsyncSession.execute, AgencyGraphQL.encode_json
        timing = self

        async def timed_execute(session, *args, **kwargs):
            start = time.perf_counter()
            try:
                return await execute(session, *args, **kwargs)
            finally:
                timing.database += time.perf_counter() - start

        def timed_encode(view, data):
            start = time.perf_counter()
            try:
                return encode(view, data)
            finally:
                timing.encoding += time.perf_counter() - start

        # Patched on the classes (every session and the one view), put back by the returned undo.
        patches = contextlib.ExitStack()
        patches.enter_context(mock.patch.object(AsyncSession, "execute", timed_execute))
        patches.enter_context(mock.patch.object(AgencyGraphQL, "encode_json", timed_encode))
        return patches.close


class InProcessServer:
    """uvicorn serving the real app on its own event loop; every SQL statement is counted."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.statements = 0
        self.captured: list[tuple[str, Any]] | None = None
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._on_execute)
        # No outbox drainer, webhook deliverer or scheduled jobs: their statements would be counted
        # against the requests being measured (a webhook tick landed inside 2 of 30 dashboard requests).
        settings = Settings(
            AGENCY_SECRET_KEY="bench-signing-key-" + "x" * 40,
            DATABASE_URL=url,
            AGENCY_OUTBOX_INTERVAL=0,
            AGENCY_WEBHOOK_INTERVAL=0,
            AGENCY_JOBS_INTERVAL=0,
        )
        self.timing = _ServerTiming(create_app(settings, engine=self.engine))
        app = self.timing
        self.port = _free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name="bench-server", daemon=True)

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements += 1
        if self.captured is not None:
            self.captured.append((statement, parameters))

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the server's loop (the engine's connections belong to it)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def stop(self) -> None:
        self.run(self.engine.dispose())
        self.server.should_exit = True
        self.thread.join(timeout=30)


# --------------------------------------------------------------------------- the operations

CLIENTS_PAGE = """query ClientsPage { clients(first: 50) { totalCount edges { node {
  id name logoUrl tier status { name category } primaryContact { fullName email } accountManager { fullName }
  activeProjectCount outstandingAmount lastInteractionAt accountValue } } } }"""

CLIENT_RECORD = """query ClientRecord($id: ID!) {
  client(id: $id) {
    id name logoUrl website billingAddress industry tier becameClientOn lastProjectOn internalNotes
    status { name category } accountManager { fullName email } primaryContact { fullName email phone }
    outstandingAmount accountValue
    projects { id name status health startDate endDate budget }
    contacts { id fullName email title isDecisionMaker isPrimary hasPortalAccess }
    invoices { number status issueDate dueDate total amountDue isOverdue payments { amount receivedOn } }
    payments { amount receivedOn method }
    opportunities { title stage value }
    interactions { kind summary occurredAt }
    meetings { title startsAt status }
    activity(first: 20) { totalCount edges { node { kind summary occurredAt actor { fullName } } } }
  }
  clientReport(clientId: $id) {
    portfolio { total completed cancelled successRate byStatus { status count } }
    financial { totalInvoiced invoiceCount averageProjectValue }
    time { totalHours billableHours nonBillableHours byProject { project { name } hours billableHours } }
    profitability { revenue laborCost expenses profit margin }
    utilization { user { fullName } hours billableHours laborCost }
  }
}"""

DASHBOARD = """query Dashboard { clientsDashboard {
  breakdown { total byStatus { status { name } count } byCategory { category count } newThisMonth newThisQuarter
              growth { month newClients totalClients } }
  projects { totalProjects activeProjects averagePerClient distribution { projects clients }
             byStatus { status count } byHealth { health count } }
  financial { totalOutstanding totalRevenue payingClients averageClientValue topClients { client { name } revenue }
              revenueTrend { month invoiced received } }
  health {
    overduePayments { count clients { client { name } amountOverdue overdueInvoices oldestDueDate } }
    noRecentActivity { count clients { client { name } lastActivityAt } }
    noRecentPortalLogin { count clients { client { name } lastPortalLoginAt } }
    atRiskProjects { count clients { client { name } atRiskProjects offTrackProjects } }
    readyForUpsell { count clients { client { name } reasons openOpportunityValue } }
    scopeReductions { count clients { client { name } reductions budgetCuts cancellations changes } }
  }
  engagement {
    portalLogins { totalLogins clientsWithLogins averagePerClient clients { client { name } logins lastLoginAt } }
    lastInteractions { clientsContacted clients { client { name } lastInteractionAt } }
    responseTimes { answeredReplies unansweredReplies averageHours clients { client { name } averageHours } }
    clientResponseTimes { answeredReplies unansweredReplies averageHours
                          clients { client { name } answeredReplies unansweredReplies averageHours } }
    satisfaction { responses nps averageScore clients { client { name } nps } }
  }
  retention { retentionRate annualChurnRate clientLifetimeValue }
  healthScores { clientsScored averageScore distribution { band count }
                 lowest { client { name } health { score band reasons { signal value points } } } }
  capacity { start end totalHours members { user { fullName } hours billableHours billableShare hoursPerWeek
             clients projects byClient { client { name } hours } } }
} }"""

CLIENTS_PAGE_SCORE = CLIENTS_PAGE.replace("accountValue }", "accountValue healthScore { score band } }", 1)
assert CLIENTS_PAGE_SCORE != CLIENTS_PAGE

PORTAL_HOME = """query PortalHome { portalHome {
  client { name } canBookMeetings
  openTasks { title status dueDate }
  recentReplies { body createdAt }
  openInvoices { number dueDate amountDue }
} }"""

NESTED = """query Nested { clients(first: 50) { edges { node {
  id name website createdAt
  projects { id name status startDate tasks { id title status dueDate } }
} } } }"""


def _gid(type_name: str, row_id: int) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


async def _rows(engine: AsyncEngine, sql: str, **params: Any) -> Sequence[Any]:
    async with engine.connect() as conn:
        return (await conn.execute(sa.text(sql), params)).all()


def _json_default(value: Any) -> Any:
    return str(value)


def _encode(data: Any) -> bytes:
    return orjson.dumps({"data": data}, default=_json_default)


# The floors: hand-written SQL, the fewest statements for the same data, rows to JSON.

FLOOR_CLIENTS_PAGE = """
SELECT c.id, c.name, c.logo_url, c.tier, s.name, s.category, pc.full_name, pc.email, am.full_name,
  (SELECT count(*) FROM project p WHERE p.client_id = c.id AND p.status = 'ACTIVE'),
  (SELECT coalesce(sum(l.amount + l.tax_amount), 0) FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id
    WHERE i.client_id = c.id AND i.status = 'SENT')
  - (SELECT coalesce(sum(y.amount), 0) FROM payment y JOIN invoice i ON i.id = y.invoice_id
    WHERE i.client_id = c.id AND i.status = 'SENT'),
  c.last_interaction_at,
  (SELECT coalesce(sum(y.amount), 0) FROM payment y JOIN invoice i ON i.id = y.invoice_id
    WHERE i.client_id = c.id AND i.status <> 'VOID'),
  count(*) OVER ()
FROM client c JOIN client_status s ON s.id = c.status_id
LEFT JOIN contact pc ON pc.client_id = c.id AND pc.is_primary
LEFT JOIN user_account am ON am.id = c.account_manager_id
ORDER BY lower(c.name), c.id LIMIT 50
"""


async def floor_clients_page(engine: AsyncEngine, ctx: dict) -> bytes:
    rows = await _rows(engine, FLOOR_CLIENTS_PAGE)
    edges = [
        {
            "node": {
                "id": _gid("Client", r[0]),
                "name": r[1],
                "logoUrl": r[2],
                "tier": r[3],
                "status": {"name": r[4], "category": r[5]},
                "primaryContact": None if r[6] is None else {"fullName": r[6], "email": r[7]},
                "accountManager": None if r[8] is None else {"fullName": r[8]},
                "activeProjectCount": r[9],
                "outstandingAmount": r[10],
                "lastInteractionAt": r[11],
                "accountValue": r[12],
            }
        }
        for r in rows
    ]
    return _encode({"clients": {"totalCount": rows[0][13] if rows else 0, "edges": edges}})


def _clients_page_score_sql(dialect: str) -> str:
    """The Clients list page and each row's health score in one statement: the page's 50 clients
    first, every signal narrowed to them, then the page's columns as in FLOOR_CLIENTS_PAGE."""
    return f"""WITH page AS (SELECT id FROM client ORDER BY lower(name), id LIMIT 50),
scope_clients AS (SELECT id FROM page),
{score_floor.signal_ctes(dialect, keep="IN (SELECT id FROM page)")}
SELECT c.id, c.name, c.logo_url, c.tier, s.name, s.category, pc.full_name, pc.email, am.full_name,
  (SELECT count(*) FROM project p WHERE p.client_id = c.id AND p.status = 'ACTIVE'),
  (SELECT coalesce(sum(l.amount + l.tax_amount), 0) FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id
    WHERE i.client_id = c.id AND i.status = 'SENT')
  - (SELECT coalesce(sum(y.amount), 0) FROM payment y JOIN invoice i ON i.id = y.invoice_id
    WHERE i.client_id = c.id AND i.status = 'SENT'),
  c.last_interaction_at,
  (SELECT coalesce(sum(y.amount), 0) FROM payment y JOIN invoice i ON i.id = y.invoice_id
    WHERE i.client_id = c.id AND i.status <> 'VOID'),
  (SELECT count(*) FROM client), b.score, b.band
FROM page JOIN client c ON c.id = page.id JOIN client_status s ON s.id = c.status_id
LEFT JOIN contact pc ON pc.client_id = c.id AND pc.is_primary
LEFT JOIN user_account am ON am.id = c.account_manager_id
LEFT JOIN banded b ON b.client_id = c.id
ORDER BY lower(c.name), c.id"""


async def floor_clients_page_score(engine: AsyncEngine, ctx: dict) -> bytes:
    sql = score_floor.statement(_clients_page_score_sql(engine.dialect.name))
    async with engine.connect() as conn:
        rows = (await conn.execute(sql, score_floor.parameters(dt.datetime.now(dt.UTC)))).all()
    edges = [
        {
            "node": {
                "id": _gid("Client", r[0]),
                "name": r[1],
                "logoUrl": r[2],
                "tier": r[3],
                "status": {"name": r[4], "category": r[5]},
                "primaryContact": None if r[6] is None else {"fullName": r[6], "email": r[7]},
                "accountManager": None if r[8] is None else {"fullName": r[8]},
                "activeProjectCount": r[9],
                "outstandingAmount": r[10],
                "lastInteractionAt": r[11],
                "accountValue": r[12],
                "healthScore": None if r[14] is None else {"score": r[14], "band": r[15]},
            }
        }
        for r in rows
    ]
    return _encode({"clients": {"totalCount": rows[0][13] if rows else 0, "edges": edges}})


def _scores_of_page(body: bytes, path: tuple[str, ...]) -> list[tuple[str, Any]]:
    data = orjson.loads(body)["data"]
    for key in path:
        data = data[key]
    return [(e["node"]["id"], e["node"]["healthScore"]) for e in data["edges"]]


def check_clients_page_score(api: bytes, floor: bytes) -> None:
    """The floor's page is the API's: the same clients in the same order, each with the same score and band."""
    ours, theirs = _scores_of_page(api, ("clients",)), _scores_of_page(floor, ("clients",))
    if ours != theirs:
        diff = [(a, b) for a, b in zip(ours, theirs, strict=False) if a != b][:5]
        raise RuntimeError(f"clients_page_score: the floor's scores differ from the API's: {diff}")


FLOOR_NESTED = """
SELECT c.id, c.name, c.website, c.created_at, p.id, p.name, p.status, p.start_date, t.id, t.title, t.status, t.due_date
FROM (SELECT id, name, website, created_at FROM client ORDER BY lower(name), id LIMIT 50) c
LEFT JOIN project p ON p.client_id = c.id
LEFT JOIN task t ON t.project_id = p.id
ORDER BY lower(c.name), c.id, p.start_date DESC, p.id DESC, t.position, t.id
"""


async def floor_nested(engine: AsyncEngine, ctx: dict) -> bytes:
    clients: dict[int, dict] = {}
    projects: dict[int, dict] = {}
    for cid, cname, web, created, pid, pname, pstatus, pstart, tid, title, tstatus, due in await _rows(
        engine, FLOOR_NESTED
    ):
        client = clients.get(cid)
        if client is None:
            client = clients[cid] = {
                "id": _gid("Client", cid),
                "name": cname,
                "website": web,
                "createdAt": created,
                "projects": [],
            }
        if pid is None:
            continue
        project = projects.get(pid)
        if project is None:
            project = projects[pid] = {
                "id": _gid("Project", pid),
                "name": pname,
                "status": pstatus,
                "startDate": pstart,
                "tasks": [],
            }
            client["projects"].append(project)
        if tid is not None:
            project["tasks"].append({"id": _gid("Task", tid), "title": title, "status": tstatus, "dueDate": due})
    return _encode({"clients": {"edges": [{"node": c} for c in clients.values()]}})


FLOOR_RECORD = {
    "client": """
SELECT c.id, c.name, c.logo_url, c.website, c.billing_address, c.industry, c.tier, c.became_client_on,
  (SELECT max(p.start_date) FROM project p WHERE p.client_id = c.id), c.internal_notes, s.name, s.category,
  am.full_name, am.email, pc.full_name, pc.email, pc.phone,
  (SELECT coalesce(sum(l.amount + l.tax_amount), 0) FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id
    WHERE i.client_id = c.id AND i.status = 'SENT')
  - (SELECT coalesce(sum(y.amount), 0) FROM payment y JOIN invoice i ON i.id = y.invoice_id
    WHERE i.client_id = c.id AND i.status = 'SENT'),
  (SELECT coalesce(sum(y.amount), 0) FROM payment y JOIN invoice i ON i.id = y.invoice_id
    WHERE i.client_id = c.id AND i.status <> 'VOID')
FROM client c JOIN client_status s ON s.id = c.status_id
LEFT JOIN user_account am ON am.id = c.account_manager_id
LEFT JOIN contact pc ON pc.client_id = c.id AND pc.is_primary
WHERE c.id = :id""",
    "projects": """SELECT id, name, status, health, start_date, end_date, budget FROM project WHERE client_id = :id
ORDER BY start_date DESC, id DESC""",
    "contacts": """SELECT k.id, k.full_name, k.email, k.title, k.is_decision_maker, k.is_primary,
  EXISTS (SELECT 1 FROM user_account u WHERE u.contact_id = k.id AND u.is_active)
FROM contact k WHERE k.client_id = :id ORDER BY k.is_primary DESC, k.full_name, k.id""",
    "invoices": """SELECT i.id, i.number, i.status, i.issue_date, i.due_date,
  (SELECT coalesce(sum(l.amount + l.tax_amount), 0) FROM invoice_line l WHERE l.invoice_id = i.id),
  (SELECT coalesce(sum(y.amount), 0) FROM payment y WHERE y.invoice_id = i.id)
FROM invoice i WHERE i.client_id = :id ORDER BY i.issue_date DESC, i.number DESC""",
    "payments": """SELECT y.invoice_id, y.amount, y.received_on, y.method
FROM payment y JOIN invoice i ON i.id = y.invoice_id
WHERE i.client_id = :id ORDER BY y.received_on DESC, y.id DESC""",
    "opportunities": (
        "SELECT title, stage, value FROM opportunity WHERE client_id = :id ORDER BY created_at DESC, id DESC"
    ),
    "interactions": (
        "SELECT kind, summary, occurred_at FROM interaction WHERE client_id = :id ORDER BY occurred_at DESC, id DESC"
    ),
    "meetings": "SELECT title, starts_at, status FROM meeting WHERE client_id = :id ORDER BY starts_at DESC, id DESC",
    "activity": """SELECT a.kind, a.summary, a.occurred_at, u.full_name, count(*) OVER () FROM activity a
LEFT JOIN user_account u ON u.id = a.actor_id WHERE a.client_id = :id
ORDER BY a.occurred_at DESC, a.id DESC LIMIT 20""",
    "invoiced": """SELECT coalesce(sum(l.amount + l.tax_amount), 0), count(DISTINCT i.id) FROM invoice i
JOIN invoice_line l ON l.invoice_id = i.id
WHERE i.client_id = :id AND i.status IN ('SENT', 'PAID')""",
    "time_by_project": """SELECT p.name, sum(t.hours), sum(CASE WHEN t.billable THEN t.hours ELSE 0 END),
  sum(t.hours * t.cost_rate)
FROM time_entry t JOIN project p ON p.id = t.project_id
WHERE p.client_id = :id GROUP BY p.id, p.name ORDER BY 2 DESC, p.id""",
    "time_by_user": """SELECT u.full_name, sum(t.hours), sum(CASE WHEN t.billable THEN t.hours ELSE 0 END),
  sum(t.hours * t.cost_rate)
FROM time_entry t JOIN project p ON p.id = t.project_id JOIN user_account u ON u.id = t.user_id
WHERE p.client_id = :id GROUP BY u.id, u.full_name ORDER BY 2 DESC, u.id""",
    "expenses": (
        "SELECT coalesce(sum(e.amount), 0) FROM expense e JOIN project p ON p.id = e.project_id WHERE p.client_id = :id"
    ),
}


async def floor_client_record(engine: AsyncEngine, ctx: dict) -> bytes:
    cid = ctx["client_id"]
    async with engine.connect() as conn:
        rows = {name: (await conn.execute(sa.text(sql), {"id": cid})).all() for name, sql in FLOOR_RECORD.items()}
    c = rows["client"][0]
    today = dt.date.today().isoformat()
    payments_by_invoice: dict[int, list] = defaultdict(list)
    for invoice_id, amount, received, _ in rows["payments"]:
        payments_by_invoice[invoice_id].append({"amount": amount, "receivedOn": received})
    by_status: dict[str, int] = defaultdict(int)
    for p in rows["projects"]:
        by_status[p[2]] += 1
    completed, cancelled = by_status["COMPLETED"], by_status["CANCELLED"]
    time_rows, user_rows = rows["time_by_project"], rows["time_by_user"]
    total_hours = sum(float(r[1]) for r in time_rows)
    billable = sum(float(r[2]) for r in time_rows)
    labor = sum(float(r[3]) for r in time_rows)
    revenue = float(c[18])
    expenses = float(rows["expenses"][0][0])
    counted = len(rows["projects"]) - cancelled
    record = {
        "client": {
            "id": _gid("Client", c[0]),
            "name": c[1],
            "logoUrl": c[2],
            "website": c[3],
            "billingAddress": c[4],
            "industry": c[5],
            "tier": c[6],
            "becameClientOn": c[7],
            "lastProjectOn": c[8],
            "internalNotes": c[9],
            "status": {"name": c[10], "category": c[11]},
            "accountManager": {"fullName": c[12], "email": c[13]},
            "primaryContact": {"fullName": c[14], "email": c[15], "phone": c[16]},
            "outstandingAmount": c[17],
            "accountValue": c[18],
            "projects": [
                {
                    "id": _gid("Project", p[0]),
                    "name": p[1],
                    "status": p[2],
                    "health": p[3],
                    "startDate": p[4],
                    "endDate": p[5],
                    "budget": p[6],
                }
                for p in rows["projects"]
            ],
            "contacts": [
                {
                    "id": _gid("Contact", k[0]),
                    "fullName": k[1],
                    "email": k[2],
                    "title": k[3],
                    "isDecisionMaker": k[4],
                    "isPrimary": k[5],
                    "hasPortalAccess": k[6],
                }
                for k in rows["contacts"]
            ],
            "invoices": [
                {
                    "number": i[1],
                    "status": i[2],
                    "issueDate": i[3],
                    "dueDate": i[4],
                    "total": i[5],
                    "amountDue": 0 if i[2] == "VOID" else i[5] - i[6],
                    "isOverdue": i[2] == "SENT" and str(i[4]) < today,
                    "payments": payments_by_invoice[i[0]],
                }
                for i in rows["invoices"]
            ],
            "payments": [{"amount": y[1], "receivedOn": y[2], "method": y[3]} for y in rows["payments"]],
            "opportunities": [{"title": o[0], "stage": o[1], "value": o[2]} for o in rows["opportunities"]],
            "interactions": [{"kind": i[0], "summary": i[1], "occurredAt": i[2]} for i in rows["interactions"]],
            "meetings": [{"title": m[0], "startsAt": m[1], "status": m[2]} for m in rows["meetings"]],
            "activity": {
                "totalCount": rows["activity"][0][4] if rows["activity"] else 0,
                "edges": [
                    {"node": {"kind": a[0], "summary": a[1], "occurredAt": a[2], "actor": {"fullName": a[3]}}}
                    for a in rows["activity"]
                ],
            },
        },
        "clientReport": {
            "portfolio": {
                "total": len(rows["projects"]),
                "completed": completed,
                "cancelled": cancelled,
                "successRate": completed / (completed + cancelled) if completed + cancelled else None,
                "byStatus": [{"status": s, "count": n} for s, n in by_status.items()],
            },
            "financial": {
                "totalInvoiced": rows["invoiced"][0][0],
                "invoiceCount": rows["invoiced"][0][1],
                "averageProjectValue": revenue / counted if counted else None,
            },
            "time": {
                "totalHours": total_hours,
                "billableHours": billable,
                "nonBillableHours": total_hours - billable,
                "byProject": [{"project": {"name": r[0]}, "hours": r[1], "billableHours": r[2]} for r in time_rows],
            },
            "profitability": {
                "revenue": revenue,
                "laborCost": labor,
                "expenses": expenses,
                "profit": revenue - labor - expenses,
                "margin": (revenue - labor - expenses) / revenue if revenue else None,
            },
            "utilization": [
                {"user": {"fullName": r[0]}, "hours": r[1], "billableHours": r[2], "laborCost": r[3]} for r in user_rows
            ],
        },
    }
    return _encode(record)


FLOOR_PORTAL = {
    "client": "SELECT name, portal_booking_enabled FROM client WHERE id = :client",
    "tasks": """SELECT t.title, t.status, t.due_date FROM task t JOIN project p ON p.id = t.project_id
WHERE p.client_id = :client AND t.visible_to_client AND t.status <> 'DONE'
ORDER BY t.due_date IS NULL, t.due_date, t.id LIMIT 20""",
    "replies": """SELECT m.body, m.created_at FROM comment m JOIN project p ON p.id = m.project_id
LEFT JOIN task t ON t.id = m.task_id
WHERE p.client_id = :client AND m.kind = 'REPLY' AND (m.task_id IS NULL OR t.visible_to_client)
ORDER BY m.created_at DESC, m.id DESC LIMIT 10""",
    "invoices": """SELECT i.number, i.due_date,
  (SELECT coalesce(sum(l.amount + l.tax_amount), 0) FROM invoice_line l WHERE l.invoice_id = i.id)
  - (SELECT coalesce(sum(y.amount), 0) FROM payment y WHERE y.invoice_id = i.id)
FROM invoice i WHERE i.client_id = :client AND i.status = 'SENT' ORDER BY i.due_date, i.number""",
}


async def floor_portal_home(engine: AsyncEngine, ctx: dict) -> bytes:
    async with engine.connect() as conn:
        rows = {
            k: (await conn.execute(sa.text(sql), {"client": ctx["portal_client_id"]})).all()
            for k, sql in FLOOR_PORTAL.items()
        }
    name, booking = rows["client"][0]
    return _encode(
        {
            "portalHome": {
                "client": {"name": name},
                "canBookMeetings": bool(booking),
                "openTasks": [{"title": t[0], "status": t[1], "dueDate": t[2]} for t in rows["tasks"]],
                "recentReplies": [{"body": r[0], "createdAt": r[1]} for r in rows["replies"]],
                "openInvoices": [{"number": i[0], "dueDate": i[1], "amountDue": i[2]} for i in rows["invoices"]],
            }
        }
    )


_SKIP = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK)|FROM user_account LEFT OUTER JOIN client", re.IGNORECASE)


async def floor_replay(engine: AsyncEngine, ctx: dict) -> bytes:
    """The dashboard's floor: its section aggregates are already one GROUP BY statement each, the
    fewest there can be short of gluing them together; replay them raw and encode the rows."""
    result = []
    async with engine.connect() as conn:
        for statement, parameters in ctx["replay"]:
            rows = (await conn.exec_driver_sql(statement, parameters)).all()
            result.append([tuple(r) for r in rows])
    return _encode(result)


_SCORE = re.compile(r"\bhealth_score_weight\b", re.IGNORECASE)
_BANDS = ("HEALTHY", "WATCH", "AT_RISK")


def _dashboard_scores_sql(dialect: str) -> str:
    """The dashboard's health score section in one statement: the bands' counts and score totals over
    the clients not churned, then the 10 lowest scores (the default `top`) with their signals."""
    columns = len(score_floor.SIGNALS) * 2
    return f"""WITH scope_clients AS (SELECT id FROM client
  WHERE status_id IN (SELECT id FROM client_status WHERE category <> 'CHURNED')),
{score_floor.signal_ctes(dialect)}
SELECT 0, band, count(*), sum(score), NULL{", NULL" * columns} FROM banded GROUP BY band
UNION ALL
SELECT * FROM (SELECT 1, b.band, b.score, b.client_id, c.name,
  {", ".join(f"b.v_{c}" for _, c, *_ in score_floor.SIGNALS)},
  {", ".join(f"b.p_{c}" for _, c, *_ in score_floor.SIGNALS)}
  FROM banded b JOIN client c ON c.id = b.client_id ORDER BY b.score, b.client_id LIMIT 10) lowest"""


async def floor_dashboard(engine: AsyncEngine, ctx: dict) -> bytes:
    """The dashboard's floor: the sections' own aggregates replayed raw (each already one GROUP BY
    statement), and the health score section as one hand-written statement (bench/score_floor.py)."""
    result = []
    async with engine.connect() as conn:
        for statement, parameters in ctx["replay"]:
            rows = (await conn.exec_driver_sql(statement, parameters)).all()
            result.append([tuple(r) for r in rows])
        sql = score_floor.statement(_dashboard_scores_sql(engine.dialect.name))
        scores = (await conn.execute(sql, score_floor.parameters(dt.datetime.now(dt.UTC)))).all()
    bands = {r[1]: (int(r[2]), int(r[3])) for r in scores if r[0] == 0}
    clients = sum(n for n, _ in bands.values())
    lowest = [
        {
            "client": {"name": r[4]},
            "health": {"score": r[2], "band": r[1], "reasons": score_floor.reasons(r, 5)},
        }
        for r in scores
        if r[0] == 1
    ]
    health = {
        "clientsScored": clients,
        "averageScore": round(sum(t for _, t in bands.values()) / clients, 1) if clients else None,
        "distribution": [{"band": b, "count": bands.get(b, (0, 0))[0]} for b in _BANDS],
        "lowest": lowest,
    }
    return _encode({"replay": result, "healthScores": health})


def check_dashboard(api: bytes, floor: bytes) -> None:
    """The floor's health score section is the API's, figure for figure."""
    ours = orjson.loads(api)["data"]["clientsDashboard"]["healthScores"]
    theirs = orjson.loads(floor)["data"]["healthScores"]
    if ours != theirs:
        raise RuntimeError(f"dashboard: the floor's health scores differ from the API's:\n{ours}\n{theirs}")


@dataclass
class Operation:
    name: str
    label: str
    query: str
    caller: str  # "staff" or "portal"
    floor: Callable[[AsyncEngine, dict], Awaitable[bytes]]
    runs: int
    variables: dict = field(default_factory=dict)
    # Compares the API's answer with the floor's (raises when they differ); run once before timing.
    check: Callable[[bytes, bytes], None] | None = None


def operations(runs: int) -> list[Operation]:
    slow = max(5, runs // 2)
    return [
        Operation(
            "clients_page", "Clients list page (50 rows, all columns)", CLIENTS_PAGE, "staff", floor_clients_page, runs
        ),
        Operation(
            "client_record", "Client record, every tab + its report", CLIENT_RECORD, "staff", floor_client_record, runs
        ),
        Operation(
            "clients_page_score",
            "Clients list page with health score and band",
            CLIENTS_PAGE_SCORE,
            "staff",
            floor_clients_page_score,
            runs,
            check=check_clients_page_score,
        ),
        Operation(
            "dashboard",
            "Clients Dashboard (every section, health score distribution)",
            DASHBOARD,
            "staff",
            floor_dashboard,
            slow,
            check=check_dashboard,
        ),
        Operation("portal_home", "Portal home page (CLIENT user)", PORTAL_HOME, "portal", floor_portal_home, runs),
        Operation(
            "nested", "clients(first: 50) → projects → tasks, 4 fields a level", NESTED, "staff", floor_nested, slow
        ),
    ]


# --------------------------------------------------------------------------- measuring


@dataclass
class Result:
    operation: Operation
    api_ms: list[float]
    api_statements: int
    floor_ms: list[float]
    floor_statements: int
    response_bytes: int
    floor_bytes: int


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _post(http: httpx.Client, url: str, op: Operation, token: str) -> bytes:
    response = http.post(
        url, json={"query": op.query, "variables": op.variables}, headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()
    body = response.content
    if b'"errors"' in body:
        raise RuntimeError(f"{op.name}: {body[:500]!r}")
    return body


def _login(http: httpx.Client, url: str, email: str) -> str:
    query = (
        "mutation($e: String!, $p: String!) "
        "{ login(email: $e, password: $p) { tokens { accessToken } errors { message } } }"
    )
    body = http.post(url, json={"query": query, "variables": {"e": email, "p": PASSWORD}}).json()
    return body["data"]["login"]["tokens"]["accessToken"]


async def _floor_body(server: InProcessServer, op: Operation, ctx: dict) -> bytes:
    return await op.floor(server.engine, ctx)


async def _timed_floor(server: InProcessServer, op: Operation, ctx: dict) -> tuple[float, int, int]:
    before = server.statements
    start = time.perf_counter()
    body = await op.floor(server.engine, ctx)
    return (time.perf_counter() - start) * 1000, server.statements - before, len(body)


def measure(server: InProcessServer, op: Operation, token: str, ctx: dict, warmup: int) -> Result:
    with httpx.Client(timeout=120) as http:
        for _ in range(warmup):
            _post(http, server.url, op, token)
        if op.floor in (floor_replay, floor_dashboard):
            server.captured = []
            _post(http, server.url, op, token)
            ctx["replay"] = [(s, p) for s, p in server.captured if not _SKIP.search(s)]
            server.captured = None
            if op.floor is floor_dashboard:
                # The health score's statements (distribution and lowest) are the hand-written one's to answer.
                if not any(_SCORE.search(r[0]) for r in ctx["replay"]):
                    raise RuntimeError("dashboard: no health score statement to leave out of the replay")
                ctx["replay"] = [r for r in ctx["replay"] if not _SCORE.search(r[0])]
        if op.check is not None:
            op.check(_post(http, server.url, op, token), server.run(_floor_body(server, op, ctx)))
        api_ms, counts, size = [], set(), 0
        for _ in range(op.runs):
            before = server.statements
            start = time.perf_counter()
            body = _post(http, server.url, op, token)
            api_ms.append((time.perf_counter() - start) * 1000)
            counts.add(server.statements - before)
            size = len(body)
    for _ in range(warmup):
        server.run(_timed_floor(server, op, ctx))
    floor = [server.run(_timed_floor(server, op, ctx)) for _ in range(op.runs)]
    if len(counts) != 1:
        raise RuntimeError(f"{op.name}: the statement count varied between runs: {sorted(counts)}")
    return Result(op, api_ms, counts.pop(), [f[0] for f in floor], floor[0][1], size, floor[0][2])


def breakdown(server: InProcessServer, op: Operation, token: str, runs: int) -> dict[str, float]:
    """Where one request's time goes, in ms (means over `runs` requests, no profiler attached)."""
    timing = server.timing
    undo = timing.patch()
    try:
        with httpx.Client(timeout=120) as http:
            _post(http, server.url, op, token)
            timing.total = timing.database = timing.encoding = 0.0
            timing.on = True
            start = time.perf_counter()
            for _ in range(runs):
                _post(http, server.url, op, token)
            client = time.perf_counter() - start
            timing.on = False
    finally:
        undo()
    # The same statements replayed raw through the driver: what the ORM rows add on top.
    with httpx.Client(timeout=120) as http:
        server.captured = []
        _post(http, server.url, op, token)
        replay = {"replay": [(st, pa) for st, pa in server.captured if not _SKIP.search(st)]}
        server.captured = None
    raw = (
        sum(
            server.run(_timed_floor(server, Operation("replay", "", "", "", floor_replay, 1), replay))[0]
            for _ in range(runs)
        )
        / runs
    )
    per = lambda seconds: seconds * 1000 / runs  # noqa: E731
    return {
        "request, as the client sees it": per(client),
        "HTTP: uvicorn, the socket and httpx (client time - app time)": per(client - timing.total),
        "SQL, driver and ORM rows (AsyncSession.execute)": per(timing.database),
        "  of which the same statements replayed raw, rows JSON-encoded": raw,
        "JSON encoding (orjson)": per(timing.encoding),
        "GraphQL: parse, validate, policy, resolvers, completion (the rest)": per(
            timing.total - timing.database - timing.encoding
        ),
    }


def profile(server: InProcessServer, op: Operation, token: str, runs: int, path: Path) -> None:
    """Profile the server thread (pyinstrument) while it answers `runs` requests of one operation."""
    # Only --profile needs pyinstrument, from bench/requirements.txt: the project does not depend on it.
    from pyinstrument import Profiler, renderers  # type: ignore[import-not-found]

    parts = breakdown(server, op, token, runs)
    table_lines = ["| part | ms per request |", "|---|---:|", *(f"| {k} | {v:.1f} |" for k, v in parts.items())]
    print("\n".join(table_lines))

    profiler = Profiler(interval=0.0005, async_mode="disabled")

    async def start() -> None:
        profiler.start()

    async def stop() -> None:
        profiler.stop()

    with httpx.Client(timeout=120) as http:
        _post(http, server.url, op, token)
        server.run(start())
        for _ in range(runs):
            _post(http, server.url, op, token)
        server.run(stop())

    session = profiler.last_session
    flat = renderers.ConsoleRenderer(unicode=True, flat=True, flat_time="self", time="percent_of_total").render(session)
    tree = renderers.ConsoleRenderer(unicode=True, show_all=False).render(session)
    path.write_text(
        f"# {op.label}: {runs} requests\n\n## Breakdown (no profiler attached)\n\n"
        + "\n".join(table_lines)
        + "\n\n## Self time by function (pyinstrument; its hooks inflate call-heavy code)\n"
        + f"{flat}\n\n## Call tree\n{tree}"
    )


# --------------------------------------------------------------------------- the database


async def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        await conn.exec_driver_sql("CREATE SCHEMA public")
    await engine.dispose()


async def _build(url: str, shape: Shape) -> tuple[Agency, float, str]:
    engine = make_engine(url)
    try:
        start = time.perf_counter()
        agency = await build_agency(engine, shape, password_hash=hash_password(PASSWORD), tag="bench")
        elapsed = time.perf_counter() - start
        async with engine.connect() as conn:
            version = await conn.scalar(
                sa.text("SELECT sqlite_version()" if url.startswith("sqlite") else "SHOW server_version")
            )
            if url.startswith("postgresql"):
                await conn.exec_driver_sql("ANALYZE")
        return agency, elapsed, str(version)
    finally:
        await engine.dispose()


def fresh_database(kind: str) -> str:
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="agency-bench-")) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = os.environ.get("BENCH_DATABASE_URL", POSTGRES_URL)
        asyncio.run(_reset_postgres(url))
    upgrade(url)
    return url


# --------------------------------------------------------------------------- report


def table(results: list[Result]) -> str:
    lines = [
        "| operation | API p50 ms | API p95 ms | SQL statements | floor p50 ms | floor p95 ms | floor statements"
        " | API / floor (p50) | response KB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.operation.label} | {p50(r.api_ms):.1f} | {p95(r.api_ms):.1f} | {r.api_statements} | "
            f"{p50(r.floor_ms):.1f} | {p95(r.floor_ms):.1f} | {r.floor_statements} | "
            f"{p50(r.api_ms) / p50(r.floor_ms):.1f}x | {r.response_bytes / 1024:.1f} |"
        )
    return "\n".join(lines)


def section(
    kind: str,
    command: str,
    version: str,
    shape: Shape,
    agency: Agency,
    build_s: float,
    results: list[Result],
    runs: int,
) -> str:
    rows = ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in agency.rows.items())
    return "\n".join(
        [
            f"<!-- bench:{kind} -->",
            f"### {'SQLite' if kind == 'sqlite' else 'PostgreSQL'} {version}",
            "",
            "```sh",
            command,
            "```",
            "",
            f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs "
            f"(load average {os.getloadavg()[0]:.1f} at the end), Python {platform.python_version()}; "
            f"agency built in {build_s:.1f} s: {rows}. "
            f"{runs} runs per operation after warm-up ({max(5, runs // 2)} for the dashboard and the nested list).",
            "",
            table(results),
            f"<!-- /bench:{kind} -->",
        ]
    )


def write_results(path: Path, kind: str, text: str) -> None:
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"<!-- bench:{kind} -->.*?<!-- /bench:{kind} -->", re.DOTALL)
    new = pattern.sub(lambda _: text, old) if pattern.search(old) else old.rstrip() + "\n\n" + text + "\n"
    path.write_text(new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--projects", type=int, default=5, help="per client")
    parser.add_argument("--tasks", type=int, default=20, help="per project")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per operation (half for the slow ones)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="operation names to run")
    parser.add_argument("--results", type=Path, help="write the table into this markdown file (its section for --db)")
    parser.add_argument("--profile", help="profile this operation on the server thread with pyinstrument")
    parser.add_argument("--profile-runs", type=int, default=10)
    args = parser.parse_args(argv)
    command = "python bench/run.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))

    shape = Shape(clients=args.clients, projects_per_client=args.projects, tasks_per_project=args.tasks)
    url = fresh_database(args.db)
    agency, build_s, version = asyncio.run(_build(url, shape))
    print(f"built {agency.rows} in {build_s:.1f} s", file=sys.stderr)

    server = InProcessServer(url)
    server.start()
    try:
        with httpx.Client(timeout=60) as http:
            staff = _login(http, server.url, agency.manager_email)
            portal_email = agency.portal_emails[len(agency.portal_emails) // 2]
            portal = _login(http, server.url, portal_email)
        record_client = agency.client_ids[len(agency.client_ids) // 2]
        portal_client = agency.client_ids[2 * (len(agency.portal_emails) // 2)]
        ctx = {"client_id": record_client, "portal_client_id": portal_client}
        results = []
        for op in operations(args.runs):
            if args.only and op.name not in args.only:
                continue
            if op.name == "client_record":
                op.variables = {"id": _gid("Client", record_client)}
            token = portal if op.caller == "portal" else staff
            results.append(measure(server, op, token, ctx, args.warmup))
            print(f"measured {op.name}", file=sys.stderr)
        text = section(args.db, command, version, shape, agency, build_s, results, args.runs)
        print(table(results))
        if args.results:
            write_results(args.results, args.db, text)
        if args.profile:
            op = next(o for o in operations(args.runs) if o.name == args.profile)
            if op.name == "client_record":
                op.variables = {"id": _gid("Client", record_client)}
            out = ROOT / "bench" / f"profile-{args.db}-{op.name}.txt"
            profile(server, op, portal if op.caller == "portal" else staff, args.profile_runs, out)
            print(f"profile written to {out}", file=sys.stderr)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
