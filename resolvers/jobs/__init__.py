"""Scheduled jobs that act on account health: overdue invoice reminders, satisfaction survey
requests after a project completes, the account managers' weekly digest, and alerts about portal
users who stopped signing in. Each job is a module that selects what is due (`select_*`); the
runner (runner.py, whose docstring holds the decisions on locking, idempotency and logging) runs
them, by the server every AGENCY_JOBS_INTERVAL seconds and by `agency run-jobs` on demand."""

from __future__ import annotations

from resolvers.jobs import digest, portal_logins, reminders, surveys
from resolvers.jobs.runner import JobConfig, JobFunction, JobResult, run_jobs

JOBS: dict[str, JobFunction] = {
    reminders.NAME: reminders.select_reminders,
    surveys.NAME: surveys.select_survey_requests,
    digest.NAME: digest.select_digests,
    portal_logins.NAME: portal_logins.select_portal_login_alerts,
}

__all__ = ["JOBS", "JobConfig", "JobResult", "run_jobs"]
