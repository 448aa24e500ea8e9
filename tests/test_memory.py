"""Memory per request: once a response is sent, nothing of its request stays alive.

Measured by counting, never by time. Each request kind of bench/load.py's mix (the nested
clients -> projects -> tasks list, the Clients list page, the dashboard, a client record, the
portal home page, the mutations) is repeated after a warm-up:

- none of the request's own objects (its context, Principal, loaders and their caches, the
  executor, database sessions, ORM rows and records) may be cyclic garbage: such an object is
  freed only when the cyclic collector next looks at its generation, which the server makes rare
  (server/app.py), so a cycle per request grew the process by the whole request, every request;
- the number of live objects may not grow with the number of requests (a cache keyed by
  something new per request, a loader or session kept alive, a task left running);
- nor may the memory Python allocated (tracemalloc): that also sees what the collector does not
  track, such as strings and bytes kept in a dictionary;
- the per-process caches stay within their bounds, in entries and in bytes, whatever documents
  are sent (schema.limits.documents, schema.enforcement.decisions).
"""

from __future__ import annotations

import asyncio
import gc
import random
import reprlib
import tracemalloc
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstanceState, Session
from sqlalchemy.sql import ClauseElement
from strawberry.dataloader import DataLoader

from bench.load import MIX, Caller, Mix, Request, prepare
from models.db import make_engine
from schema import enforcement, limits
from schema.limits import DocumentCache
from server.app import create_app
from server.demo import DemoSignIn
from server.settings import Settings
from tests.utils import Api

# Packages whose objects belong to a request (SQL expression constructs aside: see _request_state).
APP_PACKAGES = ("schema", "resolvers", "auth", "server", "models", "strawberry", "graphql")
READS = ("nested", "clients_page", "dashboard", "client_record", "portal_home")
WRITES = ("create_client", "create_task", "log_time", "add_comment", "log_interaction", "portal_reply")
WARM_UP = 3
MEASURED = 4


@pytest.fixture
async def api(db: object, database_url: str, settings: Settings) -> AsyncIterator[Api]:
    """The real app over ASGI, on an engine whose driver keeps no prepared statements (sqlite3's
    statement cache, asyncpg's through SQLAlchemy): those caches are bounded per pooled connection
    but fill as each connection first runs each statement, which is not what is counted here."""
    url = sa.make_url(database_url)
    option = "prepared_statement_cache_size" if url.get_backend_name() == "postgresql" else "cached_statements"
    engine = make_engine(url.update_query_dict({option: "0"}).render_as_string(hide_password=False))
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, app)
    finally:
        await engine.dispose()


@pytest.fixture
async def callers(api: Api, demo: list[DemoSignIn]) -> list[Caller]:
    # One sign-in per role keeps the Argon2 checks few.
    by_role = {s.role: s for s in reversed(demo)}
    return await prepare(api.client, "/graphql", [(s.email, s.password, s.role) for s in by_role.values()])


def _mix(callers: list[Caller], op: str) -> Mix:
    ops = tuple(o for o in MIX if o.name == op)
    return Mix(callers, write_share=1.0 if ops[0].write else 0.0, ops=ops)


async def _send(api: Api, caller: Caller, request: Request) -> None:
    response = await api.client.post(
        "/graphql",
        json={"query": request.query, "variables": request.variables},
        headers={"Authorization": f"Bearer {caller.token}"},
    )
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), (request.op, body)


async def _run(api: Api, mix: Mix, rng: random.Random, count: int, concurrency: int = 1) -> None:
    for start in range(0, count, concurrency):
        await asyncio.gather(*(_send(api, *mix.next(rng)) for _ in range(min(concurrency, count - start))))


async def _every_kind(api: Api, mix: Mix, rng: random.Random) -> None:
    """Each operation of the mix once as each role it has, so every document and policy key the
    measured requests can use is in the caches before they run."""
    for op, role, _ in mix.entries:
        caller = mix.callers[role][0]
        await _send(api, caller, op.build(caller, rng, f"memory-warm-up-{op.name}-{role}"))


@contextmanager
def cyclic_garbage() -> Iterator[list[object]]:
    """The objects that only the cyclic collector could free, of what ran inside the block."""
    found: list[object] = []
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.extend(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def _request_state(obj: object) -> bool:
    """An object of the request itself. SQL expression constructs are left out: SQLAlchemy makes
    small cycles of its own in some statements (they hold no rows, no session, no request)."""
    if isinstance(obj, ClauseElement):
        return False
    if isinstance(obj, DataLoader | InstanceState | Session | AsyncSession):
        return True
    return type(obj).__module__.split(".")[0] in APP_PACKAGES


def _names(objects: list[object]) -> Counter[str]:
    return Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in objects)


def _live() -> Counter[str]:
    """Live objects the collector tracks, by type, leaving out dead weak references: the sqlite3
    driver keeps those of its closed cursors on each connection (and drops them every 200)."""
    return _names([o for o in gc.get_objects() if not (type(o) is weakref.ref and o() is None)])


def _newcomers(known: set[int], grown: dict[str, int], sample: int = 12) -> list[str]:
    """What a failure shows: some objects of the grown types made since `known`, each with the
    types of what holds it (so a cache or a task keeping them can be named)."""
    found: list[str] = []
    objects = gc.get_objects()
    for obj in objects:
        name = f"{type(obj).__module__}.{type(obj).__qualname__}"
        if name in grown and id(obj) not in known:
            referrers = [r for r in gc.get_referrers(obj) if r is not objects and r is not found]
            holders = sorted({reprlib.repr(r)[:80] for r in referrers})
            found.append(f"{reprlib.repr(obj)} held by {holders}")
            if len(found) >= sample:
                break
    return found


@pytest.mark.parametrize("ops", [READS, WRITES], ids=["reads", "writes"])
async def test_a_request_leaves_no_cycle_of_its_own(api: Api, callers: list[Caller], ops: tuple[str, ...]) -> None:
    left: dict[str, Counter[str]] = {}
    for op in ops:
        mix, rng = _mix(callers, op), random.Random(op)
        await _run(api, mix, rng, WARM_UP)
        with cyclic_garbage() as garbage:
            await _run(api, mix, rng, MEASURED)
        found = _names([o for o in garbage if _request_state(o)])
        if found:
            left[op] = found
    assert left == {}


async def test_the_nested_list_builds_no_sql_cycles_either(api: Api, callers: list[Caller]) -> None:
    """The loaders build their statements once per request and only set each batch's keys
    (resolvers.batching.in_keys): not even SQLAlchemy's own small cycles, for any role."""
    mix, rng = _mix(callers, "nested"), random.Random(1)
    await _run(api, mix, rng, WARM_UP)
    with cyclic_garbage() as garbage:
        await _run(api, mix, rng, MEASURED * 2)
    assert _names([o for o in garbage if isinstance(o, ClauseElement)]) == Counter()


async def test_live_objects_do_not_grow_with_requests(api: Api, callers: list[Caller]) -> None:
    """After a warm-up of the whole mix, reads and writes, some of them concurrent, three windows
    of 80 more requests each. Objects held per request pile up in every window; a cache filled
    the first time a rare path runs (SQLAlchemy's result metadata for a statement, a pool
    connection opened when four requests first overlap just so) grows in one window only. What
    every window added (the least each type grew over the three) may be a handful of objects at
    most: a request's own objects number in the thousands, so one request held on to fails this."""
    mix, rng = Mix(callers, write_share=0.3), random.Random(2)
    await _every_kind(api, mix, rng)
    await _run(api, mix, rng, 40, concurrency=4)
    tasks = len(asyncio.all_tasks())
    windows: list[Counter[str]] = []
    known: set[int] = set()
    for _ in range(3):
        gc.collect()
        before = _live()
        known = {id(o) for o in gc.get_objects()}
        await _run(api, mix, rng, 80, concurrency=4)
        gc.collect()
        windows.append(_live() - before)
    every = windows[0] & windows[1] & windows[2]  # the least each type grew
    grown = {name: n for name, n in every.items() if n > 5}
    assert sum(every.values()) <= 80, (grown, _newcomers(known, grown))
    assert grown == {}, (windows, _newcomers(known, grown))
    assert len(asyncio.all_tasks()) <= tasks


async def test_the_policy_cache_keeps_no_document_text(api: Api, callers: list[Caller]) -> None:
    """Field decisions are cached per document, under a fixed-size digest of its text: a large
    document (here padded to 200 KB with whitespace, which counts no tokens) is not kept alive
    by the cache once its request is done."""
    caller = next(c for c in callers if c.role == "ADMIN")
    padding = " " * 200_000
    for n in range(3):
        query = f"query Padded{n} {{ clients(first: 1) {{ totalCount }} }}{padding}"
        await _send(api, caller, Request("padded", query, {}))
    assert all(type(digest) is bytes and len(digest) == 16 for _, digest in enforcement.decisions._entries)


async def test_traced_memory_does_not_grow_with_requests(api: Api, callers: list[Caller]) -> None:
    """After a warm-up of the whole mix, 80 more requests (reads and writes, four at a time) leave
    less than 4 KB each of memory allocated by Python and still held, in all: an earlier leak
    held 15 to 57 KB a request, and a request's own allocations are hundreds of KB. What remains
    is bounded and one-off (dictionaries and sets resized once, the sqlite3 driver's weak
    references to closed cursors, dropped every 200 per connection, the interpreter's attribute
    cache): about 2.5 KB a request over 80, less over more."""
    mix, rng = Mix(callers, write_share=0.3), random.Random(3)
    await _every_kind(api, mix, rng)
    await _run(api, mix, rng, 40, concurrency=4)
    tracemalloc.start(1)
    try:
        gc.collect()
        before = tracemalloc.take_snapshot()
        await _run(api, mix, rng, 80, concurrency=4)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    stats = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "lineno")
    grown = sum(stat.size_diff for stat in stats)
    assert grown < 80 * 4 * 1024, "\n".join(str(stat) for stat in stats[:25])


async def test_the_document_cache_stays_within_its_bounds(api: Api, callers: list[Caller]) -> None:
    """Distinct documents, padded with whitespace (which costs no tokens) to just under the
    largest cached size and beyond it: the parsed documents, their texts and validation results
    stay within the cache's entries, tokens and characters, and a longer document is not kept."""
    caller = next(c for c in callers if c.role == "ADMIN")
    cache = limits.documents
    largest = limits.CACHED_DOCUMENT_CHARS
    for n in range(cache.max_chars // (largest - 100) + 8):
        query = f"query Padded{n} {{ clients(first: 1) {{ totalCount }} }}"
        await _send(api, caller, Request("padded", query + " " * (largest - 100 - len(query)), {}))
        assert cache.chars <= cache.max_chars and cache.tokens <= cache.max_tokens
        assert len(cache) <= cache.max_entries
    long = "query TooLong { clients(first: 1) { totalCount } }" + " " * largest
    await _send(api, caller, Request("long", long, {}))
    assert all(len(text) <= largest for text, _ in cache._entries)
    # Each cached document's validation results go with it: no tree outlives its entry.
    assert {id(entry.document) for entry in cache._entries.values()} == set(cache._by_document)


def test_the_document_cache_drops_the_least_recently_used_within_its_token_budget() -> None:
    cache = DocumentCache(entries=100, tokens=63, chars=10**6)
    texts = [f"query Q{n} {{ a b c }}" for n in range(10)]  # 9 tokens each, with <SOF> and <EOF>
    for text in texts[:7]:
        cache.parse(text)
    assert len(cache) == 7 and cache.tokens == 63
    cache.parse(texts[0])  # used again: now the most recent
    cache.parse(texts[7])  # over 63 tokens: the least recently used (Q1) goes
    assert [text for text, _ in cache._entries] == [texts[n] for n in (2, 3, 4, 5, 6, 0, 7)]
    assert cache.tokens == 63 and len(cache._by_document) == 7
    big = DocumentCache(entries=2, tokens=10**6, chars=10**6)
    for text in texts:
        big.parse(text)
    assert len(big) == 2 and big.tokens == 18


async def test_the_decision_cache_stays_within_its_bound(api: Api, callers: list[Caller]) -> None:
    caller = next(c for c in callers if c.role == "MANAGER")
    size = enforcement.decisions.size
    for n in range(40):
        await _send(api, caller, Request("distinct", f"query Distinct{n} {{ clients(first: 1) {{ totalCount }} }}", {}))
    assert len(enforcement.decisions._entries) <= size == 2048
