"""This API against PostGraphile 5 on the same PostgreSQL data, interleaved, with permissions on.

    python bench/versus_peer.py --clients 500 --results bench/RESULTS.md

Builds the synthetic agency of bench/run.py (bench/agency.py) in a fresh PostgreSQL database
(`--database-url`, its public schema dropped first; default: agency_bench_peer), starts
PostGraphile 5 on it (bench/peer.py: installed from npm into bench/peer/ on first use, read-only,
row-level security for the portal user) and this API as it is deployed (`agency serve`, a
process of its own, 1 worker, then 2), signs in as the bench agency's MANAGER and one of its
portal users (CLIENT), and:

1. checks that both servers answer every operation with the same rows: the same ids, names and
   values in the same order (ids compared as the row ids they encode, timestamps as instants,
   money as decimals); a difference stops the run before anything is timed;
2. times every operation on both, interleaved request by request (one round is every operation
   on both servers, the order of the two servers alternating between rounds), and reports
   medians and the ratio this API / PostGraphile 5;
3. measures throughput (completed requests per second, `--concurrency` requests in flight) of
   the Clients list page and the nested list of 50 clients, on this API with 1 and 2 workers, each
   stage back to back with the same stage on PostGraphile.

Both servers run on this machine beside the client (httpx, in this process), so the client's
own time is in every figure, the same for both. PostgreSQL is one server for both; neither
server's cache sees the other's requests. Nothing here runs in the test suite or CI (npm).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench import peer  # noqa: E402
from bench.agency import Agency, Shape  # noqa: E402
from bench.load import Server, agency_command  # noqa: E402
from bench.run import CLIENTS_PAGE, _build, _login, fresh_database, p95, write_results  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/agency_bench_peer"


# --------------------------------------------------------------------------- this API, deployed


class ApiServer(Server):
    """`agency serve` (no demo data: the bench agency is already there) on a free port, in its own
    process group; bench/load.py's Server without --demo."""

    def start(self, timeout: float = 180) -> None:
        import contextlib
        import subprocess

        command, env = agency_command(self.checkout)
        env.update(
            DATABASE_URL=self.database_url,
            # One key for every start, so both worker counts verify the same tokens.
            AGENCY_SECRET_KEY="bench-versus-peer-" + "k" * 40,
            AGENCY_ACCESS_TOKEN_MINUTES="1440",
            # No background drainers: their statements would run between the measured requests.
            AGENCY_OUTBOX_INTERVAL="0",
            AGENCY_WEBHOOK_INTERVAL="0",
            AGENCY_JOBS_INTERVAL="0",
            PYTHONUNBUFFERED="1",
        )
        command += ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)]
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5) as http:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the API exited ({self.process.returncode}):\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if http.get(self.url.replace("/graphql", "/healthz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the API did not answer in {timeout:.0f} s:\n{self.log_tail()}")
                time.sleep(0.25)


# --------------------------------------------------------------------------- the operations


def api_nested(first: int) -> str:
    return f"""query Nested {{ clients(first: {first}) {{ edges {{ node {{
  id name website createdAt
  projects {{ id name status startDate tasks {{ id title status dueDate }} }}
}} }} }} }}"""


def peer_nested(first: int, client_order: str = "SORT_NAME_ASC") -> str:
    # The API's orders: clients by lower(name) then id (client_sort_name, bench/peer/rls.sql),
    # projects newest start date first then id descending, tasks by position then id.
    return f"""query Nested {{ allClients(first: {first}, orderBy: [{client_order}, ROW_ID_ASC]) {{ edges {{ node {{
  id name website createdAt
  projects: projectsByClientId(orderBy: [START_DATE_DESC, ROW_ID_DESC]) {{ nodes {{
    id name status startDate
    tasks: tasksByProjectId(orderBy: [POSITION_ASC, ROW_ID_ASC]) {{ nodes {{ id title status dueDate }} }}
  }} }}
}} }} }} }}"""


PEER_CLIENTS_PAGE = """query ClientsPage { allClients(first: 50, orderBy: [SORT_NAME_ASC, ROW_ID_ASC]) {
  totalCount edges { node {
  id name logoUrl tier status: clientStatusByStatusId { name category } primaryContact { fullName email }
  accountManager: userAccountByAccountManagerId { fullName }
  activeProjectCount outstandingAmount lastInteractionAt accountValue } } } }"""


def _api_id(value: str, type_name: str) -> int:
    kind, _, row_id = base64.b64decode(value).decode().partition(":")
    if kind != type_name:
        raise ValueError(f"{value!r} is a {kind} id, not a {type_name}")
    return int(row_id)


def _peer_id(value: str, type_name: str) -> int:
    kind, row_id = json.loads(base64.b64decode(value))
    if kind != type_name:
        raise ValueError(f"{value!r} is a {kind} id, not a {type_name}")
    return int(row_id)


def _instant(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def nested_rows(data: dict, *, api: bool) -> list[tuple]:
    """The nested list as (id, name, website, created at, [(project..., [(task...)])]) rows."""
    ident = _api_id if api else _peer_id
    clients = data["clients" if api else "allClients"]["edges"]

    def listed(value: Any) -> list[dict]:
        return value if api else value["nodes"]

    return [
        (
            ident(c["id"], "Client"),
            c["name"],
            c["website"],
            _instant(c["createdAt"]),
            [
                (
                    ident(p["id"], "Project"),
                    p["name"],
                    p["status"],
                    p["startDate"],
                    [(ident(t["id"], "Task"), t["title"], t["status"], t["dueDate"]) for t in listed(p["tasks"])],
                )
                for p in listed(c["projects"])
            ],
        )
        for c in (edge["node"] for edge in clients)
    ]


def clients_page_rows(data: dict, *, api: bool) -> list[tuple]:
    """The Clients list page as its totalCount and one tuple per row, every column."""
    ident = _api_id if api else _peer_id
    page = data["clients" if api else "allClients"]
    rows: list[tuple] = [("totalCount", page["totalCount"])]
    for n in (edge["node"] for edge in page["edges"]):
        contact, manager = n["primaryContact"], n["accountManager"]
        rows.append(
            (
                ident(n["id"], "Client"),
                n["name"],
                n["logoUrl"],
                n["tier"],
                (n["status"]["name"], n["status"]["category"]),
                None if contact is None else (contact["fullName"], contact["email"]),
                None if manager is None else manager["fullName"],
                n["activeProjectCount"],
                _money(n["outstandingAmount"]),
                _instant(n["lastInteractionAt"]),
                _money(n["accountValue"]),
            )
        )
    return rows


@dataclass
class Operation:
    name: str
    label: str
    api_query: str
    peer_query: str
    rows: Callable[..., list[tuple]]
    caller: str  # "staff" (the MANAGER) or "portal" (a CLIENT; PostGraphile with row-level security)
    api_ms: list[float] = field(default_factory=list)
    peer_ms: list[float] = field(default_factory=list)
    api_bytes: int = 0
    peer_bytes: int = 0
    row_count: str = ""
    tasks: int = 0  # in the nested list's answer


def operations() -> list[Operation]:
    nested = [
        Operation(
            f"nested{n}",
            f"nested list, {n} clients → projects → tasks",
            api_nested(n),
            peer_nested(n),
            nested_rows,
            "staff",
        )
        for n in (10, 50, 100)
    ]
    return [
        *nested,
        Operation(
            "clients_page",
            "Clients list page, 50 rows, the guide's columns (PostGraphile: computed columns)",
            CLIENTS_PAGE,
            PEER_CLIENTS_PAGE,
            clients_page_rows,
            "staff",
        ),
        Operation(
            "portal_nested",
            "nested list as a portal user (PostGraphile: row-level security)",
            api_nested(50),
            # By name, not lower(name): the portal role may read only some columns of client, and
            # a computed column takes the whole row. It sees one client, so the order is the same.
            peer_nested(50, "NAME_ASC"),
            nested_rows,
            "portal",
        ),
    ]


# --------------------------------------------------------------------------- the two servers


@dataclass
class Target:
    """One server as one caller: its URL, the request headers, the query it is sent."""

    url: str
    headers: dict[str, str]


def _check(body: bytes, what: str) -> dict:
    answer = json.loads(body)
    if answer.get("errors") or not answer.get("data"):
        raise RuntimeError(f"{what}: {body[:800]!r}")
    return answer["data"]


def _post(http: httpx.Client, target: Target, query: str) -> bytes:
    response = http.post(target.url, json={"query": query}, headers=target.headers)
    response.raise_for_status()
    return response.content


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return f"{path or 'the answer'}: {len(a)} items against {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {a!r} against {b!r}"


def _count(rows: list[tuple], nested: bool) -> str:
    if not nested:
        return f"{len(rows) - 1} rows of {rows[0][1]}"
    projects = sum(len(c[4]) for c in rows)
    tasks = sum(len(p[4]) for c in rows for p in c[4])
    return f"{len(rows)} client{'s' if len(rows) != 1 else ''}, {projects} projects, {tasks:,} tasks"


def verify(http: httpx.Client, op: Operation, api: Target, pg: Target) -> None:
    """Both servers' answers, as rows: the same, in the same order, or the run stops here."""
    api_body, peer_body = _post(http, api, op.api_query), _post(http, pg, op.peer_query)
    api_rows = op.rows(_check(api_body, f"this API, {op.name}"), api=True)
    peer_rows = op.rows(_check(peer_body, f"PostGraphile, {op.name}"), api=False)
    if api_rows != peer_rows:
        raise RuntimeError(f"{op.name}: the two answers differ at {_first_difference(api_rows, peer_rows)}")
    if len(api_rows) <= (1 if op.rows is clients_page_rows else 0):
        raise RuntimeError(f"{op.name}: both answers are empty; nothing would be compared")
    op.api_bytes, op.peer_bytes = len(api_body), len(peer_body)
    op.row_count = _count(api_rows, op.rows is nested_rows)
    if op.rows is nested_rows:
        op.tasks = sum(len(p[4]) for c in api_rows for p in c[4])


def hidden_tasks(http: httpx.Client, staff_peer: Target, client_id: int, visible: int) -> str:
    """The portal client's tasks as staff see them: the portal answers must have left some out
    (tasks not visible to the client), or the row-level security was not put to the test."""
    query = (
        f"{{ clientByRowId(rowId: {client_id}) "
        "{ projectsByClientId { nodes { tasksByProjectId { totalCount } } } } }"
    )
    data = _check(_post(http, staff_peer, query), "PostGraphile as staff, the portal client's tasks")
    total = sum(p["tasksByProjectId"]["totalCount"] for p in data["clientByRowId"]["projectsByClientId"]["nodes"])
    if visible >= total:
        raise RuntimeError(f"the portal client has no hidden task ({visible} of {total}): pick another")
    return f" of its {total:,}"


def interleaved(
    http: httpx.Client, ops: list[Operation], targets: dict[str, tuple[Target, Target]], runs: int, warmup: int
) -> None:
    """Every round sends every operation to both servers, one request at a time; the server that
    goes first alternates between rounds."""
    for round_ in range(warmup + runs):
        for op in ops:
            api, pg = targets[op.caller]
            pair = [("api", api, op.api_query), ("peer", pg, op.peer_query)]
            for side, target, query in pair if round_ % 2 == 0 else reversed(pair):
                start = time.perf_counter()
                body = _post(http, target, query)
                elapsed = (time.perf_counter() - start) * 1000
                if b'"errors"' in body:
                    raise RuntimeError(f"{side}, {op.name}: {body[:500]!r}")
                if round_ >= warmup:
                    (op.api_ms if side == "api" else op.peer_ms).append(elapsed)


async def _throughput(target: Target, query: str, concurrency: int, seconds: float, warmup: float) -> float:
    """Completed requests per second with `concurrency` requests in flight for `seconds`."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        counting = False
        done = 0
        stop_at = time.monotonic() + warmup + seconds

        async def loop() -> None:
            nonlocal done
            while time.monotonic() < stop_at:
                response = await client.post(target.url, json={"query": query}, headers=target.headers)
                if response.status_code != 200 or b'"errors"' in response.content:
                    raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
                if counting:
                    done += 1

        tasks = [asyncio.create_task(loop()) for _ in range(concurrency)]
        await asyncio.sleep(warmup)
        counting, start = True, time.monotonic()
        await asyncio.gather(*tasks)
        # The requests still in flight when the time was up finish late; count the time they took.
        return done / (time.monotonic() - start)


def throughput(target: Target, query: str, concurrency: int, seconds: float, warmup: float) -> float:
    return asyncio.run(_throughput(target, query, concurrency, seconds, warmup))


# --------------------------------------------------------------------------- report


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ms"


def table(ops: list[Operation], rates: dict[tuple[str, int, str], float], concurrency: list[int]) -> str:
    lines = [
        "| operation | rows | this API | PostGraphile 5 | this API / PostGraphile 5 | p95: this API, PostGraphile 5"
        " | response KB: this API, PostGraphile 5 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for op in ops:
        api, pg = statistics.median(op.api_ms), statistics.median(op.peer_ms)
        lines.append(
            f"| {op.label} | {op.row_count} | {_ms(op.api_ms)} | {_ms(op.peer_ms)} | **{api / pg:.2f}x** | "
            f"{p95(op.api_ms):.1f} ms, {p95(op.peer_ms):.1f} ms | "
            f"{op.api_bytes / 1024:.1f}, {op.peer_bytes / 1024:.1f} |"
        )
    labels = {"clients_page": "Clients list page", "nested50": "nested list 50"}
    for name, label in labels.items():
        for c in concurrency:
            one, two = rates[(name, c, "api1")], rates[(name, c, "api2")]
            pg1, pg2 = rates[(name, c, "peer1")], rates[(name, c, "peer2")]
            lines.append(
                f"| throughput, {label}, {c} concurrent | | {one:.1f} req/s (1 worker), {two:.1f} (2) | "
                f"{pg1:.1f} req/s, {pg2:.1f} | **{one / pg1:.2f}x** (1 worker), **{two / pg2:.2f}x** (2) | | |"
            )
    return "\n".join(lines)


def section(
    command: str, shape: Shape, agency: Agency, build_s: float, versions: dict[str, str], body: str, args: Any
) -> str:
    rows = ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in agency.rows.items())
    return "\n".join(
        [
            "<!-- bench:postgraphile -->",
            f"### This API against PostGraphile {versions['postgraphile']} (PostgreSQL {versions['postgresql']})",
            "",
            "```sh",
            command,
            "```",
            "",
            f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs "
            f"(load average {os.getloadavg()[0]:.1f} at the end), Python {platform.python_version()}, "
            f"PostGraphile {versions['postgraphile']} on Node {versions['node']}; agency built in {build_s:.1f} s: "
            f"{rows}. Medians of {args.runs} interleaved rounds after {args.warmup} warm-up rounds; "
            f"throughput over {args.seconds:.0f} s per figure after {args.throughput_warmup:.0f} s of warm-up, "
            "each stage on this API and PostGraphile back to back (PostGraphile's two figures: beside this "
            "API's 1-worker run, then beside its 2-worker run).",
            "",
            body,
            "<!-- /bench:postgraphile -->",
        ]
    )


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--projects", type=int, default=5, help="per client")
    parser.add_argument("--tasks", type=int, default=20, help="per project")
    parser.add_argument("--runs", type=int, default=30, help="timed interleaved rounds")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first")
    parser.add_argument("--concurrency", type=int, nargs="*", default=[8, 32])
    parser.add_argument("--seconds", type=float, default=10, help="length of one throughput measurement")
    parser.add_argument("--throughput-warmup", type=float, default=2)
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--results", type=Path, help="write the table into this markdown file (its own section)")
    args = parser.parse_args(argv)
    command = "python bench/versus_peer.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be PostgreSQL (PostGraphile reads PostgreSQL only)")

    os.environ["BENCH_DATABASE_URL"] = args.database_url  # fresh_database's PostgreSQL
    shape = Shape(clients=args.clients, projects_per_client=args.projects, tasks_per_project=args.tasks)
    url = fresh_database("postgresql")
    agency, build_s, pg_version = asyncio.run(_build(url, shape))
    print(f"built {agency.rows} in {build_s:.1f} s", file=sys.stderr)

    peer_url, stop_peer = peer.start_peer(url)
    versions = {
        "postgraphile": peer.postgraphile_version(),
        "node": peer.node_version(),
        "postgresql": pg_version.split(" ")[0],
    }
    workdir = Path(tempfile.mkdtemp(prefix="agency-versus-peer-"))
    api = ApiServer(url, 1, workdir)
    rates: dict[tuple[str, int, str], float] = {}
    ops = operations()
    try:
        api.start()
        # The portal user: run.py's choice, and the client the API says it belongs to.
        portal_email = agency.portal_emails[len(agency.portal_emails) // 2]
        with httpx.Client(timeout=120) as http:
            staff_token, portal_token = _login(http, api.url, agency.manager_email), _login(http, api.url, portal_email)
            me = _check(
                _post(http, Target(api.url, _bearer(portal_token)), "{ clients { edges { node { id } } } }"), "portal"
            )
            (portal_client,) = [_api_id(e["node"]["id"], "Client") for e in me["clients"]["edges"]]
            targets = {
                "staff": (Target(api.url, _bearer(staff_token)), Target(peer_url, {})),
                "portal": (
                    Target(api.url, _bearer(portal_token)),
                    Target(peer_url, {peer.PORTAL_HEADER: str(portal_client)}),
                ),
            }
            for op in ops:
                verify(http, op, *targets[op.caller])
                if op.caller == "portal":
                    op.row_count += hidden_tasks(http, targets["staff"][1], portal_client, op.tasks)
                print(f"same rows: {op.name} ({op.row_count})", file=sys.stderr)
            interleaved(http, ops, targets, args.runs, args.warmup)
        for op in ops:
            print(
                f"{op.name}: this API {statistics.median(op.api_ms):.1f} ms, "
                f"PostGraphile {statistics.median(op.peer_ms):.1f} ms",
                file=sys.stderr,
            )
        if not args.no_throughput:
            by_name = {op.name: op for op in ops}
            stages = [(name, c) for name in ("clients_page", "nested50") for c in args.concurrency]

            def measure(sides: tuple[str, str]) -> None:
                """Each stage on this API and on PostGraphile back to back, so both see the same
                machine (others' load comes and goes); the order alternates between stages."""
                for i, (name, c) in enumerate(stages):
                    op = by_name[name]
                    api_target, peer_target = targets["staff"]
                    for side in sides if i % 2 == 0 else reversed(sides):
                        is_peer = side.startswith("peer")
                        target, query = (peer_target, op.peer_query) if is_peer else (api_target, op.api_query)
                        rates[(name, c, side)] = throughput(target, query, c, args.seconds, args.throughput_warmup)
                        print(f"throughput {side} {name} c{c}: {rates[(name, c, side)]:.1f}/s", file=sys.stderr)

            measure(("api1", "peer1"))
            api.stop()
            api = ApiServer(url, 2, workdir)
            api.start()
            with httpx.Client(timeout=60) as http:
                staff_token = _login(http, api.url, agency.manager_email)
            targets["staff"] = (Target(api.url, _bearer(staff_token)), targets["staff"][1])
            measure(("api2", "peer2"))
    finally:
        api.stop()
        stop_peer()

    body = table(ops, rates, args.concurrency) if rates else table_without_throughput(ops)
    print(body)
    if args.results:
        write_results(args.results, "postgraphile", section(command, shape, agency, build_s, versions, body, args))
    return 0


def table_without_throughput(ops: list[Operation]) -> str:
    return table(ops, {}, [])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


if __name__ == "__main__":
    raise SystemExit(main())
