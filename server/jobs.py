"""The scheduled jobs (resolvers/jobs/): run by the server every AGENCY_JOBS_INTERVAL seconds, and
once with `agency run-jobs`. Every worker runs the schedule; each job runs on one worker at a time
(resolvers/jobs/runner.py), and a job that is busy elsewhere is skipped."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.settings import Settings

if TYPE_CHECKING:
    from resolvers.jobs import JobConfig, JobResult

log = logging.getLogger("agency.jobs")

JOB_NAMES = ("invoice_reminders", "survey_requests", "weekly_digest", "portal_login_alerts")
"""resolvers.jobs.JOBS's names, in its order (kept here so the command line starts without importing the jobs)."""

FIRST_RUN_DELAY_SECONDS = 60.0
"""A starting server serves first: its first jobs run this long after start (or one interval, if shorter)."""


def portal_url(settings: Settings) -> str:
    """Where survey requests send the client: AGENCY_PORTAL_URL, else /graphql on the server the
    invitation links point at (where a portal user signs in and answers)."""
    if settings.portal_url:
        return settings.portal_url
    accept = urlsplit(settings.portal_accept_url or "http://127.0.0.1:8000/portal/accept")
    return urlunsplit((accept.scheme, accept.netloc, "/graphql", "", ""))


def job_config(settings: Settings) -> JobConfig:
    from resolvers.jobs import JobConfig

    return JobConfig(
        reminder_days=tuple(settings.reminder_days),
        portal_url=portal_url(settings),
        agency_name=settings.agency_name,
        currency=settings.currency,
    )


async def run_jobs_forever(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    stop: asyncio.Event | None = None,
) -> None:
    """Run every job each AGENCY_JOBS_INTERVAL seconds until `stop` is set. A pass under way when
    it is set finishes first (its transactions commit or roll back whole, never cut off half-way
    on a connection the next user of the database would find still holding its lock)."""
    from resolvers.jobs import run_jobs

    stop = stop or asyncio.Event()
    config = job_config(settings)
    pause = min(FIRST_RUN_DELAY_SECONDS, settings.jobs_interval_seconds)
    while not await _stopped_within(stop, pause):
        try:
            await run_jobs(session_factory, config)
        except Exception:
            log.exception("running the scheduled jobs failed")
        pause = settings.jobs_interval_seconds


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds` for `stop`; whether it was set."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def run_once(settings: Settings, *, only: list[str] | None, now: dt.datetime | None) -> list[JobResult]:
    from models.db import make_engine, make_session_factory
    from resolvers.jobs import run_jobs

    engine = make_engine(settings.database_url)
    try:
        return await run_jobs(make_session_factory(engine), job_config(settings), now=now, only=only)
    finally:
        await engine.dispose()


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("an ISO 8601 date or time, e.g. 2026-12-07 or 2026-12-07T08:00:00Z") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def add_job_commands(sub: Any) -> None:
    command = sub.add_parser(
        "run-jobs",
        help="run the scheduled jobs now: overdue invoice reminders, survey requests, the weekly digest,"
        " portal login alerts (the server also runs them every AGENCY_JOBS_INTERVAL seconds)",
    )
    command.add_argument(
        "--job",
        action="append",
        choices=JOB_NAMES,
        metavar="NAME",
        help=f"run only this job (repeat for several): {', '.join(JOB_NAMES)}",
    )
    command.add_argument(
        "--now",
        type=_moment,
        metavar="ISO",
        help="look at the data as of this moment instead of the clock (UTC unless it says): to test or catch up",
    )
    command.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    results = asyncio.run(run_once(Settings(), only=args.job, now=args.now))
    failed = False
    for result in results:
        if result.status == "FAILED":
            failed = True
            print(f"{result.job}: FAILED: {result.error}", file=sys.stderr)
        elif result.status == "BUSY":
            print(f"{result.job}: skipped, running on another worker")
        else:
            print(f"{result.job}: {result.sent} e-mail(s) queued, {result.no_recipient} without a recipient")
    return 1 if failed else 0
