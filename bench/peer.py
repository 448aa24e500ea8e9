"""PostGraphile 5, the benchmark's peer, on the bench agency's PostgreSQL database.

    python bench/peer.py --database-url postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/agency_bench_peer

installs it if needed, sets up its roles and row-level security (bench/peer/rls.sql), serves it
on a free port of 127.0.0.1 and prints its address until interrupted. bench/versus_peer.py
uses `start_peer(database_url) -> (url, stop)`.

What it needs:
- the npm registry and `npm` (any Node will do to run npm): the first run installs
  bench/peer/package-lock.json into bench/peer/node_modules with `npm ci`. That brings
  PostGraphile 5 and Node 22 (the `node` package, whose install script fetches the Linux x64
  build from the npm registry); PostGraphile 5 needs Node 22 or later, and it is run with that
  binary (bench/peer/node_modules/node/bin/node), whatever Node the system has. Nothing of this
  is part of the project's tests or CI.
- a superuser URL of the bench database (the one bench/run.py builds): rls.sql creates two
  roles, grants them SELECT on the tables the benchmark reads, enables row-level security with
  policies for the portal user, and adds the Clients list page's computed columns as SQL
  functions. PostGraphile itself connects as the SELECT-only role `agency_peer_staff`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

PEER_DIR = Path(__file__).resolve().parent / "peer"
NODE = PEER_DIR / "node_modules" / "node" / "bin" / "node"
CLI = PEER_DIR / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
RLS_SQL = PEER_DIR / "rls.sql"
PEER_ROLE = "agency_peer_staff"
PEER_PASSWORD = "agency-peer-bench"  # the bench-only role rls.sql creates; it can only SELECT
PORTAL_HEADER = "X-Portal-Client"


def installed() -> bool:
    return NODE.exists() and CLI.exists()


def install() -> None:
    """`npm ci` into bench/peer/ (the npm registry must be reachable), unless already there."""
    if installed():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed: the peer is installed with `npm ci` in bench/peer")
    print("installing PostGraphile 5 and Node 22 into bench/peer/node_modules (npm ci)", file=sys.stderr)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PEER_DIR, check=True)
    if not installed():
        raise RuntimeError(f"npm ci finished but {NODE} or {CLI} is missing")


def node_version() -> str:
    return subprocess.run([str(NODE), "--version"], capture_output=True, text=True, check=True).stdout.strip()


def postgraphile_version() -> str:
    import json

    return json.loads((PEER_DIR / "node_modules" / "postgraphile" / "package.json").read_text())["version"]


def _asyncpg_dsn(database_url: str, user: str | None = None, password: str | None = None) -> str:
    url = make_url(database_url).set(drivername="postgresql")
    if user is not None:
        url = url.set(username=user, password=password)
    return url.render_as_string(hide_password=False)


async def _apply_rls(database_url: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        # One script, one implicit transaction (the simple query protocol): all of it or none.
        await conn.execute(RLS_SQL.read_text())
    finally:
        await conn.close()


def setup_database(database_url: str) -> None:
    """Roles, grants, row-level security policies and computed columns (idempotent)."""
    asyncio.run(_apply_rls(database_url))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_peer(database_url: str, *, timeout: float = 120) -> tuple[str, Callable[[], None]]:
    """Install (if needed), set up the database and start PostGraphile 5 on 127.0.0.1.

    Returns its GraphQL URL and a function that stops it. `database_url` is a superuser URL of
    the bench database (SQLAlchemy's form is fine); PostGraphile connects as agency_peer_staff."""
    install()
    setup_database(database_url)
    port = _free_port()
    env = dict(os.environ)
    env.update(
        PEER_DATABASE_URL=_asyncpg_dsn(database_url, PEER_ROLE, PEER_PASSWORD),
        PEER_PORT=str(port),
        NODE_ENV="production",
    )
    log = tempfile.NamedTemporaryFile(prefix="agency-peer-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [str(NODE), str(CLI), "-C", "graphile.config.mjs"],
        cwd=PEER_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/graphql"

    def stop() -> None:
        if process.poll() is None:
            # Its own process group only (start_new_session): the node process.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()
        # Kept when PostGraphile logged an error: its answers only say "logged with hash ...".
        path = Path(log.name)
        if path.exists() and "error" in path.read_text(errors="replace").lower():
            print(f"PostGraphile's log, with errors: {path}", file=sys.stderr)
        else:
            path.unlink(missing_ok=True)

    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5) as http:
        while True:
            if process.poll() is not None:
                output = Path(log.name).read_text()[-4000:]
                stop()
                raise RuntimeError(f"PostGraphile exited ({process.returncode}):\n{output}")
            with contextlib.suppress(httpx.HTTPError):
                answer = http.post(url, json={"query": "{ __typename }"})
                if answer.status_code == 200 and answer.json().get("data") == {"__typename": "Query"}:
                    break
            if time.monotonic() > deadline:
                output = Path(log.name).read_text()[-4000:]
                stop()
                raise RuntimeError(f"PostGraphile did not answer in {timeout:.0f} s:\n{output}")
            time.sleep(0.25)
    return url, stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/agency_bench"
        ),
        help="a superuser URL of the bench database (default: $BENCH_DATABASE_URL or agency_bench)",
    )
    args = parser.parse_args(argv)
    url, stop = start_peer(args.database_url)
    print(f"PostGraphile {postgraphile_version()} on Node {node_version()}: {url}")
    print(f"(a request with the header {PORTAL_HEADER}: <client id> runs as that client's portal user)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
