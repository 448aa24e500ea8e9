"""Scheduled jobs (resolvers/jobs/): the log of every run, and what each job has sent.

`job_sent` is what makes a job idempotent: one row per (job, key), where the key names what was
sent and to whom it belongs (an invoice's reminder step, a manager's ISO week, ...). A job
inserts the row in the same transaction as the outbox e-mail, and queues the e-mail only when
the insert took; the unique constraint is the guarantee, whatever else runs at the same time.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class JobRun(SQLModel, table=True):
    """One run of one job: DONE (with how many e-mails it queued and how many subjects it had no
    address for) or FAILED (with the error). A run that found the job busy on another worker
    is not logged: nothing ran."""

    __tablename__ = "job_run"
    __table_args__ = (sa.CheckConstraint("status IN ('DONE', 'FAILED')", name="status_known"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(sa_type=sa.String(50), index=True)
    # The moment the job looked at the data as of (the clock, or `agency run-jobs --now`).
    as_of: dt.datetime = Field(sa_type=UTCDateTime)
    started_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(sa_type=sa.String(10))
    sent: int = Field(default=0)
    no_recipient: int = Field(default=0)
    error: str | None = Field(default=None, sa_type=sa.Text)


class JobSent(SQLModel, table=True):
    """One thing a job sent, once: the key names it (`invoice:12:day:7`, `manager:3:week:2026-W49`)."""

    __tablename__ = "job_sent"
    __table_args__ = (sa.UniqueConstraint("job", "key", name="uq_job_sent_job_key"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(sa_type=sa.String(50))
    key: str = Field(sa_type=sa.String(200))
    run_id: int = Field(foreign_key="job_run.id", index=True)
    recipients: str = Field(sa_type=sa.Text)
    sent_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
