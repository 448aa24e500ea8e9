"""GraphQL subscriptions under load: many WebSocket subscribers, a steady writer and a burst,
commit-to-delivery latency, deliveries per second, lost / duplicated / leaked events, memory per worker.

    python bench/subscriptions.py                          # SQLite, one worker, 200 subscribers
    python bench/subscriptions.py --database-url postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/agency_live \\
        --reset-database --workers 2                       # PostgreSQL, 2 workers (LISTEN/NOTIFY between them)
    python bench/subscriptions.py --subscribers 20 --events 40 --burst 20   # a quick try
    python bench/subscriptions.py --rounds 3               # connect, run, close three times: what stays

It starts `agency serve --demo` the way bench/load.py does (its `Server`: `python -m server.cli`
from this checkout or `--checkout DIR`, its own process group, a free port, a fresh SQLite file
unless `--database-url`), signs in the demo users, and then:

1. **Subscribers.** `--subscribers` WebSockets on /graphql (the `websockets` package, subprotocol
   graphql-transport-ws, the Bearer token in `connection_init`), one `commentAdded(projectId:)`
   subscription each, on `--projects` open projects: each portal user's own project, then
   projects no portal user sees. On a portal user's project every other subscriber is that portal
   user, the rest are staff (ADMIN, MANAGERs, MEMBERs in turn). uvicorn spreads the sockets over
   its workers; which worker holds each one is read from /proc (the server end of the socket's
   TCP connection, found in /proc/net/tcp, among each worker's file descriptors). Two more
   sockets check the row scope at subscription time: each portal user subscribing to the other
   client's project must get NOT_FOUND and nothing else.
2. **Warm-up.** One REPLY on each project; every subscriber must receive its project's (no
   subscription has an acknowledgement in the protocol: this is how the run knows all of them
   are listening). Not counted below.
3. **Steady.** `--events` comments at `--rate` a second (open loop: each at its scheduled time,
   whatever the previous ones are doing), round robin over the projects: by the staff writer (a
   MANAGER) a NOTE (`--note-share`) or a REPLY, on a task of the project (hidden from the client
   or not) or on the project itself; on a portal user's project a share (`--portal-writes`) are
   REPLYs by the portal user. Each body carries the phase and the send time (time.time_ns).
4. **Burst.** `--burst` comments sent `--burst-concurrency` at a time as fast as the server takes
   them: deliveries per second at saturation.

After each phase the run waits until every expected delivery has arrived, or `--drain-timeout`
seconds pass without one. Who should receive a comment is asked of the server itself after the
run: each subscriber's user reads its project's comments (`node(id:) { ... on Project { comments
tasks { comments } } }`), under its own row scope; a subscriber must receive exactly those of the
run's comments, each exactly once. The expected set is also computed from the rule (staff: all;
a portal user: REPLYs on its visible tasks or the project itself, never a NOTE) and any
disagreement is printed. A subscription the server ends (SLOW_CONSUMER: its inbox of 100 events
filled because events came faster than the worker re-read and sent them) misses what follows;
those misses are counted apart.

Latency of a delivery: its receive time minus the mutation's send time ("from send": includes the
mutation itself) and minus the time the mutation's HTTP response arrived ("from response": the
commit happened between the two, so this one is a lower bound of commit-to-delivery and can be
negative when the event arrives before the writer has read its response). Deliveries per second:
deliveries received / (last receive - first send) of the phase.

Memory: VmRSS of each worker (and of the supervisor with --workers > 1) before the subscribers
connect, after they connected and warmed up, after `--idle` seconds with the sockets open and
nothing written (each socket's token is checked again every few seconds), after each phase, and
`--settle` seconds after every socket is closed; with the CPU seconds each process (and this
client) used between two readings. `--rounds N` does all of it N times with the same server: memory
that grows round after round is what the sockets leave behind, the first round's growth mostly
warm-up (caches, compiled statements). The server log's socket lines are counted: opens,
subscribes and closes, and whether each worker's last close line reads "0 open sockets, 0
subscriptions" (nothing left behind in the hub).

The subscribers, the writer and the server share this machine: the client's own event loop (200
sockets read by one Python process) is part of every latency measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import re
import secrets
import shlex
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import orjson  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402
from websockets.typing import Subprotocol  # noqa: E402

from bench.load import (  # noqa: E402
    Caller,
    Server,
    exception_lines,
    graphql,
    machine,
    percentile,
    prepare,
    process_tree,
    reset_postgres,
    serve_supports_workers,
)

SUBSCRIBE = """subscription CommentFeed($projectId: ID!) {
  commentAdded(projectId: $projectId) { id kind body createdAt task { id } } }"""

ADD_COMMENT = """mutation AddComment($kind: CommentKind!, $body: String!, $taskId: ID, $projectId: ID) {
  addComment(kind: $kind, body: $body, taskId: $taskId, projectId: $projectId) {
    comment { id } errors { field code message } } }"""

# What each subscriber's user may read of its project's comments: the expected deliveries.
PROJECT_COMMENTS = """query ProjectComments($id: ID!) { node(id: $id) { ... on Project {
  comments { id kind body } tasks { id comments { id kind body } } } } }"""

STAFF_ROLES = ("ADMIN", "MANAGER", "MEMBER")
PROTOCOL = Subprotocol("graphql-transport-ws")

# --------------------------------------------------------------------------- processes and memory


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def worker_pids(root: int, workers: int) -> list[int]:
    """The processes that serve requests: the server itself with one worker, else its
    multiprocessing children (uvicorn's workers)."""
    if workers <= 1:
        return [root]
    found = []
    for pid in process_tree(root):
        cmdline = _read(f"/proc/{pid}/cmdline").replace("\0", " ")
        if pid != root and "spawn_main" in cmdline and "resource_tracker" not in cmdline:
            found.append(pid)
    return sorted(found)


def rss_of(pid: int) -> float | None:
    match = re.search(r"^VmRSS:\s+(\d+) kB", _read(f"/proc/{pid}/status"), re.MULTILINE)
    return round(int(match.group(1)) / 1024, 1) if match else None


def cpu_seconds(pid: int) -> float | None:
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks (100 a second)


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = fd.readlink().as_posix()
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
    return inodes


def server_side_inodes(server_port: int) -> dict[int, int]:
    """Client port -> inode of the server end of each TCP connection to server_port."""
    found: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in _read(table).splitlines()[1:]:
            parts = line.split()
            if len(parts) < 10:
                continue
            local_port = int(parts[1].rsplit(":", 1)[1], 16)
            remote_port = int(parts[2].rsplit(":", 1)[1], 16)
            if local_port == server_port:
                found[remote_port] = int(parts[9])
    return found


@dataclass
class Snapshot:
    label: str
    rss: dict[int, float | None]  # pid -> MB
    cpu: dict[int, float | None]  # pid -> CPU seconds used so far
    client_cpu: float = field(default_factory=time.process_time)  # this process's (the subscribers and writer)
    at: float = field(default_factory=time.perf_counter)


def snapshot(label: str, pids: Sequence[int]) -> Snapshot:
    return Snapshot(label, {p: rss_of(p) for p in pids}, {p: cpu_seconds(p) for p in pids})


# --------------------------------------------------------------------------- subscribers


@dataclass
class Delivery:
    received_ns: int
    comment_id: str
    kind: str
    phase: str
    sent_ns: int  # from the body


@dataclass
class Subscriber:
    index: int
    caller: Caller
    project_id: str
    ws: ClientConnection | None = None
    local_port: int = 0
    worker: int | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # error payloads and unexpected messages
    completed: bool = False
    closed_by_server: str | None = None
    reader: asyncio.Task[None] | None = None
    connect_seconds: float = 0.0

    @property
    def role(self) -> str:
        return self.caller.role


class Feed:
    """Every subscriber's socket, read by one task each; counts deliveries by phase as they come."""

    def __init__(self, url: str, tag: str) -> None:
        self.ws_url = url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        self.tag = tag
        self.by_phase: Counter[str] = Counter()
        self.changed = asyncio.Event()

    async def open(self, sub: Subscriber, wait: float) -> None:
        start = time.perf_counter()
        ws = await connect(self.ws_url, subprotocols=[PROTOCOL], open_timeout=wait, ping_interval=None, max_size=2**20)
        sub.ws = ws
        sub.local_port = ws.local_address[1]
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {sub.caller.token}"}}
        await ws.send(json.dumps(init))
        ack = json.loads(await asyncio.wait_for(ws.recv(), wait))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"subscriber {sub.index}: no connection_ack but {ack}")
        message = {"query": SUBSCRIBE, "variables": {"projectId": sub.project_id}, "operationName": "CommentFeed"}
        await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": message}))
        sub.connect_seconds = time.perf_counter() - start
        sub.reader = asyncio.create_task(self._read(sub), name=f"subscriber-{sub.index}")

    async def _read(self, sub: Subscriber) -> None:
        assert sub.ws is not None
        marker = f"bench {self.tag} "
        try:
            async for raw in sub.ws:
                received = time.time_ns()
                message = orjson.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    payload = message.get("payload") or {}
                    comment = (payload.get("data") or {}).get("commentAdded")
                    if payload.get("errors"):
                        sub.errors.extend(str(e.get("extensions", {}).get("code") or e) for e in payload["errors"])
                    if comment is None:
                        continue
                    body = str(comment.get("body", ""))
                    phase, sent_ns = "other", 0
                    if body.startswith(marker):
                        # "bench <tag> <phase> <seq> sent=<ns>"
                        parts = body.split()
                        phase, sent_ns = parts[2], int(parts[4].removeprefix("sent="))
                    sub.deliveries.append(Delivery(received, comment["id"], comment.get("kind", ""), phase, sent_ns))
                    self.by_phase[phase] += 1
                    self.changed.set()
                elif kind == "complete":
                    sub.completed = True
                elif kind == "ping":
                    await sub.ws.send('{"type":"pong"}')
                elif kind == "error":
                    sub.errors.append(f"error: {message.get('payload')}")
                elif kind != "pong":
                    sub.errors.append(f"unexpected message: {str(message)[:200]}")
        except ConnectionClosed as closed:
            if closed.rcvd is not None:
                sub.closed_by_server = f"{closed.rcvd.code} {closed.rcvd.reason}"


# --------------------------------------------------------------------------- the writer


@dataclass
class Event:
    phase: str
    seq: int
    project_id: str
    task_id: str | None
    kind: str
    author: str  # role of the writer
    sent_ns: int = 0
    response_ns: int = 0
    comment_id: str | None = None
    problem: str | None = None


@dataclass
class Plan:
    """The projects subscribed to, their tasks, and who writes what on them."""

    projects: list[str]
    tasks: dict[str, list[str]]  # project -> every task id (staff view)
    portal: dict[str, Caller]  # project -> the portal user whose project it is
    visible_tasks: dict[str, set[str]]  # project -> the tasks its portal user sees
    writer: Caller
    note_share: float
    portal_writes: float
    project_level_share: float = 0.1

    def event(self, phase: str, seq: int, rng: random.Random) -> tuple[Event, Caller]:
        project = self.projects[seq % len(self.projects)]
        portal = self.portal.get(project)
        if portal is not None and self.visible_tasks[project] and rng.random() < self.portal_writes:
            task = rng.choice(sorted(self.visible_tasks[project]))
            return Event(phase, seq, project, task, "REPLY", "CLIENT"), portal
        kind = "NOTE" if rng.random() < self.note_share else "REPLY"
        task_id = None
        if self.tasks[project] and rng.random() >= self.project_level_share:
            task_id = rng.choice(self.tasks[project])
        return Event(phase, seq, project, task_id, kind, self.writer.role), self.writer


async def write(client: httpx.AsyncClient, url: str, tag: str, event: Event, author: Caller) -> None:
    event.sent_ns = time.time_ns()
    body = f"bench {tag} {event.phase} {event.seq} sent={event.sent_ns}"
    variables: dict[str, Any] = {"kind": event.kind, "body": body}
    if event.task_id is not None:
        variables["taskId"] = event.task_id
    else:
        variables["projectId"] = event.project_id
    try:
        answer = await graphql(client, url, ADD_COMMENT, variables, author.token)
    except httpx.HTTPError as error:
        event.problem = f"{type(error).__name__}: {error}"[:200]
        return
    finally:
        event.response_ns = time.time_ns()
    payload = (answer.get("data") or {}).get("addComment") or {}
    if answer.get("errors") or payload.get("errors") or not payload.get("comment"):
        event.problem = str(answer.get("errors") or payload.get("errors"))[:200]
    else:
        event.comment_id = payload["comment"]["id"]


def expected_by_rule(sub: Subscriber, event: Event, plan: Plan) -> bool:
    if event.project_id != sub.project_id or event.comment_id is None:
        return False
    if sub.role != "CLIENT":
        return True
    return event.kind == "REPLY" and (event.task_id is None or event.task_id in plan.visible_tasks[sub.project_id])


# --------------------------------------------------------------------------- the run


@dataclass
class PhaseReport:
    name: str
    events_sent: int = 0
    events_failed: int = 0
    send_seconds: float = 0.0
    mutation_p50_ms: float = 0.0
    mutation_p99_ms: float = 0.0
    expected: int = 0
    received: int = 0
    missed: int = 0
    missed_ended: int = 0  # of them, by subscriptions the server had ended (SLOW_CONSUMER)
    duplicates: int = 0
    unexpected: int = 0
    notes_to_clients: int = 0
    p50_send_ms: float = 0.0
    p99_send_ms: float = 0.0
    max_send_ms: float = 0.0
    p50_response_ms: float = 0.0
    p99_response_ms: float = 0.0
    max_response_ms: float = 0.0
    deliveries_per_second: float = 0.0
    events_per_second: float = 0.0
    by_worker: dict[str, str] = field(default_factory=dict)
    problems: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)


async def drain(feed: Feed, phase: str, expected: int, quiet: float) -> None:
    """Wait until `expected` deliveries of the phase have arrived, or none came for `quiet` seconds."""
    while feed.by_phase[phase] < expected:
        feed.changed.clear()
        try:
            await asyncio.wait_for(feed.changed.wait(), quiet)
        except TimeoutError:
            return


def _ms(ns: float) -> float:
    return round(ns / 1e6, 1)


def analyse(
    name: str,
    events: list[Event],
    subscribers: list[Subscriber],
    expected: dict[int, set[str]],  # subscriber index -> comment ids it should receive in this phase
    worker_names: dict[int, str],
) -> PhaseReport:
    report = PhaseReport(name)
    by_id = {e.comment_id: e for e in events if e.comment_id}
    report.events_sent = len(events)
    report.events_failed = sum(1 for e in events if e.comment_id is None)
    for e in events:
        if e.problem:
            report.problems[e.problem] += 1
    mutation = [e.response_ns - e.sent_ns for e in events if e.comment_id]
    report.mutation_p50_ms = _ms(percentile(mutation, 50))
    report.mutation_p99_ms = _ms(percentile(mutation, 99))
    from_send: list[float] = []
    from_response: list[float] = []
    worker_send: dict[str, list[float]] = defaultdict(list)
    first_sent = min((e.sent_ns for e in events), default=0)
    last_sent = max((e.sent_ns for e in events), default=0)
    last_received = 0
    for sub in subscribers:
        mine = [d for d in sub.deliveries if d.phase == name]
        counts = Counter(d.comment_id for d in mine)
        want = expected.get(sub.index, set())
        report.expected += len(want)
        report.received += len(mine)
        report.duplicates += sum(n - 1 for n in counts.values() if n > 1)
        missing = want - counts.keys()
        extra = counts.keys() - want
        report.missed += len(missing)
        if sub.completed or sub.closed_by_server:
            report.missed_ended += len(missing)
        report.unexpected += sum(counts[c] for c in extra)
        if sub.role == "CLIENT":
            report.notes_to_clients += sum(1 for d in mine if d.kind == "NOTE")
        for c in sorted(missing)[:2]:
            if len(report.examples) < 10:
                lost = by_id.get(c)
                report.examples.append(
                    f"missed: subscriber {sub.index} ({sub.caller.email}, worker {worker_names.get(sub.worker or 0)}) "
                    f"never received {c} ({lost.kind if lost else '?'} on task {lost.task_id if lost else '?'})"
                )
        for c in sorted(extra)[:2]:
            if len(report.examples) < 10:
                report.examples.append(f"unexpected: subscriber {sub.index} ({sub.caller.email}) received {c}")
        seen: set[str] = set()
        for d in mine:
            if d.comment_id in seen:
                continue
            seen.add(d.comment_id)
            last_received = max(last_received, d.received_ns)
            from_send.append(d.received_ns - d.sent_ns)
            worker_send[worker_names.get(sub.worker or 0, "?")].append(d.received_ns - d.sent_ns)
            event = by_id.get(d.comment_id)
            if event is not None:
                from_response.append(d.received_ns - event.response_ns)
    report.p50_send_ms = _ms(percentile(from_send, 50))
    report.p99_send_ms = _ms(percentile(from_send, 99))
    report.max_send_ms = _ms(max(from_send, default=0))
    report.p50_response_ms = _ms(percentile(from_response, 50))
    report.p99_response_ms = _ms(percentile(from_response, 99))
    report.max_response_ms = _ms(max(from_response, default=0))
    span = (last_received - first_sent) / 1e9 if last_received > first_sent else 0.0
    report.deliveries_per_second = round(report.received / span, 1) if span else 0.0
    sending = (last_sent - first_sent) / 1e9
    report.send_seconds = round(sending, 2)
    report.events_per_second = round((len(events) - 1) / sending, 1) if sending > 0 and len(events) > 1 else 0.0
    for worker, values in sorted(worker_send.items()):
        report.by_worker[worker] = (
            f"{len(values)} deliveries, p50 {_ms(percentile(values, 50))} / p99 {_ms(percentile(values, 99))} ms"
        )
    return report


@dataclass
class Setup:
    """What every round shares: the server's processes, the signed-in users and the plan."""

    server: Server
    client: httpx.AsyncClient
    pids: list[int]
    watched: list[int]
    worker_names: dict[int, str]
    staff: list[Caller]
    plan: Plan
    tag: str
    rng: random.Random
    snapshots: list[Snapshot] = field(default_factory=list)


async def run(args: argparse.Namespace, server: Server) -> dict[str, Any]:
    assert server.process is not None
    root = server.process.pid
    pids = worker_pids(root, server.workers)
    if len(pids) != server.workers:
        raise RuntimeError(f"expected {server.workers} worker processes under {root}, found {pids}")
    worker_names = {pid: f"w{i + 1} ({pid})" for i, pid in enumerate(pids)}
    watched = ([root] if server.workers > 1 else []) + pids
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(args.timeout)) as client:
        callers = await prepare(client, server.url, server.sign_ins)
        staff = [c for c in callers if c.role in STAFF_ROLES]
        portal_users = [c for c in callers if c.role == "CLIENT" and c.projects]
        writer = next(c for c in callers if c.role == "MANAGER")
        all_tasks = dict(writer.projects)
        # Each portal user's open project with the most tasks it sees, then staff-only projects.
        portal_of: dict[str, Caller] = {}
        visible: dict[str, set[str]] = {}
        for user in portal_users:
            for project, tasks in sorted(user.projects, key=lambda p: -len(p[1])):
                if tasks and project not in portal_of:
                    portal_of[project], visible[project] = user, set(tasks)
                    break
        seen_by_portal = {p for user in portal_users for p, _ in user.projects}
        others = [p for p, tasks in writer.projects if p not in seen_by_portal and tasks]
        projects = (list(portal_of) + others)[: args.projects]
        for project in projects:
            visible.setdefault(project, set())
        plan = Plan(projects, all_tasks, portal_of, visible, writer, args.note_share, args.portal_writes)
        setup = Setup(
            server, client, pids, watched, worker_names, staff, plan, secrets.token_hex(3), random.Random(args.seed)
        )
        setup.snapshots.append(snapshot("before subscribers", watched))
        rounds = [await one_round(args, setup, r + 1) for r in range(args.rounds)]
    log = server.log_path.read_text(errors="replace")
    return {
        "tag": setup.tag,
        "projects": projects,
        "portal_projects": {p: u.email for p, u in portal_of.items()},
        "rounds": rounds,
        "snapshots": setup.snapshots,
        "names": {root: "supervisor", **worker_names},
        "log_counts": {
            "websocket open": log.count("websocket open"),
            "websocket subscribe": log.count("websocket subscribe"),
            "websocket closed": log.count("websocket closed"),
        },
        "server_exceptions": dict(exception_lines(log).most_common(20)),
    }


async def one_round(args: argparse.Namespace, setup: Setup, number: int) -> dict[str, Any]:
    """Open the subscribers, warm up, idle, steady, burst, check, close."""
    server, client, plan, tag, rng = setup.server, setup.client, setup.plan, setup.tag, setup.rng
    projects, portal_of = plan.projects, plan.portal
    prefix = f"r{number} " if args.rounds > 1 else ""
    phase = (lambda name: f"r{number}-{name}") if args.rounds > 1 else (lambda name: name)

    def snap(label: str) -> None:
        setup.snapshots.append(snapshot(prefix + label, setup.watched))

    log_from = server.log_path.stat().st_size
    feed = Feed(server.url, tag)
    subscribers: list[Subscriber] = []
    staff_turn = 0
    for i in range(args.subscribers):
        project = projects[i % len(projects)]
        if project in portal_of and (i // len(projects)) % 2 == 1:
            subscribers.append(Subscriber(i, portal_of[project], project))
        else:
            subscribers.append(Subscriber(i, setup.staff[staff_turn % len(setup.staff)], project))
            staff_turn += 1
    # The row scope at subscription time: a portal user on the other client's project.
    probes: list[Subscriber] = []
    portal_projects = list(portal_of)
    for k, project in enumerate(portal_projects):
        other = portal_of[portal_projects[(k + 1) % len(portal_projects)]]
        if other is not portal_of[project]:
            probes.append(Subscriber(-1 - k, other, project))

    gate = asyncio.Semaphore(args.connect_concurrency)

    async def open_one(sub: Subscriber) -> None:
        async with gate:
            await feed.open(sub, args.timeout)

    print(f"{prefix}opening {len(subscribers)} subscribers on {len(projects)} projects ...", file=sys.stderr)
    start = time.perf_counter()
    await asyncio.gather(*(open_one(s) for s in subscribers + probes))
    connect_seconds = time.perf_counter() - start
    ports = server_side_inodes(server.port)
    held = {pid: socket_inodes(pid) for pid in setup.pids}
    for sub in subscribers + probes:
        inode = ports.get(sub.local_port)
        sub.worker = next((pid for pid, inodes in held.items() if inode in inodes), None)
    per_worker = Counter(setup.worker_names.get(s.worker or 0, "unknown") for s in subscribers)

    # Every subscribe line logged, then one REPLY per project that every subscriber must see.
    deadline = time.monotonic() + 30
    while _subscribe_lines(server, log_from) < len(subscribers) + len(probes):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)
    warmup = phase("warmup")
    warm = [Event(warmup, k, p, None, "REPLY", plan.writer.role) for k, p in enumerate(projects)]
    await asyncio.gather(*(write(client, server.url, tag, e, plan.writer) for e in warm))
    await drain(feed, warmup, len(subscribers), args.drain_timeout * 4)
    not_live = [s.index for s in subscribers if not any(d.phase == warmup for d in s.deliveries)]
    snap("after connect")
    print(
        f"{prefix}connected in {connect_seconds:.1f} s ({dict(per_worker)}); "
        f"not live after the warm-up: {len(not_live)}",
        file=sys.stderr,
    )
    if args.idle:
        # The open sockets alone: each one's token is checked again every few seconds.
        await asyncio.sleep(args.idle)
        snap(f"after {args.idle:.0f} s idle")

    phases: list[tuple[str, list[Event]]] = []
    # Steady: open loop at --rate.
    steady_name = phase("steady")
    steady: list[Event] = []
    sending: list[asyncio.Task[None]] = []
    t0 = time.perf_counter()
    late = 0.0
    for seq in range(args.events):
        at = t0 + seq / args.rate
        now = time.perf_counter()
        if at > now:
            await asyncio.sleep(at - now)
        else:
            late = max(late, now - at)
        event, author = plan.event(steady_name, seq, rng)
        steady.append(event)
        sending.append(asyncio.create_task(write(client, server.url, tag, event, author)))
    await asyncio.gather(*sending)
    phases.append((steady_name, steady))
    await drain(feed, steady_name, _rule_total(steady, subscribers, plan), args.drain_timeout)
    snap("after steady")
    print(f"{prefix}steady: {args.events} events sent, {feed.by_phase[steady_name]} deliveries", file=sys.stderr)

    if args.burst:
        burst_name = phase("burst")
        burst: list[Event] = []
        queue = list(range(args.burst))

        async def burst_worker() -> None:
            while queue:
                seq = queue.pop(0)
                event, author = plan.event(burst_name, seq, rng)
                burst.append(event)
                await write(client, server.url, tag, event, author)

        await asyncio.gather(*(burst_worker() for _ in range(args.burst_concurrency)))
        phases.append((burst_name, burst))
        await drain(feed, burst_name, _rule_total(burst, subscribers, plan), args.drain_timeout)
        snap("after burst")
        print(f"{prefix}burst: {args.burst} events sent, {feed.by_phase[burst_name]} deliveries", file=sys.stderr)
    await asyncio.sleep(1.0)  # anything late or duplicated still arrives into the counts

    # The server's own answer to "who may see what": each (user, project) reads the comments.
    readable: dict[tuple[str, str], set[str]] = {}
    for sub in subscribers:
        key = (sub.caller.email, sub.project_id)
        if key not in readable:
            answer = await graphql(client, server.url, PROJECT_COMMENTS, {"id": sub.project_id}, sub.caller.token)
            node = (answer.get("data") or {}).get("node") or {}
            comments = list(node.get("comments") or [])
            for task in node.get("tasks") or []:
                comments.extend(task.get("comments") or [])
            readable[key] = {c["id"] for c in comments if str(c.get("body", "")).startswith(f"bench {tag} ")}
    reports = []
    rule_disagreements = 0
    for name, events in phases:
        ids = {e.comment_id for e in events if e.comment_id}
        expected = {s.index: readable[(s.caller.email, s.project_id)] & ids for s in subscribers}
        for s in subscribers:
            by_rule = {e.comment_id for e in events if e.comment_id and expected_by_rule(s, e, plan)}
            rule_disagreements += len(by_rule ^ expected[s.index])
        reports.append(analyse(name, events, subscribers, expected, setup.worker_names))

    # Close every socket, then read memory and the server's socket counts.
    closing_log_from = server.log_path.stat().st_size
    snap("after the run")
    for sub in subscribers + probes:
        if sub.ws is not None:
            with contextlib.suppress(Exception):
                await sub.ws.close()
    for sub in subscribers + probes:
        if sub.reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sub.reader, 5)
    await asyncio.sleep(args.settle)
    snap(f"{args.settle:.0f} s after closing")
    closing = _log_since(server, closing_log_from)
    close_lines = re.findall(r"websocket closed after .*?; (\d+) open sockets, (\d+) subscriptions", closing)
    return {
        "round": number,
        "subscribers": len(subscribers),
        "subscribers_by_role": dict(Counter(s.role for s in subscribers)),
        "per_worker": dict(per_worker),
        "connect_seconds": round(connect_seconds, 2),
        "connect_p99_ms": round(percentile([s.connect_seconds for s in subscribers], 99) * 1000, 1),
        "not_live_after_warmup": not_live,
        "schedule_late_ms": round(late * 1000, 1),
        "reports": reports,
        "rule_disagreements": rule_disagreements,
        "subscriber_errors": dict(Counter(e for s in subscribers for e in s.errors)),
        "closed_by_server": dict(Counter(s.closed_by_server for s in subscribers if s.closed_by_server)),
        "completed": sum(1 for s in subscribers if s.completed),
        "probes": [
            f"{p.caller.email} on {p.project_id}: errors {p.errors or 'none'}, comments received {len(p.deliveries)}"
            for p in probes
        ],
        "close_lines": len(close_lines),
        # Each worker's last close line reads 0 and 0 when nothing was left behind.
        "zero_close_lines": sum(1 for sockets, subs in close_lines if sockets == "0" and subs == "0"),
    }


def _log_since(server: Server, offset: int) -> str:
    with server.log_path.open("rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def _subscribe_lines(server: Server, offset: int) -> int:
    return _log_since(server, offset).count("websocket subscribe")


def _rule_total(events: list[Event], subscribers: list[Subscriber], plan: Plan) -> int:
    return sum(1 for e in events for s in subscribers if expected_by_rule(s, e, plan))


# --------------------------------------------------------------------------- the report


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def render(result: dict[str, Any], args: argparse.Namespace) -> str:
    out = []
    m = result["machine"]
    out.append(
        f"{result['store']}, {result['workers']} worker(s); {m['cpus']} CPUs, Python {m['python']}, "
        f"load average {m['load_average']} at the end, {m['at']}"
    )
    out.append(f"command: `{result['command']}`")
    out.append("")
    for rnd in result["rounds"]:
        roles = ", ".join(f"{n} {r}" for r, n in rnd["subscribers_by_role"].items())
        out.append(
            (f"round {rnd['round']}: " if len(result["rounds"]) > 1 else "")
            + f"{rnd['subscribers']} subscribers ({roles}) on {len(result['projects'])} projects; per worker: "
            + ", ".join(f"{w}: {n}" for w, n in sorted(rnd["per_worker"].items()))
            + f"; connected in {rnd['connect_seconds']} s (p99 {rnd['connect_p99_ms']:.0f} ms a socket); "
            f"not live after the warm-up: {len(rnd['not_live_after_warmup'])}"
        )
    out.append("")
    head = (
        "| phase | events | events/s | failed | mutation p50 / p99 ms | deliveries expected | received "
        "| missed (of them after the server ended the subscription) "
        "| duplicates | unexpected | NOTEs to CLIENTs | latency from send p50 / p99 / max ms "
        "| from response p50 / p99 / max ms | deliveries/s |"
    )
    out += [head, "|---|" + "---:|" * 13]
    reports = [r for rnd in result["rounds"] for r in rnd["reports"]]
    for r in reports:
        out.append(
            f"| {r.name} | {r.events_sent} | {r.events_per_second} | {r.events_failed} "
            f"| {r.mutation_p50_ms:.0f} / {r.mutation_p99_ms:.0f} | {r.expected} | {r.received} "
            f"| {r.missed} ({r.missed_ended}) "
            f"| {r.duplicates} | {r.unexpected} | {r.notes_to_clients} "
            f"| {r.p50_send_ms:.0f} / {r.p99_send_ms:.0f} / {r.max_send_ms:.0f} "
            f"| {r.p50_response_ms:.0f} / {r.p99_response_ms:.0f} / {r.max_response_ms:.0f} "
            f"| {r.deliveries_per_second:.0f} |"
        )
    out.append("")
    snaps: list[Snapshot] = result["snapshots"]
    names: dict[int, str] = result["names"]
    pids = list(snaps[0].rss)
    out.append("| RSS MB | " + " | ".join(names.get(pid, str(pid)) for pid in pids) + " |")
    out.append("|---|" + "---:|" * len(pids))
    for s in snaps:
        out.append(f"| {s.label} | " + " | ".join(_f(s.rss.get(pid)) for pid in pids) + " |")
    out.append("")
    # CPU seconds used between one snapshot and the next.
    out.append(
        "| CPU seconds, to | seconds | " + " | ".join(names.get(pid, str(pid)) for pid in pids) + " | bench client |"
    )
    out.append("|---|" + "---:|" * (len(pids) + 2))
    for a, b in itertools.pairwise(snaps):
        cells = []
        for pid in pids:
            start, end = a.cpu.get(pid), b.cpu.get(pid)
            cells.append("-" if start is None or end is None else f"{end - start:.1f}")
        out.append(
            f"| {b.label} | {b.at - a.at:.0f} | " + " | ".join(cells) + f" | {b.client_cpu - a.client_cpu:.1f} |"
        )
    out.append("")
    for r in reports:
        if r.by_worker:
            out.append(
                f"{r.name}, latency from send by the subscriber's worker: "
                + "; ".join(f"{w}: {v}" for w, v in r.by_worker.items())
            )
        for line in r.examples:
            out.append(f"  {r.name}: {line}")
        for problem, n in r.problems.most_common(10):
            out.append(f"  {r.name}: writer problem x{n}: {problem}")
    for rnd in result["rounds"]:
        label = f"round {rnd['round']}: " if len(result["rounds"]) > 1 else ""
        out.append(
            f"{label}expected sets, the server's own query vs the rule: {rnd['rule_disagreements']} disagreements; "
            f"cross-client subscriptions (must be NOT_FOUND, nothing received): {'; '.join(rnd['probes'])}"
        )
        out.append(
            f"{label}subscriber errors: {rnd['subscriber_errors'] or 'none'}; closed by the server: "
            f"{rnd['closed_by_server'] or 'none'}; completed by the server: {rnd['completed']}; "
            f"writer at most {rnd['schedule_late_ms']:.0f} ms late (steady, open loop); on closing, "
            f"{rnd['close_lines']} close lines, {rnd['zero_close_lines']} of them '0 open sockets, 0 subscriptions' "
            f"(one per worker: {len(rnd['per_worker'])})"
        )
    out.append("server log: " + "; ".join(f"{k}: {v}" for k, v in result["log_counts"].items()))
    if result["server_exceptions"]:
        out.append("server log, exception lines:")
        out.extend(f"  {n:>5}  {line}" for line, n in result["server_exceptions"].items())
    return "\n".join(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="serve the project from this directory")
    parser.add_argument(
        "--reset-database", action="store_true", help="PostgreSQL: drop the public schema of --database-url first"
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (PostgreSQL only; default 1)")
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--projects", type=int, default=5, help="projects subscribed to (default 5)")
    parser.add_argument("--events", type=int, default=300, help="comments in the steady phase (default 300)")
    parser.add_argument("--rate", type=float, default=10.0, help="comments a second in the steady phase (10)")
    parser.add_argument("--burst", type=int, default=100, help="comments in the burst (100; 0: no burst)")
    parser.add_argument("--burst-concurrency", type=int, default=8)
    parser.add_argument("--note-share", type=float, default=0.25, help="share of staff comments that are NOTEs")
    parser.add_argument("--portal-writes", type=float, default=0.2, help="share of REPLYs by the portal user")
    parser.add_argument("--connect-concurrency", type=int, default=20, help="sockets opened at a time")
    parser.add_argument("--drain-timeout", type=float, default=10.0, help="seconds without a delivery that end a phase")
    parser.add_argument("--rounds", type=int, default=1, help="connect, run and close this many times")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds with the sockets open and no events")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after closing the sockets before RSS")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (server log, SQLite file)")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.subscribers < 1 or args.projects < 1:
        parser.error("--rate, --subscribers and --projects are positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="agency-live-"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'live.db'}"
    if url.startswith("sqlite") and args.workers > 1:
        print("SQLite is served by one worker: --workers 1", file=sys.stderr)
        args.workers = 1
    if url.startswith("postgresql") and args.reset_database:
        asyncio.run(reset_postgres(url))
    if args.workers > 1 and not serve_supports_workers(args.checkout):
        raise SystemExit("`agency serve` of this checkout has no --workers option")
    server = Server(url, args.workers, workdir, args.checkout.resolve())
    try:
        server.start()
        print(f"server pid {server.process.pid if server.process else '?'} on {server.url}", file=sys.stderr)
        result = asyncio.run(run(args, server))
    finally:
        server.stop()
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    result.update(
        command="python bench/subscriptions.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
        store="PostgreSQL" if url.startswith("postgresql") else "SQLite",
        workers=args.workers,
        machine=machine(),
    )
    print(render(result, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
