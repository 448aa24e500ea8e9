"""What grows in memory under bench/load.py's mix, in process: the real app over ASGI (no HTTP, no
uvicorn), the demo agency, the same callers and requests, and after a warm-up, round by round:

- RSS (VmRSS of this process) before and after a full collection;
- the memory SQLite itself holds (sqlite3_memory_used: page caches, prepared statements);
- the live objects the collector tracks, by type, and how many more there are than after the warm-up;
- with --trace, what Python allocated and still holds, by traceback (tracemalloc; slow);
- the mean response size of each read, which grows with the data when the mix writes.

    python bench/memory.py                                   # SQLite, read-only
    python bench/memory.py --write-share 0.3 --rounds 4      # the mixed load
    python bench/memory.py --trace --rounds 2 --top 20       # where Python's allocations grew
    python bench/memory.py --database-url postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/agency_load

PostgreSQL: the database's public schema is dropped and the demo loaded into it.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import ctypes.util
import gc
import random
import re
import sys
import tempfile
import time
import tracemalloc
import weakref
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.load import Caller, Mix, Request, prepare, reset_postgres  # noqa: E402
from models.db import make_engine, make_session_factory  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from server.app import create_app  # noqa: E402
from server.demo import load_demo  # noqa: E402
from server.settings import Settings  # noqa: E402

WRITES = ("create_client", "create_task", "log_time", "add_comment", "log_interaction", "portal_reply")


def _sqlite_memory() -> Any:
    name = ctypes.util.find_library("sqlite3")
    if name is None:
        return None
    library = ctypes.CDLL(name)
    library.sqlite3_memory_used.restype = ctypes.c_int64
    return library.sqlite3_memory_used


_sqlite_used = _sqlite_memory()


def sqlite_mb() -> float:
    return _sqlite_used() / 1e6 if _sqlite_used is not None else 0.0


def rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


def live() -> Counter[str]:
    return Counter(
        f"{type(o).__module__}.{type(o).__qualname__}"
        for o in gc.get_objects()
        if not (type(o) is weakref.ref and o() is None)
    )


async def run(
    client: httpx.AsyncClient, mix: Mix, rng: random.Random, count: int, concurrency: int, sizes: dict[str, list[int]]
) -> Counter[str]:
    errors: Counter[str] = Counter()
    sent = 0

    async def send(caller: Caller, request: Request) -> None:
        response = await client.post(
            "/graphql",
            json={"query": request.query, "variables": request.variables},
            headers={"Authorization": f"Bearer {caller.token}"},
        )
        if response.status_code != 200 or response.json().get("errors"):
            errors[request.op] += 1
        sizes.setdefault(request.op, []).append(len(response.content))

    async def worker() -> None:
        nonlocal sent
        while sent < count:
            sent += 1
            await send(*mix.next(rng))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return errors


async def main(args: argparse.Namespace, url: str) -> None:
    engine = make_engine(url)
    sign_ins = await load_demo(make_session_factory(engine))
    settings = Settings(AGENCY_SECRET_KEY="memory-" + "x" * 40, DATABASE_URL=url, AGENCY_ACCESS_TOKEN_MINUTES=1440)
    app = create_app(settings, engine=engine)
    # As the server's lifespan does (server/app.py).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    sizes: dict[str, list[int]] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://memory", timeout=120) as client:
        callers = await prepare(client, "/graphql", [(s.email, s.password, s.role) for s in sign_ins])
        mix, rng = Mix(callers, write_share=args.write_share), random.Random(args.seed)
        started = time.perf_counter()
        errors = await run(client, mix, rng, args.warmup, args.concurrency, sizes)
        print(
            f"warm-up: {args.warmup} requests in {time.perf_counter() - started:.0f} s; "
            f"RSS {rss_mb():.1f} MB, SQLite {sqlite_mb():.1f} MB"
        )
        if args.trace:
            tracemalloc.start(args.frames)
        gc.collect()
        first_live = live()
        first_trace = tracemalloc.take_snapshot() if args.trace else None
        for n in range(args.rounds):
            sizes.clear()
            started = time.perf_counter()
            errors += await run(client, mix, rng, args.requests, args.concurrency, sizes)
            before_gc = rss_mb()
            gc.collect()
            grown = sum((live() - first_live).values())
            reads = {op: round(sum(v) / len(v) / 1024, 1) for op, v in sorted(sizes.items()) if op not in WRITES}
            print(
                f"round {n + 1}: {args.requests} requests in {time.perf_counter() - started:.0f} s; RSS "
                f"{before_gc:.1f} MB ({rss_mb():.1f} after a collection), SQLite {sqlite_mb():.1f} MB, "
                f"live objects +{grown}; response KB {reads}"
            )
        print(f"errors: {dict(errors) or 'none'}")
        print(f"live objects grown since the warm-up, by type: {(live() - first_live).most_common(15)}")
        if first_trace is not None:
            ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
            last = tracemalloc.take_snapshot().filter_traces(ignore)
            stats = last.compare_to(first_trace.filter_traces(ignore), "traceback")
            print(
                f"Python's allocations held, grown since the warm-up: {sum(s.size_diff for s in stats) / 1024:.0f} KB"
            )
            for stat in stats[: args.top]:
                print(f"\n{stat.size_diff / 1024:+.1f} KB, {stat.count_diff:+d} blocks")
                for line in stat.traceback.format():
                    print("   ", line)
    await engine.dispose()


def cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--write-share", type=float, default=0.0, help="share of requests that write (0)")
    parser.add_argument("--warmup", type=int, default=600, help="requests before measuring (600)")
    parser.add_argument("--requests", type=int, default=600, help="requests per round (600)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--trace", action="store_true", help="tracemalloc from the end of the warm-up (slow)")
    parser.add_argument("--frames", type=int, default=6, help="traceback depth with --trace")
    parser.add_argument("--top", type=int, default=15, help="tracebacks shown with --trace")
    args = parser.parse_args()
    if args.database_url:
        url = args.database_url
        asyncio.run(reset_postgres(url))
    else:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='agency-memory-')}/memory.db"
    upgrade(url)
    asyncio.run(main(args, url))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
