"""Running the scheduled jobs: each job once, in one write transaction, logged in `job_run`.

Decisions (also in the package docstring and the README):
- One job run is one write transaction: it takes the job's lock, selects what is due, records each
  thing it sends in `job_sent` and queues the e-mails in the outbox, and logs the run (`job_run`,
  DONE with its counts). Either all of a run's e-mails are queued or none; the outbox sender
  delivers them afterwards, so a rolled-back run never sends anything.
- One worker runs a given job at a time. On PostgreSQL the run first takes
  `pg_try_advisory_xact_lock` on a key derived from the job's name: a worker that does not get it
  skips the job (BUSY, not logged: nothing ran) and the lock ends with the transaction. On SQLite
  every write transaction already holds the database's write lock from its first statement (BEGIN
  IMMEDIATE, and the in-process writer lock), so concurrent runs take turns and the second finds
  the first's `job_sent` rows.
- Idempotent: every e-mail has a key (what it is about and its step, week or spell); the run
  inserts the keys with ON CONFLICT DO NOTHING ... RETURNING and queues an e-mail only for a key
  its own insert took. The unique constraint on (job, key) is the guarantee on both stores,
  lock or no lock: a second run, rerun or concurrent, sends nothing twice.
- A failed run rolls back whole and is logged FAILED with the error in a transaction of its own
  (when the database is away, only the server log says so); the next run tries again.
- A run reads and writes in a constant number of statements whatever the number of clients
  (bulk inserts of keys and e-mails, 500 to a statement), so on SQLite the writer lock it holds is
  held briefly.
- `now` is the moment a run looks at the data as of (`agency run-jobs --now` sets it for a test or
  a catch-up); the log's started and finished times are the clock's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from models import JobRun, JobSent, OutboxEmail, utcnow
from models.db import is_unavailable, write_transaction

log = logging.getLogger("agency.jobs")

MAX_ERROR = 2000
_CHUNK = 500


@dataclass(frozen=True)
class JobConfig:
    """What the jobs are tuned by (server/settings.py builds it from the environment)."""

    reminder_days: tuple[int, ...] = (1, 7, 14)
    portal_url: str = "http://127.0.0.1:8000/graphql"
    agency_name: str = "Agency OS"
    currency: str = "USD"
    # A project completed (last changed) this many days ago or less gets a survey request: a first
    # run on an old database does not survey every project ever completed.
    survey_window_days: int = 14
    # The digest's "went quiet": no activity for this many days (the dashboard's default).
    quiet_days: int = 30
    # A portal user who has not signed in for this many days is reported to the account manager.
    portal_quiet_days: int = 30


@dataclass(frozen=True)
class Outgoing:
    """One thing to send once: its key in `job_sent`, and the e-mail (one per recipient)."""

    key: str
    to: tuple[str, ...]
    subject: str
    body: str


@dataclass
class Selection:
    """What a job found due: the e-mails, and how many subjects had no one to send them to (left
    unsent, so they go out once an address is known)."""

    outgoing: list[Outgoing] = field(default_factory=list)
    no_recipient: int = 0


JobFunction = Callable[[AsyncSession, JobConfig, dt.datetime], Awaitable[Selection]]


@dataclass(frozen=True)
class JobResult:
    job: str
    status: str  # DONE, BUSY (another worker runs it), FAILED
    sent: int = 0
    no_recipient: int = 0
    error: str | None = None


def lock_key(job: str) -> int:
    """The job's PostgreSQL advisory lock key: a stable signed 64-bit number from its name."""
    digest = hashlib.sha256(f"agency.job:{job}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def _take_lock(session: AsyncSession, job: str) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: this transaction holds the database's write lock already
    return bool(await session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(lock_key(job)))))


def _insert(dialect: str) -> Any:
    return postgresql.insert(JobSent) if dialect == "postgresql" else sqlite.insert(JobSent)


async def _already_sent(session: AsyncSession, job: str, keys: Sequence[str]) -> set[str]:
    sent: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        rows = await session.scalars(
            sa.select(col(JobSent.key)).where(col(JobSent.job) == job, col(JobSent.key).in_(chunk))
        )
        sent.update(rows)
    return sent


async def record_and_queue(session: AsyncSession, job: str, run_id: int, outgoing: Sequence[Outgoing]) -> int:
    """Record each not-yet-sent key and queue its e-mails, in the caller's transaction; returns
    how many e-mails were queued. A key another run holds already is skipped (the constraint)."""
    done = await _already_sent(session, job, [item.key for item in outgoing])
    due = [item for item in outgoing if item.key not in done]
    dialect = session.get_bind().dialect.name
    now = utcnow()
    claimed: set[str] = set()
    for start in range(0, len(due), _CHUNK):
        chunk = due[start : start + _CHUNK]
        statement = (
            _insert(dialect)
            .values(
                [
                    dict(job=job, key=item.key, run_id=run_id, recipients=", ".join(item.to), sent_at=now)
                    for item in chunk
                ]
            )
            .on_conflict_do_nothing(index_elements=["job", "key"])
            .returning(col(JobSent.key))
        )
        claimed.update(await session.scalars(statement))
    emails = [
        dict(to_email=to, subject=item.subject[:300], body=item.body, attempts=0, created_at=now)
        for item in due
        if item.key in claimed
        for to in item.to
    ]
    for start in range(0, len(emails), _CHUNK):
        await session.execute(sa.insert(OutboxEmail).values(emails[start : start + _CHUNK]))
    return len(emails)


async def run_job(
    session_factory: async_sessionmaker[AsyncSession],
    job: str,
    function: JobFunction,
    config: JobConfig,
    now: dt.datetime,
) -> JobResult:
    started = utcnow()
    try:
        async with write_transaction(session_factory) as session:
            if not await _take_lock(session, job):
                log.info("job %s is running on another worker; skipped", job)
                return JobResult(job, "BUSY")
            run = JobRun(job=job, as_of=now, started_at=started, status="DONE")
            session.add(run)
            await session.flush()
            assert run.id is not None
            selection = await function(session, config, now)
            sent = await record_and_queue(session, job, run.id, selection.outgoing)
            run.sent, run.no_recipient, run.finished_at = sent, selection.no_recipient, utcnow()
        log.info("job %s: %s e-mail(s) queued, %s without a recipient", job, sent, selection.no_recipient)
        return JobResult(job, "DONE", sent, selection.no_recipient)
    except Exception as error:
        message = f"{type(error).__name__}: {error}"[:MAX_ERROR]
        if is_unavailable(error):
            log.warning("job %s waits for the database: %s", job, error)
            return JobResult(job, "FAILED", error=message)
        log.exception("job %s failed", job)
        try:
            async with write_transaction(session_factory) as session:
                session.add(
                    JobRun(job=job, as_of=now, started_at=started, finished_at=utcnow(), status="FAILED", error=message)
                )
        except Exception:
            log.exception("logging the failure of job %s failed too", job)
        return JobResult(job, "FAILED", error=message)


async def run_jobs(
    session_factory: async_sessionmaker[AsyncSession],
    config: JobConfig,
    *,
    now: dt.datetime | None = None,
    only: Sequence[str] | None = None,
) -> list[JobResult]:
    """Run every job (or those named in `only`, in the usual order), each in its own transaction."""
    from resolvers.jobs import JOBS

    unknown = sorted(set(only or ()) - set(JOBS))
    if unknown:
        raise ValueError(f"unknown job {', '.join(unknown)} (jobs: {', '.join(JOBS)})")
    at = now or utcnow()
    return [
        await run_job(session_factory, name, function, config, at)
        for name, function in JOBS.items()
        if only is None or name in only
    ]
