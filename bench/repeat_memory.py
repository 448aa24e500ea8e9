"""The server's memory over one query repeated (issue 15's "memory flat over 1,500 repeated requests"):
`agency serve` (one worker, as deployed) on the bench agency in PostgreSQL, the nested list of 50
clients -> projects -> tasks sent 1,500 times one after another as the agency's manager, and the
server process's resident memory (VmRSS) after the 1st, 100th, 500th, 1,000th and last request.

    python bench/repeat_memory.py                       # PostgreSQL (BENCH_DATABASE_URL or agency_bench)
    python bench/repeat_memory.py --requests 3000 --clients 100

The database is emptied and the bench agency built into it first (bench/run.py's fresh_database).
Nothing here runs in the test suite: tests/test_memory.py counts objects per request instead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.agency import Shape  # noqa: E402
from bench.run import _build, _login, fresh_database  # noqa: E402
from bench.versus_peer import ApiServer, api_nested  # noqa: E402


def rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--page", type=int, default=50, help="clients in the nested list")
    args = parser.parse_args(argv)
    if args.database_url:
        os.environ["BENCH_DATABASE_URL"] = args.database_url
    url = fresh_database("postgresql")
    agency, _, _ = asyncio.run(_build(url, Shape(clients=args.clients)))
    server = ApiServer(url, 1, Path(tempfile.mkdtemp(prefix="agency-repeat-memory-")))
    checkpoints = sorted({1, 100, 500, 1000, args.requests} & set(range(1, args.requests + 1)))
    seen: list[tuple[int, int]] = []
    server.start()
    try:
        assert server.process is not None
        with httpx.Client(timeout=120) as http:
            token = _login(http, server.url, agency.manager_email)
            query = api_nested(args.page)
            for n in range(1, args.requests + 1):
                response = http.post(server.url, json={"query": query}, headers={"Authorization": f"Bearer {token}"})
                if response.status_code != 200 or b'"errors"' in response.content:
                    raise RuntimeError(f"request {n}: {response.status_code} {response.content[:300]!r}")
                if n in checkpoints:
                    seen.append((n, rss_mb(server.process.pid)))
    finally:
        server.stop()
    print(f"nested list of {args.page} clients, {args.requests} requests, one worker on PostgreSQL")
    print("RSS: " + ", ".join(f"{mb} MB after {n:,}" for n, mb in seen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
