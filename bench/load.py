"""A bounded mixed load against a real server process: throughput, latency, errors, lost writes, memory.

    python bench/load.py                                   # SQLite, stages 4,16,64, 20 s each
    python bench/load.py --stages 4,16,64 --seconds-per-stage 20 --json load.json
    python bench/load.py --database-url postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/agency_load \\
        --reset-database --workers 2
    python bench/load.py --soak 600 --soak-concurrency 16   # memory over ten minutes, after a warm-up

It starts `agency serve --demo` itself (`python -m server.cli`, the project's CLI, so uvicorn exactly
as shipped, from this checkout or `--checkout DIR`) in its own process group on a free port of
127.0.0.1, with a fresh SQLite file in a temporary directory unless `--database-url` names another
store (PostgreSQL: `--reset-database` drops its public schema first, else the demo is loaded only into
an empty database), and signs in the demo users it prints. `--workers N` is passed on when
`agency serve` has that option; when it has not, the run says so and uses one process.

The mix (weights in MIX below; `--write-share` sets the share of writes): every demo sign-in (ADMIN,
both MANAGERs, the three MEMBERs and both CLIENT portal users) signs in through the `login` mutation
and reads what its role reads in the product (the Clients list page, a client record, the Clients
Dashboard, the nested clients -> projects -> tasks list, the portal home page), each query shaped to
the fields the role may read, so a healthy server answers every read with no error at all. Staff
write (createClient, createTask, logTime, addComment NOTE and REPLY, logInteraction); portal users
add REPLYs on their own visible tasks. Every write carries a unique marker (in a name, title, body,
description or summary); each one the server acknowledges (a payload with the row and no errors) is
read back from the database after the stage, by id and marker: a missing row or a different marker
is an acknowledged-but-lost write.

Per stage (concurrency C: C tasks, each sending its next request when the last one is answered,
for `--seconds-per-stage` or until `--requests-per-stage` in all): requests, throughput, p50 / p99
latency, HTTP 5xx, other HTTP errors, transport errors (connection reset, timeout), unhandled
GraphQL errors (message "Unexpected error." or no `extensions.code`), typed errors by code, writes
acknowledged / refused / lost, and the resident memory (VmRSS from /proc, the server process and
its children summed) before, after and at its peak. The distinct error messages seen, and the
exception lines the server logged during the stage, are listed under the table.

The load generator runs on the same machine as the server and takes CPU from it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import random
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import orjson  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402

UNEXPECTED = "Unexpected error."

# --------------------------------------------------------------------------- the queries

LOGIN = """mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { tokens { accessToken } errors { code message } } }"""

# ADMIN and MANAGER: every column of the guide's Clients list.
CLIENTS_PAGE_STAFF = """query ClientsPage { clients(first: 50) { totalCount edges { node {
  id name logoUrl tier status { name category } primaryContact { fullName email } accountManager { fullName }
  activeProjectCount outstandingAmount lastInteractionAt accountValue } } } }"""

# MEMBER: no money owed (FINANCE).
CLIENTS_PAGE_MEMBER = """query ClientsPage { clients(first: 50) { totalCount edges { node {
  id name logoUrl tier status { name category } primaryContact { fullName email } accountManager { fullName }
  activeProjectCount lastInteractionAt accountValue } } } }"""

# CLIENT: its own row, public and finance columns only.
CLIENTS_PAGE_PORTAL = """query ClientsPage { clients(first: 50) { totalCount edges { node {
  id name logoUrl primaryContact { fullName email } accountManager { fullName }
  activeProjectCount outstandingAmount } } } }"""

CLIENT_RECORD_STAFF = """query ClientRecord($id: ID!) {
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

CLIENT_RECORD_MEMBER = """query ClientRecord($id: ID!) {
  client(id: $id) {
    id name logoUrl website billingAddress industry tier becameClientOn lastProjectOn internalNotes
    status { name category } accountManager { fullName email } primaryContact { fullName email phone }
    accountValue
    projects { id name status health startDate endDate }
    contacts { id fullName email title isDecisionMaker isPrimary hasPortalAccess }
    opportunities { title stage value }
    interactions { kind summary occurredAt }
    meetings { title startsAt status }
    activity(first: 20) { totalCount edges { node { kind summary occurredAt actor { fullName } } } }
  }
  clientReport(clientId: $id) {
    portfolio { total completed cancelled successRate byStatus { status count } }
    time { totalHours billableHours nonBillableHours byProject { project { name } hours billableHours } }
    utilization { user { fullName } hours billableHours }
  }
}"""

CLIENT_RECORD_PORTAL = """query ClientRecord($id: ID!) { client(id: $id) {
  id name logoUrl website primaryContact { fullName email phone } outstandingAmount
  projects { id name status startDate endDate
             tasks { id title status dueDate comments { kind body createdAt author { fullName } } } }
  contacts { id fullName email title }
  invoices { number status issueDate dueDate total amountDue isOverdue payments { amount receivedOn } }
  meetings { title startsAt status } } }"""

# ADMIN and MANAGER: every section.
DASHBOARD_STAFF = """query Dashboard { clientsDashboard {
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
  }
  engagement {
    portalLogins { totalLogins clientsWithLogins averagePerClient clients { client { name } logins lastLoginAt } }
    lastInteractions { clientsContacted clients { client { name } lastInteractionAt } }
    responseTimes { answeredReplies unansweredReplies averageHours clients { client { name } averageHours } }
    satisfaction { responses nps averageScore clients { client { name } nps } }
  }
  retention { retentionRate annualChurnRate clientLifetimeValue }
} }"""

# MEMBER: no money (the financial snapshot, overdue payments, upsell, lifetime value).
DASHBOARD_MEMBER = """query Dashboard { clientsDashboard {
  breakdown { total byStatus { status { name } count } byCategory { category count } newThisMonth newThisQuarter
              growth { month newClients totalClients } }
  projects { totalProjects activeProjects averagePerClient distribution { projects clients }
             byStatus { status count } byHealth { health count } }
  health {
    noRecentActivity { count clients { client { name } lastActivityAt } }
    noRecentPortalLogin { count clients { client { name } lastPortalLoginAt } }
    atRiskProjects { count clients { client { name } atRiskProjects offTrackProjects } }
  }
  engagement {
    portalLogins { totalLogins clientsWithLogins averagePerClient clients { client { name } logins lastLoginAt } }
    lastInteractions { clientsContacted clients { client { name } lastInteractionAt } }
    responseTimes { answeredReplies unansweredReplies averageHours clients { client { name } averageHours } }
    satisfaction { responses nps averageScore clients { client { name } nps } }
  }
  retention { retentionRate annualChurnRate }
} }"""

NESTED = """query Nested { clients(first: 50) { edges { node {
  id name website createdAt
  projects { id name status startDate tasks { id title status dueDate } }
} } } }"""

PORTAL_HOME = """query PortalHome { portalHome {
  client { name } canBookMeetings
  openTasks { id title status dueDate }
  recentReplies { body createdAt }
  openInvoices { number dueDate amountDue }
} }"""

# What the load needs to know before it starts: ids to read and write on.
DISCOVER = """query Discover { clients(first: 100) { edges { node { id projects { id status tasks { id } } } } } }"""

CREATE_CLIENT = """mutation CreateClient($input: CreateClientInput!) {
  createClient(input: $input) { client { id name } errors { field code message } } }"""

CREATE_TASK = """mutation CreateTask($input: CreateTaskInput!) {
  createTask(input: $input) { task { id title } errors { field code message } } }"""

LOG_TIME = """mutation LogTime($input: LogTimeInput!) {
  logTime(input: $input) { timeEntry { id description } errors { field code message } } }"""

ADD_COMMENT = """mutation AddComment($kind: CommentKind!, $body: String!, $taskId: ID) {
  addComment(kind: $kind, body: $body, taskId: $taskId) { comment { id body } errors { field code message } } }"""

LOG_INTERACTION = """mutation LogInteraction($clientId: ID!, $summary: String!, $at: DateTime!) {
  logInteraction(clientId: $clientId, kind: CALL, summary: $summary, occurredAt: $at) {
    interaction { id summary } errors { field code message } } }"""

# A written row's global id type -> (table, the column that holds the write's marker).
MARKED = {
    "Client": ("client", "name"),
    "Task": ("task", "title"),
    "TimeEntry": ("time_entry", "description"),
    "Comment": ("comment", "body"),
    "Interaction": ("interaction", "summary"),
}


def gid(type_name: str, row_id: int) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def parse_gid(global_id: str) -> tuple[str, int]:
    type_name, _, row_id = base64.b64decode(global_id).decode().partition(":")
    return type_name, int(row_id)


# --------------------------------------------------------------------------- who calls, and the mix


@dataclass
class Caller:
    email: str
    role: str
    token: str = ""
    client_ids: list[str] = field(default_factory=list)  # global ids it may read
    projects: list[tuple[str, list[str]]] = field(default_factory=list)  # (project id, its task ids)

    @property
    def task_ids(self) -> list[str]:
        return [t for _, tasks in self.projects for t in tasks]


@dataclass
class Request:
    op: str
    query: str
    variables: dict[str, Any]
    write: tuple[str, str, str] | None = None  # (payload field, node field, marker) for a write


@dataclass(frozen=True)
class Op:
    name: str
    roles: dict[str, float]  # role -> weight
    write: bool
    build: Callable[[Caller, random.Random, str], Request]


STAFF = ("ADMIN", "MANAGER", "MEMBER")


def _by_role(staff: str, member: str, portal: str | None) -> Callable[[Caller], str]:
    def pick(caller: Caller) -> str:
        if caller.role == "MEMBER":
            return member
        if caller.role == "CLIENT":
            assert portal is not None
            return portal
        return staff

    return pick


_page = _by_role(CLIENTS_PAGE_STAFF, CLIENTS_PAGE_MEMBER, CLIENTS_PAGE_PORTAL)
_record = _by_role(CLIENT_RECORD_STAFF, CLIENT_RECORD_MEMBER, CLIENT_RECORD_PORTAL)
_dashboard = _by_role(DASHBOARD_STAFF, DASHBOARD_MEMBER, None)


def _read(name: str, query_for: Callable[[Caller], str]) -> Callable[[Caller, random.Random, str], Request]:
    def build(caller: Caller, rng: random.Random, marker: str) -> Request:
        return Request(name, query_for(caller), {})

    return build


def _client_record(caller: Caller, rng: random.Random, marker: str) -> Request:
    return Request("client_record", _record(caller), {"id": rng.choice(caller.client_ids)})


def _create_client(caller: Caller, rng: random.Random, marker: str) -> Request:
    contact = {"fullName": f"Contact {marker}", "email": f"{marker}@load-test.example", "isDecisionMaker": True}
    variables = {"input": {"name": marker, "primaryContact": contact, "industry": "Load testing"}}
    return Request("create_client", CREATE_CLIENT, variables, ("createClient", "client", marker))


def _create_task(caller: Caller, rng: random.Random, marker: str) -> Request:
    project_id, _ = rng.choice(caller.projects)
    variables = {"input": {"projectId": project_id, "title": marker, "visibleToClient": rng.random() < 0.5}}
    return Request("create_task", CREATE_TASK, variables, ("createTask", "task", marker))


def _log_time(caller: Caller, rng: random.Random, marker: str) -> Request:
    project_id, tasks = rng.choice(caller.projects)
    entry: dict[str, Any] = {
        "projectId": project_id,
        # Spread over 90 days: one person logs at most 24 hours a day (DAY_OVER_24_HOURS).
        "workDate": (dt.date.today() - dt.timedelta(days=rng.randrange(90))).isoformat(),
        "hours": rng.choice(("0.25", "0.5", "1", "1.75")),
        "billable": rng.random() < 0.7,
        "description": marker,
    }
    if tasks and rng.random() < 0.7:
        entry["taskId"] = rng.choice(tasks)
    return Request("log_time", LOG_TIME, {"input": entry}, ("logTime", "timeEntry", marker))


def _staff_comment(caller: Caller, rng: random.Random, marker: str) -> Request:
    variables = {"kind": rng.choice(("NOTE", "REPLY")), "body": marker, "taskId": rng.choice(caller.task_ids)}
    return Request("add_comment", ADD_COMMENT, variables, ("addComment", "comment", marker))


def _portal_reply(caller: Caller, rng: random.Random, marker: str) -> Request:
    variables = {"kind": "REPLY", "body": marker, "taskId": rng.choice(caller.task_ids)}
    return Request("portal_reply", ADD_COMMENT, variables, ("addComment", "comment", marker))


def _log_interaction(caller: Caller, rng: random.Random, marker: str) -> Request:
    variables = {
        "clientId": rng.choice(caller.client_ids),
        "summary": marker,
        "at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }
    return Request("log_interaction", LOG_INTERACTION, variables, ("logInteraction", "interaction", marker))


# Weights within reads and within writes; --write-share sets the split between the two.
MIX: tuple[Op, ...] = (
    Op("clients_page", {"ADMIN": 2, "MANAGER": 3, "MEMBER": 3, "CLIENT": 3}, False, _read("clients_page", _page)),
    Op("client_record", {"ADMIN": 1, "MANAGER": 3, "MEMBER": 2, "CLIENT": 3}, False, _client_record),
    Op("dashboard", {"ADMIN": 1, "MANAGER": 1, "MEMBER": 1}, False, _read("dashboard", _dashboard)),
    Op("nested", {"ADMIN": 1, "MANAGER": 1, "MEMBER": 1, "CLIENT": 1}, False, _read("nested", lambda c: NESTED)),
    Op("portal_home", {"CLIENT": 4}, False, _read("portal_home", lambda c: PORTAL_HOME)),
    Op("create_client", {"ADMIN": 1, "MANAGER": 1, "MEMBER": 0.5}, True, _create_client),
    Op("create_task", {"MANAGER": 2, "MEMBER": 1}, True, _create_task),
    Op("log_time", {"MANAGER": 1, "MEMBER": 3}, True, _log_time),
    Op("add_comment", {"MANAGER": 1, "MEMBER": 2}, True, _staff_comment),
    Op("log_interaction", {"MANAGER": 1}, True, _log_interaction),
    Op("portal_reply", {"CLIENT": 3}, True, _portal_reply),
)


class Mix:
    """Picks (caller, request) pairs: an operation by weight, then a caller of one of its roles."""

    def __init__(self, callers: Sequence[Caller], write_share: float = 0.3, ops: Sequence[Op] = MIX) -> None:
        roles = {c.role for c in callers}
        self.callers = {role: [c for c in callers if c.role == role and self._usable(c)] for role in roles}
        entries: list[tuple[Op, str, float]] = []
        for op in ops:
            for role, weight in op.roles.items():
                if self.callers.get(role) and self._possible(op, self.callers[role]):
                    entries.append((op, role, weight))
        reads = sum(w for op, _, w in entries if not op.write)
        writes = sum(w for op, _, w in entries if op.write)
        self.entries = [
            (op, role, w * ((write_share / writes) if op.write else ((1 - write_share) / reads)))
            for op, role, w in entries
            if (writes if op.write else reads) > 0
        ]
        self.weights = [w for _, _, w in self.entries]
        self.run_tag = secrets.token_hex(3)
        self.sequence = 0

    @staticmethod
    def _usable(caller: Caller) -> bool:
        return bool(caller.token and caller.client_ids)

    @staticmethod
    def _possible(op: Op, callers: list[Caller]) -> bool:
        if op.name in ("create_task", "log_time"):
            return all(c.projects for c in callers)
        if op.name in ("add_comment", "portal_reply"):
            return all(c.task_ids for c in callers)
        return True

    def next(self, rng: random.Random) -> tuple[Caller, Request]:
        op, role, _ = rng.choices(self.entries, weights=self.weights)[0]
        caller = rng.choice(self.callers[role])
        self.sequence += 1
        marker = f"load-{self.run_tag}-{self.sequence:06d}"
        return caller, op.build(caller, rng, marker)


async def graphql(
    client: httpx.AsyncClient, url: str, query: str, variables: dict[str, Any] | None = None, token: str = ""
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(url, json={"query": query, "variables": variables or {}}, headers=headers)
    response.raise_for_status()
    body: dict[str, Any] = orjson.loads(response.content)
    return body


async def prepare(client: httpx.AsyncClient, url: str, sign_ins: Iterable[tuple[str, str, str]]) -> list[Caller]:
    """Sign every (email, password, role) in and find the ids each may read and write on."""
    callers = []
    for email, password, role in sign_ins:
        body = await graphql(client, url, LOGIN, {"email": email, "password": password})
        payload = (body.get("data") or {}).get("login") or {}
        if not payload.get("tokens"):
            raise RuntimeError(f"{email} could not sign in: {body}")
        caller = Caller(email, role, payload["tokens"]["accessToken"])
        found = await graphql(client, url, DISCOVER, token=caller.token)
        if found.get("errors"):
            raise RuntimeError(f"discovering {email}'s ids failed: {found['errors']}")
        for edge in found["data"]["clients"]["edges"]:
            node = edge["node"]
            caller.client_ids.append(node["id"])
            # Written on: projects still open to work (a cancelled or completed one refuses, rightly).
            caller.projects.extend(
                (p["id"], [t["id"] for t in p["tasks"]])
                for p in node["projects"]
                if p["status"] not in ("CANCELLED", "COMPLETED")
            )
        callers.append(caller)
    return callers


# --------------------------------------------------------------------------- running a stage


@dataclass
class Sample:
    op: str
    seconds: float
    status: int  # 0: no HTTP answer
    ok: bool  # answered 200 with no error of any kind
    problems: list[tuple[str, str]]  # (kind, message); kind: 5xx, http, transport, unhandled, typed, refused
    written: tuple[str, int, str] | None = None  # (type, row id, marker) of an acknowledged write
    size: int = 0  # bytes of the response body


def classify(request: Request, status: int, content: bytes) -> Sample:
    problems: list[tuple[str, str]] = []
    written = None
    if status >= 500:
        problems.append(("5xx", f"HTTP {status}: {content[:160].decode(errors='replace')}"))
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        if status < 500:
            problems.append(("http", f"HTTP {status}, not JSON: {content[:160].decode(errors='replace')}"))
        return Sample(request.op, 0.0, status, False, problems)
    if not isinstance(body, dict):
        problems.append(("http", f"HTTP {status}, not a JSON object: {content[:160].decode(errors='replace')}"))
        return Sample(request.op, 0.0, status, False, problems)
    if 400 <= status < 500:
        problems.append(("http", f"HTTP {status}"))
    for error in body.get("errors") or ():
        message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
        code = ((error.get("extensions") or {}).get("code") if isinstance(error, dict) else None) or None
        if message == UNEXPECTED or not code:
            problems.append(("unhandled", f"{request.op}: {message}"))
        else:
            problems.append(("typed", f"{code}: {message}"))
    if request.write is not None:
        payload_field, node_field, marker = request.write
        payload = (body.get("data") or {}).get(payload_field)
        if payload is not None:
            for error in payload.get("errors") or ():
                problems.append(("refused", f"{request.op}: {error.get('code')}: {error.get('message')}"))
            node = payload.get(node_field)
            if node is not None and not payload.get("errors"):
                type_name, row_id = parse_gid(node["id"])
                written = (type_name, row_id, marker)
    return Sample(request.op, 0.0, status, status == 200 and not problems, problems, written)


async def send(client: httpx.AsyncClient, url: str, caller: Caller, request: Request) -> Sample:
    start = time.perf_counter()
    try:
        response = await client.post(
            url,
            json={"query": request.query, "variables": request.variables},
            headers={"Authorization": f"Bearer {caller.token}"},
        )
    except httpx.HTTPError as error:
        message = f"{type(error).__name__}: {error}"[:200]
        return Sample(request.op, time.perf_counter() - start, 0, False, [("transport", message)])
    sample = classify(request, response.status_code, response.content)
    sample.seconds = time.perf_counter() - start
    sample.size = len(response.content)
    return sample


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of values; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class StageReport:
    name: str
    concurrency: int
    requests: int
    seconds: float
    throughput: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    ok: int
    http_5xx: int
    http_other: int
    transport: int
    unhandled: int
    typed: int
    writes_acknowledged: int
    writes_refused: int
    writes_lost: int
    rss_start_mb: float | None
    rss_end_mb: float | None
    rss_peak_mb: float | None
    typed_by_code: dict[str, int]
    by_op: dict[str, dict[str, float]]
    messages: dict[str, int]  # "kind: message" -> count
    lost: list[str]
    server_log: dict[str, int] = field(default_factory=dict)  # exception lines the server logged
    rss_samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds into the stage, MB)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


Verifier = Callable[[list[tuple[str, int, str]]], Awaitable[list[str]]]
RssReader = Callable[[], float | None]


async def run_stage(
    client: httpx.AsyncClient,
    url: str,
    mix: Mix,
    concurrency: int,
    *,
    requests: int | None = None,
    seconds: float | None = None,
    name: str = "",
    seed: int = 0,
    verify: Verifier | None = None,
    rss: RssReader | None = None,
    sample_every: float = 1.0,
) -> StageReport:
    """C tasks send requests back to back until `requests` have been sent or `seconds` have passed
    (whichever is given; both: whichever comes first); requests in flight at the deadline finish.
    Then the acknowledged writes are verified and memory is read."""
    if requests is None and seconds is None:
        raise ValueError("give requests or seconds")
    samples: list[Sample] = []
    claimed = 0
    start = time.perf_counter()
    deadline = start + seconds if seconds is not None else None
    rss_start = rss() if rss else None
    rss_samples: list[tuple[float, float]] = [(0.0, rss_start)] if rss_start is not None else []

    def claim() -> bool:
        nonlocal claimed
        if requests is not None and claimed >= requests:
            return False
        if deadline is not None and time.perf_counter() >= deadline:
            return False
        claimed += 1
        return True

    async def worker(index: int) -> None:
        rng = random.Random(seed * 1_000_003 + index)
        while claim():
            caller, request = mix.next(rng)
            samples.append(await send(client, url, caller, request))

    async def sampler() -> None:
        while rss is not None:
            await asyncio.sleep(sample_every)
            value = rss()
            if value is not None:
                rss_samples.append((round(time.perf_counter() - start, 1), value))

    sampling = asyncio.create_task(sampler())
    try:
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    finally:
        sampling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampling
    elapsed = time.perf_counter() - start
    rss_end = rss() if rss else None
    if rss_end is not None:
        rss_samples.append((round(elapsed, 1), rss_end))

    written = [s.written for s in samples if s.written is not None]
    lost = await verify(written) if verify is not None else []
    messages: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    typed_by_code: Counter[str] = Counter()
    for s in samples:
        for kind, message in s.problems:
            kinds[kind] += 1
            messages[f"{kind}: {message}"] += 1
            if kind == "typed":
                typed_by_code[message.split(":", 1)[0]] += 1
    by_op: dict[str, dict[str, float]] = {}
    for op in sorted({s.op for s in samples}):
        times = [s.seconds for s in samples if s.op == op]
        # Response sizes in the order answered: the first and last tenth tell whether the data
        # the responses carry grew during the stage (writes make lists longer).
        sizes = [s.size for s in samples if s.op == op]
        tenth = max(1, len(sizes) // 10)
        by_op[op] = {
            "requests": len(times),
            "failed": sum(1 for s in samples if s.op == op and not s.ok),
            "p50_ms": round(percentile(times, 50) * 1000, 1),
            "p99_ms": round(percentile(times, 99) * 1000, 1),
            "kb_first_tenth": round(sum(sizes[:tenth]) / tenth / 1024, 1),
            "kb_last_tenth": round(sum(sizes[-tenth:]) / tenth / 1024, 1),
        }
    times = [s.seconds for s in samples]
    return StageReport(
        name=name or f"c{concurrency}",
        concurrency=concurrency,
        requests=len(samples),
        seconds=round(elapsed, 2),
        throughput=round(len(samples) / elapsed, 1) if elapsed > 0 else 0.0,
        p50_ms=round(percentile(times, 50) * 1000, 1),
        p99_ms=round(percentile(times, 99) * 1000, 1),
        max_ms=round(max(times, default=0.0) * 1000, 1),
        ok=sum(1 for s in samples if s.ok),
        http_5xx=sum(1 for s in samples if s.status >= 500),
        http_other=sum(1 for s in samples if 0 < s.status != 200 and s.status < 500),
        transport=sum(1 for s in samples if s.status == 0),
        unhandled=kinds["unhandled"],
        typed=kinds["typed"],
        writes_acknowledged=len(written),
        writes_refused=kinds["refused"],
        writes_lost=len(lost),
        rss_start_mb=rss_start,
        rss_end_mb=rss_end,
        rss_peak_mb=max((v for _, v in rss_samples), default=None),
        typed_by_code=dict(typed_by_code),
        by_op=by_op,
        messages=dict(messages.most_common()),
        lost=lost[:50],
        rss_samples=rss_samples,
    )


# --------------------------------------------------------------------------- reading writes back


async def verify_writes(engine: AsyncEngine, written: list[tuple[str, int, str]]) -> list[str]:
    """Each acknowledged write, read back by id: the ones missing or carrying another marker."""
    by_type: dict[str, dict[int, str]] = {}
    lost: list[str] = []
    for type_name, row_id, marker in written:
        if type_name not in MARKED:
            lost.append(f"{type_name}:{row_id} ({marker}): no table known for the type")
            continue
        by_type.setdefault(type_name, {})[row_id] = marker
    async with engine.connect() as conn:
        for type_name, expected in by_type.items():
            table, column = MARKED[type_name]
            ids = sorted(expected)
            found: dict[int, str] = {}
            for i in range(0, len(ids), 500):
                statement = sa.text(f'SELECT id, "{column}" FROM "{table}" WHERE id IN :ids').bindparams(
                    sa.bindparam("ids", expanding=True)
                )
                rows = (await conn.execute(statement, {"ids": ids[i : i + 500]})).all()
                found.update({row[0]: row[1] for row in rows})
            for row_id in ids:
                if row_id not in found:
                    lost.append(f"{type_name}:{row_id} ({expected[row_id]}): no such row")
                elif found[row_id] != expected[row_id]:
                    lost.append(f"{type_name}:{row_id}: {column} is {found[row_id]!r}, not {expected[row_id]!r}")
    return lost


# --------------------------------------------------------------------------- the server process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def process_tree(root: int) -> list[int]:
    """root and every descendant, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _ppid(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def rss_mb(root: int) -> float | None:
    """VmRSS of root and its descendants, summed, in MB (None when root is gone)."""
    total_kb, seen = 0, False
    for pid in process_tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        if match:
            total_kb += int(match.group(1))
            seen = True
    return round(total_kb / 1024, 1) if seen else None


def agency_command(checkout: Path) -> tuple[list[str], dict[str, str]]:
    """The project's CLI (`agency`, i.e. server.cli) run from this checkout, and its environment."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(checkout), env.get("PYTHONPATH", "")) if p)
    return [sys.executable, "-m", "server.cli"], env


def serve_supports_workers(checkout: Path) -> bool:
    command, env = agency_command(checkout)
    result = subprocess.run([*command, "serve", "--help"], capture_output=True, text=True, check=False, env=env)
    return "--workers" in result.stdout


_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Warning|Exit)\b.*$")


def exception_lines(text: str) -> Counter[str]:
    """The `SomeError: message` lines of the tracebacks (and warnings) in a server log."""
    lines: Counter[str] = Counter()
    for line in text.splitlines():
        if _EXCEPTION_LINE.match(line.strip()) and not line.startswith((" ", "\t")):
            lines[re.sub(r"0x[0-9a-f]+", "0x…", line.strip())[:240]] += 1
        elif " ERROR " in line or ("database is locked" in line and not line.startswith((" ", "\t"))):
            # A logged error ("ERROR logger: message"), its timestamp dropped.
            text = re.sub(r"^[\d-]+ [\d:,.]+ ", "", line.strip())
            lines[re.sub(r"\b[0-9a-f]{12,}\b", "…", text)[:240]] += 1
    return lines


class Server:
    """`agency serve --demo` in its own process group, on a free port; its log goes to a file."""

    def __init__(self, database_url: str, workers: int, workdir: Path, checkout: Path = ROOT) -> None:
        self.database_url = database_url
        self.checkout = checkout
        self.sign_ins: list[tuple[str, str, str]] = []
        self.workers = workers
        self.port = free_port()
        self.workdir = workdir
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def start(self, timeout: float = 180) -> None:
        command, env = agency_command(self.checkout)
        env.update(
            DATABASE_URL=self.database_url,
            AGENCY_SECRET_KEY="load-" + secrets.token_urlsafe(32),
            # Tokens outlive the longest run (the load signs in once).
            AGENCY_ACCESS_TOKEN_MINUTES="1440",
            PYTHONUNBUFFERED="1",
        )
        command += ["serve", "--demo", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        log = self.log_path.open("wb")
        # cwd: the temporary directory, so no .env or agency.db of the checkout is picked up.
        self.process = subprocess.Popen(
            command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5) as http:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if http.get(self.url.replace("/graphql", "/healthz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not answer in {timeout:.0f} s:\n{self.log_tail()}")
                time.sleep(0.25)
        self._log_offset = self.log_path.stat().st_size
        self.sign_ins = parse_sign_ins(self.log_path.read_text(errors="replace"))
        if not self.sign_ins:
            raise RuntimeError(f"the server printed no demo sign-ins:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def new_log(self) -> str:
        """What the server logged since the last call."""
        with self.log_path.open("rb") as f:
            f.seek(self._log_offset)
            data = f.read()
        self._log_offset += len(data)
        return data.decode(errors="replace")

    def rss(self) -> float | None:
        return rss_mb(self.process.pid) if self.process else None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # Our own process group only (start_new_session): the server and its workers.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, 15)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            await conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        await engine.dispose()


_SIGN_IN_LINE = re.compile(r"^\s+(ADMIN|MANAGER|MEMBER|CLIENT)\s+(\S+@\S+)")
_PASSWORD = re.compile(r"password for all: (\S+?)\)?:?$")


def parse_sign_ins(log: str) -> list[tuple[str, str, str]]:
    """(email, password, role) of each demo sign-in `agency serve --demo` printed."""
    password = ""
    found = []
    for line in log.splitlines():
        if match := _PASSWORD.search(line.strip()):
            password = match.group(1)
        elif (match := _SIGN_IN_LINE.match(line)) and password:
            found.append((match.group(2), password, match.group(1)))
    return found


# --------------------------------------------------------------------------- the report


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def table(stages: Sequence[StageReport]) -> str:
    head = (
        "| stage | concurrency | requests | seconds | req/s | p50 ms | p99 ms | max ms | 5xx | other HTTP | transport "
        "| unhandled | typed errors | writes acked | refused | lost | RSS start MB | RSS end MB | RSS peak MB |"
    )
    rows = [head, "|---|" + "---:|" * 18]
    for s in stages:
        rows.append(
            f"| {s.name} | {s.concurrency} | {s.requests} | {s.seconds:.1f} | {s.throughput:.1f} | {s.p50_ms:.0f} "
            f"| {s.p99_ms:.0f} | {s.max_ms:.0f} | {s.http_5xx} | {s.http_other} | {s.transport} | {s.unhandled} "
            f"| {s.typed} | {s.writes_acknowledged} | {s.writes_refused} | {s.writes_lost} "
            f"| {_mb(s.rss_start_mb)} | {_mb(s.rss_end_mb)} | {_mb(s.rss_peak_mb)} |"
        )
    return "\n".join(rows)


def details(stages: Sequence[StageReport]) -> str:
    out = []
    for s in stages:
        if s.messages:
            out.append(f"\n{s.name}: errors seen (count, kind: message)")
            out.extend(f"  {n:>6}  {m[:220]}" for m, n in list(s.messages.items())[:25])
        if s.server_log:
            out.append(f"{s.name}: exception lines in the server log")
            out.extend(f"  {n:>6}  {m[:220]}" for m, n in list(s.server_log.items())[:25])
        if s.lost:
            out.append(f"{s.name}: acknowledged writes not found")
            out.extend(f"  {m}" for m in s.lost[:20])
    return "\n".join(out)


def op_table(stages: Sequence[StageReport]) -> str:
    ops = sorted({op for s in stages for op in s.by_op})
    head = "| operation | " + " | ".join(f"{s.name} n / p50 / p99 ms" for s in stages) + " |"
    rows = [head, "|---|" + "---:|" * len(stages)]
    for op in ops:
        cells = []
        for s in stages:
            o = s.by_op.get(op)
            cells.append("-" if o is None else f"{o['requests']:.0f} / {o['p50_ms']:.0f} / {o['p99_ms']:.0f}")
        rows.append(f"| {op} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in load],
        "at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# --------------------------------------------------------------------------- main


async def _run(args: argparse.Namespace, server: Server, workers_note: str) -> dict[str, Any]:
    engine = create_async_engine(server.database_url)
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    timeout = httpx.Timeout(args.timeout)
    stages: list[StageReport] = []
    result: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
            callers = await prepare(client, server.url, server.sign_ins)
            mix = Mix(callers, write_share=args.write_share)

            async def verify(written: list[tuple[str, int, str]]) -> list[str]:
                return await verify_writes(engine, written)

            async def stage(concurrency: int, name: str, seconds: float | None, requests: int | None) -> StageReport:
                report = await run_stage(
                    client,
                    server.url,
                    mix,
                    concurrency,
                    requests=requests,
                    seconds=seconds,
                    name=name,
                    seed=args.seed + len(stages),
                    verify=verify,
                    rss=server.rss,
                    sample_every=args.sample_every,
                )
                report.server_log = dict(exception_lines(server.new_log()).most_common())
                print(
                    f"{name}: {report.requests} requests, {report.throughput} req/s, p50 {report.p50_ms} ms, "
                    f"p99 {report.p99_ms} ms, 5xx {report.http_5xx}, unhandled {report.unhandled}, "
                    f"lost {report.writes_lost}, RSS {_mb(report.rss_start_mb)} -> {_mb(report.rss_end_mb)} MB",
                    file=sys.stderr,
                )
                stages.append(report)
                return report

            if args.soak:
                warm = await stage(args.soak_concurrency, "warm-up", args.warmup or 30, None)
                soak = await stage(args.soak_concurrency, f"soak c{args.soak_concurrency}", args.soak, None)
                start, end = soak.rss_start_mb, soak.rss_end_mb
                result["soak"] = {
                    "concurrency": args.soak_concurrency,
                    "seconds": args.soak,
                    "warmup_seconds": warm.seconds,
                    "rss_before_warmup_mb": warm.rss_start_mb,
                    "rss_start_mb": start,
                    "rss_end_mb": end,
                    "rss_peak_mb": soak.rss_peak_mb,
                    "end_over_start": round(end / start, 3) if start and end else None,
                    "within_10_percent": bool(start and end and end <= start * 1.10),
                }
            else:
                if args.warmup:
                    await stage(args.stages[0], "warm-up", args.warmup, None)
                for concurrency in args.stages:
                    await stage(concurrency, f"c{concurrency}", args.seconds_per_stage, args.requests_per_stage)
    finally:
        await engine.dispose()
    result.update(
        command="python bench/load.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        store=engine.dialect.name,
        workers=server.workers,
        workers_note=workers_note,
        machine=machine(),
        stages=[s.to_dict() for s in stages],
    )
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument(
        "--checkout",
        type=Path,
        default=ROOT,
        help="serve the project from this directory (e.g. a `git archive` of another commit); default: this one",
    )
    parser.add_argument(
        "--reset-database", action="store_true", help="PostgreSQL: drop the public schema of --database-url first"
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, if `agency serve` has --workers")
    parser.add_argument("--stages", default="4,16,64", help="concurrency of each stage (default 4,16,64)")
    parser.add_argument("--seconds-per-stage", type=float, help="default 20 unless --requests-per-stage is given")
    parser.add_argument("--requests-per-stage", type=int)
    parser.add_argument("--warmup", type=float, help="seconds of load before measuring (default 5; soak: 30)")
    parser.add_argument("--soak", type=float, help="soak mode: this many seconds at --soak-concurrency")
    parser.add_argument("--soak-concurrency", type=int, default=16)
    parser.add_argument("--write-share", type=float, default=0.3, help="share of requests that write (0.3)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds before a request counts as failed")
    parser.add_argument("--sample-every", type=float, default=1.0, help="seconds between RSS samples")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="PATH", help="also write the full report as JSON (- for stdout)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (server log, SQLite file)")
    args = parser.parse_args(argv)
    args.stages = [int(x) for x in str(args.stages).split(",") if x.strip()]
    if args.seconds_per_stage is None and args.requests_per_stage is None:
        args.seconds_per_stage = 20.0
    if args.warmup is None:
        args.warmup = 30.0 if args.soak else 5.0
    if not 0 <= args.write_share <= 1:
        parser.error("--write-share is between 0 and 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="agency-load-"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'load.db'}"
    if url.startswith("postgresql") and args.reset_database:
        asyncio.run(reset_postgres(url))
    workers, workers_note = args.workers, ""
    if workers > 1 and not serve_supports_workers(args.checkout):
        workers_note = f"`agency serve` has no --workers option: ran 1 process instead of {workers}"
        print(workers_note, file=sys.stderr)
        workers = 1
    server = Server(url, workers, workdir, args.checkout.resolve())
    try:
        # Inside the try: a server that fails to start is stopped too, not left behind.
        server.start()
        print(f"server pid {server.process.pid if server.process else '?'} on {server.url}", file=sys.stderr)
        result = asyncio.run(_run(args, server, workers_note))
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}", file=sys.stderr)
    stages = [StageReport(**s) for s in result["stages"]]
    m = result["machine"]
    print(
        f"\n{result['store']}, {result['workers']} worker(s){' (' + workers_note + ')' if workers_note else ''}; "
        f"{m['cpus']} CPUs, Python {m['python']}, load average {m['load_average']} at the end, {m['at']}\n"
    )
    print(table(stages))
    print()
    print(op_table(stages))
    if "soak" in result:
        s = result["soak"]
        print(
            f"\nsoak: RSS {_mb(s['rss_start_mb'])} MB after the warm-up -> {_mb(s['rss_end_mb'])} MB after "
            f"{s['seconds']:.0f} s at concurrency {s['concurrency']} (x{s['end_over_start']}, peak "
            f"{_mb(s['rss_peak_mb'])} MB); within 10%: {s['within_10_percent']}"
        )
        samples = stages[-1].rss_samples
        step = max(1, len(samples) // 12)
        print("RSS over the soak (s: MB): " + ", ".join(f"{t:.0f}: {v:.0f}" for t, v in samples[::step]))
        sizes = ", ".join(
            f"{op} {o.get('kb_first_tenth', 0):.1f} -> {o.get('kb_last_tenth', 0):.1f}"
            for op, o in stages[-1].by_op.items()
        )
        print(f"response KB by operation, first tenth -> last tenth of the soak: {sizes}")
    print(details(stages))
    if args.json:
        text = json.dumps(result, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
