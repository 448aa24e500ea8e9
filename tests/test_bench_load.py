"""bench/load.py's core, run small against the in-process app: the report adds up, writes are read back."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.load import (
    Mix,
    Request,
    StageReport,
    classify,
    exception_lines,
    parse_sign_ins,
    prepare,
    run_stage,
    table,
    verify_writes,
)
from server.demo import DemoSignIn
from tests.utils import Api

REQUESTS = 16


async def test_a_small_mixed_load_reports_every_request(api: Api, demo: list[DemoSignIn], engine: AsyncEngine) -> None:
    # One sign-in of each role keeps the Argon2 checks few.
    by_role = {s.role: s for s in reversed(demo)}
    callers = await prepare(api.client, "/graphql", [(s.email, s.password, s.role) for s in by_role.values()])
    assert {c.role for c in callers} == {"ADMIN", "MANAGER", "MEMBER", "CLIENT"}
    assert all(c.token and c.client_ids for c in callers)

    mix = Mix(callers, write_share=0.5)

    async def verify(written: list[tuple[str, int, str]]) -> list[str]:
        return await verify_writes(engine, written)

    report = await run_stage(api.client, "/graphql", mix, 2, requests=REQUESTS, name="smoke", verify=verify)

    as_dict = report.to_dict()
    for key in (
        "requests",
        "throughput",
        "p50_ms",
        "p99_ms",
        "http_5xx",
        "unhandled",
        "writes_acknowledged",
        "writes_lost",
        "rss_start_mb",
        "rss_end_mb",
        "by_op",
        "messages",
    ):
        assert key in as_dict
    assert report.requests == REQUESTS
    assert sum(int(o["requests"]) for o in report.by_op.values()) == REQUESTS
    assert report.ok + sum(int(o["failed"]) for o in report.by_op.values()) == REQUESTS
    assert report.writes_acknowledged > 0
    assert report.writes_lost == 0, report.lost
    assert "| smoke | 2 | 16 |" in table([report])
    assert StageReport(**as_dict) == report


async def test_a_write_that_is_not_there_is_lost(db: object, engine: AsyncEngine) -> None:
    lost = await verify_writes(engine, [("Comment", 987654321, "load-x-000001")])
    assert len(lost) == 1 and "no such row" in lost[0]


def test_errors_are_sorted_into_kinds() -> None:
    read = Request("clients_page", "query { x }", {})
    masked = classify(read, 200, b'{"data": null, "errors": [{"message": "Unexpected error."}]}')
    assert [k for k, _ in masked.problems] == ["unhandled"] and not masked.ok
    no_code = classify(read, 200, b'{"data": null, "errors": [{"message": "boom", "extensions": {}}]}')
    assert [k for k, _ in no_code.problems] == ["unhandled"]
    typed = classify(read, 200, b'{"data": null, "errors": [{"message": "no", "extensions": {"code": "FORBIDDEN"}}]}')
    assert typed.problems == [("typed", "FORBIDDEN: no")]
    plain_500 = classify(read, 500, b"Internal Server Error")
    assert [k for k, _ in plain_500.problems] == ["5xx"]

    write = Request("add_comment", "mutation { x }", {}, ("addComment", "comment", "load-x-000002"))
    body = b'{"data": {"addComment": {"comment": {"id": "Q29tbWVudDo0Mg==", "body": "b"}, "errors": []}}}'
    acked = classify(write, 200, body)
    assert acked.ok and acked.written == ("Comment", 42, "load-x-000002")
    refused = classify(write, 200, b'{"data": {"addComment": {"comment": null, "errors": [{"code": "NOT_FOUND"}]}}}')
    assert refused.written is None and [k for k, _ in refused.problems] == ["refused"]


def test_the_demo_sign_ins_and_server_exceptions_are_read_from_the_log() -> None:
    log = (
        "The demo agency is loaded. Sign in with any of these (password for all: demo-password):\n"
        "  ADMIN    owner@agency.example                 agency owner\n"
        "  CLIENT   olivia@northwind.example             portal user for Northwind Coffee\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in f\n'
        "sqlite3.OperationalError: database is locked\n"
    )
    assert parse_sign_ins(log) == [
        ("owner@agency.example", "demo-password", "ADMIN"),
        ("olivia@northwind.example", "demo-password", "CLIENT"),
    ]
    assert exception_lines(log) == {"sqlite3.OperationalError: database is locked": 1}
