"""Every job run twice in a row sends once; two workers running the jobs at once send once; each
run is logged, a failed one with its error; the command line runs them."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

import pytest
import sqlalchemy as sa
from sqlmodel import col

from models import (
    ContactRole,
    ContactRoleAssignment,
    JobRun,
    JobSent,
    OutboxEmail,
    ProjectHealth,
    ProjectStatus,
    Role,
)
from models.db import make_engine, make_session_factory
from resolvers import jobs as jobs_package
from resolvers.jobs import JOBS, JobConfig, run_jobs
from resolvers.jobs import runner as job_runner
from resolvers.outbox import drain_outbox
from server.cli import main
from server.jobs import JOB_NAMES, portal_url
from server.settings import Settings
from tests.utils import count, rows

NOW = dt.datetime(2026, 11, 16, 8, 0, tzinfo=dt.UTC)  # a Monday
CONFIG = JobConfig()
# What the scene below makes each job send: 2 reminders (billing contact, and the primary), one
# survey request, two digests, one portal alert.
EXPECTED = {"invoice_reminders": 2, "survey_requests": 1, "weekly_digest": 2, "portal_login_alerts": 1}


async def scene(factory) -> None:
    maria = await factory.user(Role.MANAGER)
    sam = await factory.user(Role.MANAGER)
    acme = await factory.client("Acme", account_manager_id=maria.id)
    billing = await factory.contact(acme)
    await factory.add(ContactRoleAssignment(contact_id=billing.id, role=ContactRole.BILLING))
    await factory.invoice(acme, due_date=dt.date(2026, 11, 1))
    await factory.project(acme, health=ProjectHealth.AT_RISK)
    globex = await factory.client("Globex", account_manager_id=sam.id)
    await factory.contact(globex, primary=True)
    await factory.invoice(globex, due_date=dt.date(2026, 11, 10))
    await factory.portal_user(globex, last_login_at=NOW - dt.timedelta(days=45))
    await factory.project(globex, status=ProjectStatus.COMPLETED, completed_at=NOW - dt.timedelta(days=1))


async def sent_by_job(db) -> dict[str, int]:
    async with db() as session:
        result = await session.execute(sa.select(col(JobSent.job), sa.func.count()).group_by(col(JobSent.job)))
        return dict(result.all())


def test_the_command_line_names_every_job():
    assert JOB_NAMES == tuple(JOBS)


async def test_every_job_run_twice_in_a_row_sends_once(db, factory):
    await scene(factory)
    first = await run_jobs(db, CONFIG, now=NOW)
    assert {r.job: (r.status, r.sent) for r in first} == {job: ("DONE", n) for job, n in EXPECTED.items()}
    assert await count(db, OutboxEmail) == sum(EXPECTED.values())
    second = await run_jobs(db, CONFIG, now=NOW + dt.timedelta(minutes=15))
    assert {r.job: (r.status, r.sent) for r in second} == dict.fromkeys(EXPECTED, ("DONE", 0))
    assert await count(db, OutboxEmail) == sum(EXPECTED.values())
    assert await sent_by_job(db) == EXPECTED
    runs = await rows(db, JobRun)
    assert [(r.job, r.status, r.sent) for r in runs] == [(job, "DONE", n) for job, n in EXPECTED.items()] + [
        (job, "DONE", 0) for job in EXPECTED
    ]
    assert all(r.finished_at is not None and r.finished_at >= r.started_at and r.as_of is not None for r in runs)

    # The outbox sender delivers them like any other e-mail.
    class Collect:
        def __init__(self) -> None:
            self.sent: list[str] = []

        async def send(self, email: OutboxEmail) -> None:
            self.sent.append(email.to_email)

    sender = Collect()
    assert await drain_outbox(db, sender) == sum(EXPECTED.values()) == len(sender.sent)


async def test_two_workers_running_the_jobs_at_once_send_once(db, factory, database_url):
    await scene(factory)
    engines = [make_engine(database_url), make_engine(database_url)]
    try:
        workers = [make_session_factory(engine) for engine in engines]
        results = await asyncio.gather(*(run_jobs(worker, CONFIG, now=NOW) for worker in workers))
    finally:
        for engine in engines:
            await engine.dispose()
    for job, n in EXPECTED.items():
        both = [r for worker in results for r in worker if r.job == job]
        assert sorted(r.status for r in both) in (["DONE", "DONE"], ["BUSY", "DONE"])
        assert sum(r.sent for r in both) == n
    assert await count(db, OutboxEmail) == sum(EXPECTED.values())
    assert await sent_by_job(db) == EXPECTED
    emails = [(e.to_email, e.subject) for e in await rows(db, OutboxEmail)]
    assert len(set(emails)) == len(emails)


async def test_without_the_lock_the_unique_key_still_sends_once(db, factory, database_url, monkeypatch):
    """The advisory lock only spares work: two runs that both get past it still send once."""

    async def always(session, job):
        return True

    monkeypatch.setattr(job_runner, "_take_lock", always)
    await scene(factory)
    engines = [make_engine(database_url), make_engine(database_url)]
    try:
        results = await asyncio.gather(*(run_jobs(make_session_factory(e), CONFIG, now=NOW) for e in engines))
    finally:
        for engine in engines:
            await engine.dispose()
    assert all(r.status == "DONE" for worker in results for r in worker)
    assert await count(db, OutboxEmail) == sum(EXPECTED.values())
    assert await sent_by_job(db) == EXPECTED


async def test_a_busy_job_is_skipped_on_postgresql(db, factory, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite's write lock makes runs take turns")
    await scene(factory)
    async with engine.connect() as holder:
        await holder.execute(sa.select(sa.func.pg_advisory_lock(job_runner.lock_key("weekly_digest"))))
        try:
            [busy] = await run_jobs(db, CONFIG, now=NOW, only=["weekly_digest"])
        finally:
            await holder.execute(sa.select(sa.func.pg_advisory_unlock(job_runner.lock_key("weekly_digest"))))
    assert busy.status == "BUSY" and busy.sent == 0
    assert await count(db, OutboxEmail) == 0 and await count(db, JobRun) == 0
    [done] = await run_jobs(db, CONFIG, now=NOW, only=["weekly_digest"])
    assert (done.status, done.sent) == ("DONE", 2)


async def test_a_failed_run_is_logged_with_its_error_and_sends_nothing(db, factory, monkeypatch):
    await scene(factory)

    async def broken(session, config, now):
        from resolvers.jobs.reminders import select_reminders

        selection = await select_reminders(session, config, now)
        assert selection.outgoing  # it had something to send, and still sends nothing
        raise RuntimeError("the template is broken")

    monkeypatch.setitem(jobs_package.JOBS, "invoice_reminders", broken)
    results = await run_jobs(db, CONFIG, now=NOW)
    assert [(r.job, r.status) for r in results] == [
        ("invoice_reminders", "FAILED"),
        ("survey_requests", "DONE"),
        ("weekly_digest", "DONE"),
        ("portal_login_alerts", "DONE"),
    ]
    [failed] = await rows(db, JobRun, JobRun.job == "invoice_reminders")
    assert failed.status == "FAILED" and failed.error == "RuntimeError: the template is broken" and failed.sent == 0
    assert await count(db, JobSent, JobSent.job == "invoice_reminders") == 0
    assert await count(db, OutboxEmail) == sum(EXPECTED.values()) - EXPECTED["invoice_reminders"]
    monkeypatch.undo()
    [retried] = await run_jobs(db, CONFIG, now=NOW, only=["invoice_reminders"])
    assert (retried.status, retried.sent) == ("DONE", 2)


async def test_an_unknown_job_is_refused_and_runs_nothing(db):
    with pytest.raises(ValueError, match="unknown job nightly"):
        await run_jobs(db, CONFIG, now=NOW, only=["nightly"])
    assert await count(db, JobRun) == 0


def test_settings_reminder_days_and_portal_url():
    settings = Settings(
        AGENCY_REMINDER_DAYS="14, 3", AGENCY_PORTAL_ACCEPT_URL="https://api.agency.example/portal/accept"
    )
    assert settings.reminder_days == (3, 14)
    assert portal_url(settings) == "https://api.agency.example/graphql"
    assert portal_url(Settings(AGENCY_PORTAL_URL="https://portal.agency.example/")) == "https://portal.agency.example/"
    for bad in ("", "1,1", "-1", "x"):
        with pytest.raises(ValueError):
            Settings(AGENCY_REMINDER_DAYS=bad)
    assert Settings().jobs_interval_seconds == 900
    with pytest.raises(ValueError):
        Settings(AGENCY_JOBS_INTERVAL="-1")


def test_run_jobs_at_the_command_line_logs_each_run(tmp_path, monkeypatch, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["migrate"]) == 0
    assert main(["run-jobs", "--job", "weekly_digest", "--job", "invoice_reminders", "--now", "2026-11-16"]) == 0
    out = capsys.readouterr().out
    assert "invoice_reminders: 0 e-mail(s) queued, 0 without a recipient" in out
    assert "weekly_digest: 0 e-mail(s) queued" in out and "survey_requests" not in out
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        logged = conn.execute("SELECT job, status, as_of FROM job_run ORDER BY id").fetchall()
    assert [(job, status) for job, status, _ in logged] == [("invoice_reminders", "DONE"), ("weekly_digest", "DONE")]
    assert logged[0][2].startswith("2026-11-16 00:00:00")
    with pytest.raises(SystemExit):
        main(["run-jobs", "--job", "nightly"])
    with pytest.raises(SystemExit):
        main(["run-jobs", "--now", "yesterday"])
    assert "an ISO 8601 date or time" in capsys.readouterr().err


async def test_a_run_costs_the_same_statements_whatever_the_number_of_clients(db, factory, engine, statements):
    await scene(factory)
    statements.reset()
    await run_jobs(db, CONFIG, now=NOW)
    few = statements.count
    from tests.conftest import empty_database

    await empty_database(engine)
    for _ in range(4):
        await scene(factory)
    statements.reset()
    results = await run_jobs(db, CONFIG, now=NOW)
    assert {r.job: r.sent for r in results} == {job: 4 * n for job, n in EXPECTED.items()}
    assert statements.count == few


async def test_the_server_schedule_runs_the_jobs_every_interval(db, factory):
    from server.jobs import run_jobs_forever

    await scene(factory)
    settings = Settings(AGENCY_JOBS_INTERVAL="0.05", DATABASE_URL="unused")
    stop = asyncio.Event()
    task = asyncio.create_task(run_jobs_forever(settings, db, stop))
    try:
        for _ in range(400):  # two passes of every job, within 20 s
            if await count(db, JobRun) >= 2 * len(JOBS):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()  # the pass under way finishes: no connection left holding SQLite's write lock
        await asyncio.wait_for(task, 20)
    assert task.done() and task.exception() is None
    runs = await rows(db, JobRun)
    assert len(runs) >= 2 * len(JOBS)
    assert {r.status for r in runs} == {"DONE"} and {r.job for r in runs} == set(JOBS)
    # Ran as of the clock (not the test's NOW), and each e-mail once however many passes ran.
    assert await count(db, OutboxEmail) == sum(r.sent for r in runs) > 0
    emails = [(e.to_email, e.subject) for e in await rows(db, OutboxEmail)]
    assert len(set(emails)) == len(emails)


async def test_the_server_schedule_stops_between_passes_when_told(db, factory):
    from server.jobs import run_jobs_forever

    await scene(factory)
    stop = asyncio.Event()
    task = asyncio.create_task(run_jobs_forever(Settings(AGENCY_JOBS_INTERVAL="30", DATABASE_URL="unused"), db, stop))
    await asyncio.sleep(0.05)
    assert not task.done()  # waiting out its first pause
    stop.set()
    await asyncio.wait_for(task, 5)  # returns at once, not after the pause
    assert await count(db, JobRun) == 0
