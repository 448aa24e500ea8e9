"""The custom health score: every client's 0-100 score and band, computed in SQL over the caller's rows.

The formula (one statement per use, the weights read in it from `health_score_weight`):

- Each signal s has a per-client value v_s (a SQL expression over the caller's rows: days past due,
  days quiet, ...; NULL when the client has no such data) and a ramp (start, full): its severity
  is 0 at or before `start`, 1 at or past `full`, linear in between, and 0 when v_s is NULL (no data
  is no warning sign).
- Each signal has a weight w_s from 0 to 100 the agency sets (`setHealthScoreWeights`, ADMIN; a
  signal the agency never set has its default, SIGNALS below). A signal's points are
  w_s / W x 100 x severity_s, where W is the sum of the weights of the signals computed today.
  With the default weights (which add up to 100 over every signal) a weight is the most points its
  signal can take off.
- score = 100 - the sum of the points, rounded half up to a whole number: from 0 to 100.
- band: HEALTHY 75-100, WATCH 50-74, AT_RISK 0-49.
- A client's reasons are its signals with points above zero, most points first, with the value
  behind each.

Signals (value; ramp start -> full; default weight):

- OVERDUE_PAYMENTS: days the client's oldest overdue invoice is past due (a SENT invoice past its due
  date with something left to pay); 0 -> 60 days; 25.
- QUIET_DAYS: whole days since the client's latest client-facing touchpoint (a meeting held, a logged
  interaction, a Reply either way, a portal sign-in, a payment: resolvers/dashboard/signals.py; since
  it was created when there is none); 30 -> 90; 15.
- PORTAL_LOGINS: for a client with an active portal user, whole days since its last portal sign-in
  (since its first active portal user was created when none); 30 -> 90 ("no portal logins in 30+
  days"); 10. A client with no portal user has no value.
- AT_RISK_PROJECTS: its ACTIVE and ON_HOLD projects' risk, AT_RISK counting 1 and OFF_TRACK 2;
  0 -> 2 (one off-track project, or two at risk, is the whole weight); 20.
- NPS: the client's NPS over its survey answers of the last 365 days (% of 9-10 minus % of 0-6);
  +50 -> -50; 15. No answers, no value.
- RESPONSE_DELAYS: the average hours to answer a Reply over the last 90 days, the slower of the two
  ways (the team answering the client, the client answering the team: signals.response_delay_by_client);
  24 -> 120 hours; 10. Replies nobody answered yet are not in the average.
- SCOPE_CUTS: scope reductions (a lower budget) and project cancellations in the last 180 days, from the
  scope change log (signals.scope_cuts_by_client); 0 -> 2; 5.

Each signal's value is one function in SIGNALS below returning (client_id, value) rows over the caller's
rows: plugging in another is one line. A signal whose function is None is accepted and weighted but
not computed (`computed: false`): it takes nothing off and its weight is left out of W.

Row scope: every value composes the row scope of each table it reads, so the score is the caller's
reading: a MEMBER, who reads no invoices, has no OVERDUE_PAYMENTS value. Scores are the team's
(auth.scopes.health_score_scope): a portal user or a partner gets no score row at all, besides the
field policy (Client.healthScore is INTERNAL, and no partner scope lists the score's own types).
The dashboard's distribution and lowest-score list cover the clients not churned; Client.healthScore
answers for any visible client.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models import (
    ActivityKind,
    Client,
    HealthBand,
    HealthScoreWeight,
    HealthSignal,
    Invoice,
    Project,
    ProjectHealth,
    Role,
    SatisfactionSurvey,
    User,
)
from models.base import utcnow
from resolvers.activity import record_activity
from resolvers.batching import in_keys, with_keys
from resolvers.dashboard import signals
from resolvers.dashboard.health import OPEN_PROJECT, _overdue_by_client
from resolvers.dashboard.params import DashboardParams
from resolvers.dashboard.rows import not_churned
from resolvers.db import RequestDb
from resolvers.errors import InputError
from resolvers.sql_functions import epoch_seconds, midnight, round_half_up, whole_part

DAY = 86400.0
HEALTHY_FROM, WATCH_FROM = 75, 50
MIN_WEIGHT, MAX_WEIGHT = 0, 100
NPS_WINDOW = dt.timedelta(days=365)
RESPONSE_WINDOW = dt.timedelta(days=90)
SCOPE_CUT_WINDOW = dt.timedelta(days=180)


# --------------------------------------------------------------------------- SQL helpers


def _days_before(moment: dt.datetime, column: Any) -> ColumnElement[int]:
    """Whole days from `column` (a timestamp or date) to `moment`."""
    return whole_part((sa.literal(moment.timestamp(), sa.Float) - epoch_seconds(column)) / DAY)


# --------------------------------------------------------------------------- the signals

SignalValues = Callable[[Principal, dt.datetime, signals.ClientIds], sa.Select]
"""(principal, now, within) -> a select of (client_id, value) rows over the caller's rows, at most one per
client, reading only the rows of the clients `within` keeps (signals.ClientIds: applied to each part
before it groups, so a page of clients costs its own rows, not the agency's)."""


def overdue_payment_days(principal: Principal, now: dt.datetime, within: signals.ClientIds) -> sa.Select:
    overdue = _overdue_by_client(principal, now.date(), within(col(Invoice.client_id)))
    return sa.select(
        overdue.c.client_id.label("client_id"), _days_before(midnight(now.date()), overdue.c.oldest).label("value")
    )


def quiet_days(principal: Principal, now: dt.datetime, within: signals.ClientIds) -> sa.Select:
    quiet = signals.quiet_days_by_client(principal, now, within=within)
    # Never in touch: quiet since the client was created.
    never = (sa.literal(now.timestamp(), sa.Float) - epoch_seconds(col(Client.created_at))) / DAY
    return sa.select(
        quiet.c.client_id.label("client_id"), whole_part(sa.func.coalesce(quiet.c.quiet_days, never)).label("value")
    ).join(Client, col(Client.id) == quiet.c.client_id)


def portal_login_days(principal: Principal, now: dt.datetime, within: signals.ClientIds) -> sa.Select:
    users = (
        sa.select(col(User.client_id).label("client_id"), sa.func.min(col(User.created_at)).label("first_at"))
        .where(
            col(User.role) == Role.CLIENT,
            col(User.is_active).is_(True),
            within(col(User.client_id)),
            scopes.user_scope(principal),
        )
        .group_by(col(User.client_id))
        .subquery()
    )
    logins = signals.portal_logins_by_client(principal, now, within=within)
    since = sa.func.coalesce(epoch_seconds(logins.c.last_at), epoch_seconds(users.c.first_at))
    return sa.select(
        users.c.client_id.label("client_id"),
        whole_part((sa.literal(now.timestamp(), sa.Float) - since) / DAY).label("value"),
    ).outerjoin(logins, logins.c.client_id == users.c.client_id)


def response_delay_hours(principal: Principal, now: dt.datetime, within: signals.ClientIds) -> sa.Select:
    delays = signals.response_delay_by_client(principal, now - RESPONSE_WINDOW, within=within)
    agency, client = delays.c.agency_hours, delays.c.client_hours
    slower = sa.case(
        (agency.is_(None), client),
        (client.is_(None), agency),
        (agency >= client, agency),
        else_=client,
    )
    return sa.select(delays.c.client_id.label("client_id"), slower.label("value"))


def scope_cuts(principal: Principal, now: dt.datetime, within: signals.ClientIds) -> sa.Select:
    cuts = signals.scope_cuts_by_client(principal, now - SCOPE_CUT_WINDOW, within=within)
    return sa.select(cuts.c.client_id.label("client_id"), cuts.c.cuts.label("value"))


def at_risk_project_points(principal: Principal, now: dt.datetime, within: signals.ClientIds) -> sa.Select:
    risk = sa.case(
        (col(Project.health) == ProjectHealth.OFF_TRACK, 2), (col(Project.health) == ProjectHealth.AT_RISK, 1), else_=0
    )
    return (
        sa.select(col(Project.client_id).label("client_id"), sa.func.sum(risk).label("value"))
        .where(col(Project.status).in_(OPEN_PROJECT), within(col(Project.client_id)), scopes.project_scope(principal))
        .group_by(col(Project.client_id))
    )


def client_nps(principal: Principal, now: dt.datetime, within: signals.ClientIds) -> sa.Select:
    score = col(SatisfactionSurvey.score)
    promoters = sa.func.sum(sa.case((score >= 9, 1), else_=0))
    detractors = sa.func.sum(sa.case((score <= 6, 1), else_=0))
    return (
        sa.select(
            col(SatisfactionSurvey.client_id).label("client_id"),
            ((promoters - detractors) * 100.0 / sa.func.count()).label("value"),
        )
        .where(
            col(SatisfactionSurvey.responded_at) >= now - NPS_WINDOW,
            within(col(SatisfactionSurvey.client_id)),
            scopes.satisfaction_survey_scope(principal),
        )
        .group_by(col(SatisfactionSurvey.client_id))
    )


@dataclass(frozen=True)
class Signal:
    signal: HealthSignal
    default_weight: int
    start: float  # severity 0 at or before this value
    full: float  # severity 1 at or past this value
    unit: str
    description: str
    values: SignalValues | None  # None: not computed yet (its weight is kept, it takes nothing off)

    @property
    def computed(self) -> bool:
        return self.values is not None


# One line per signal: plug a signal's value function in here.
SIGNALS: dict[HealthSignal, Signal] = {
    s.signal: s
    for s in (
        Signal(
            HealthSignal.OVERDUE_PAYMENTS,
            25,
            0,
            60,
            "days",
            "Days the oldest overdue invoice is past due (0 to 60).",
            overdue_payment_days,
        ),
        Signal(
            HealthSignal.QUIET_DAYS,
            15,
            30,
            90,
            "days",
            "Days since the latest client-facing touchpoint: a meeting, interaction, Reply either way, portal "
            "sign-in or payment; since the client was created when none (30 to 90).",
            quiet_days,
        ),
        Signal(
            HealthSignal.PORTAL_LOGINS,
            10,
            30,
            90,
            "days",
            "Days since the last portal sign-in, for clients with portal users (30 to 90).",
            portal_login_days,
        ),
        Signal(
            HealthSignal.AT_RISK_PROJECTS,
            20,
            0,
            2,
            "risk",
            "Open projects at risk (1 each) or off track (2 each) (0 to 2).",
            at_risk_project_points,
        ),
        Signal(
            HealthSignal.RESPONSE_DELAYS,
            10,
            24,
            120,
            "hours",
            "Average hours to answer a Reply over the last 90 days, the slower way: the team answering the "
            "client, or the client answering the team (24 to 120).",
            response_delay_hours,
        ),
        Signal(
            HealthSignal.NPS,
            15,
            50,
            -50,
            "NPS",
            "The client's NPS over the last 365 days of survey answers (+50 to -50).",
            client_nps,
        ),
        Signal(
            HealthSignal.SCOPE_CUTS,
            5,
            0,
            2,
            "cuts",
            "Scope reductions (a lower budget) and project cancellations in the last 180 days (0 to 2).",
            scope_cuts,
        ),
    )
}
COMPUTED = tuple(s for s in SIGNALS.values() if s.computed)


def _severity(value: Any, signal: Signal) -> ColumnElement[float]:
    share = (sa.cast(value, sa.Float) - signal.start) / (signal.full - signal.start)
    return sa.case((value.is_(None), 0.0), (share <= 0, 0.0), (share >= 1, 1.0), else_=share)


def _weights() -> sa.Subquery:
    """One row: each computed signal's weight (its default when the agency never set it)."""
    weight = col(HealthScoreWeight.weight)
    return sa.select(
        *(
            sa.func.coalesce(
                sa.func.max(sa.case((col(HealthScoreWeight.signal) == s.signal.value, weight))), s.default_weight
            ).label(s.signal.value.lower())
            for s in COMPUTED
        )
    ).subquery("weights")


def scored_clients(
    principal: Principal,
    now: dt.datetime,
    *where: ColumnElement[bool],
    within: signals.ClientIds = signals.every_client,
) -> sa.Subquery:
    """(client_id, score, band, then v_<signal> and p_<signal> for each computed signal): one row per
    client the caller may see (and `where` and `within` keep), empty for anyone but staff. `within`
    narrows each signal's rows to those clients before it groups (a page's batch keys: `in_keys`);
    a client's score is the same with it or without."""
    weights = _weights()
    values: sa.Select[Any] = sa.select(col(Client.id).label("client_id"))
    for signal in COMPUTED:
        name = signal.signal.value.lower()
        assert signal.values is not None
        rows = signal.values(principal, now, within).subquery(f"s_{name}")
        values = values.outerjoin(rows, rows.c.client_id == col(Client.id)).add_columns(rows.c.value.label(f"v_{name}"))
    values = values.add_columns(*weights.c).join(weights, sa.true())
    inner = values.where(
        within(col(Client.id)), scopes.client_scope(principal), scopes.health_score_scope(principal), *where
    ).subquery("v")
    total = sum((inner.c[s.signal.value.lower()] for s in COMPUTED), sa.literal(0))
    points = {
        s.signal.value.lower(): (
            _severity(inner.c[f"v_{s.signal.value.lower()}"], s)
            * inner.c[s.signal.value.lower()]
            * 100.0
            / sa.func.nullif(total, 0)
        )
        for s in COMPUTED
    }
    middle = sa.select(
        inner.c.client_id,
        *(inner.c[f"v_{name}"] for name in points),
        *(p.label(f"p_{name}") for name, p in points.items()),
    ).subquery("p")
    score = round_half_up(100.0 - sum((middle.c[f"p_{name}"] for name in points), sa.literal(0.0)))
    band = sa.case(
        (score >= HEALTHY_FROM, HealthBand.HEALTHY.value),
        (score >= WATCH_FROM, HealthBand.WATCH.value),
        else_=HealthBand.AT_RISK.value,
    )
    return sa.select(middle, score.label("score"), band.label("band")).subquery("scored")


# --------------------------------------------------------------------------- reading scores back


@dataclass
class HealthReason:
    signal: HealthSignal
    value: float
    points: float
    summary: str


@dataclass
class HealthScore:
    client_id: int
    score: int
    band: HealthBand
    reasons: list[HealthReason]


def _summary(signal: HealthSignal, value: float) -> str:
    n = round(value)
    return {
        HealthSignal.OVERDUE_PAYMENTS: f"Oldest overdue invoice {n} days past due",
        HealthSignal.QUIET_DAYS: f"No touchpoint in {n} days",
        HealthSignal.PORTAL_LOGINS: f"No portal sign-in in {n} days",
        HealthSignal.AT_RISK_PROJECTS: f"Open projects at risk or off track (risk {n})",
        HealthSignal.RESPONSE_DELAYS: f"Replies answered in {value:g} hours on average, the slower way",
        HealthSignal.NPS: f"NPS {value:g} over the last 365 days",
        HealthSignal.SCOPE_CUTS: f"Scope cuts in the last 180 days: {n}",
    }[signal]


def _read(row: Any) -> HealthScore:
    """A HealthScore from a `scored_clients` row (by column name); each reason's points to one decimal."""
    reasons = []
    for signal in COMPUTED:
        name = signal.signal.value.lower()
        points, value = row[f"p_{name}"], row[f"v_{name}"]
        if points is not None and float(points) > 0 and value is not None:
            reasons.append(HealthReason(signal.signal, round(float(value), 2), round(float(points), 1), ""))
    reasons.sort(key=lambda r: (-r.points, r.signal.value))
    for reason in reasons:
        reason.summary = _summary(reason.signal, reason.value)
    return HealthScore(int(row["client_id"]), int(row["score"]), HealthBand(row["band"]), reasons)


async def scores_by_client(db: RequestDb, principal: Principal, keys: Sequence[int]) -> list[HealthScore | None]:
    """The scores of these clients (one statement, each signal reading only these clients' rows), None
    for a client the caller may not see."""
    scored = scored_clients(principal, utcnow(), within=in_keys)
    names, rows = await db.core_rows(with_keys(sa.select(scored), keys))
    found = {score.client_id: score for score in (_read(dict(zip(names, row, strict=True))) for row in rows)}
    return [found.get(key) for key in keys]


@dataclass
class BandCount:
    band: HealthBand
    count: int


@dataclass
class ClientHealth:
    client: Client
    health: HealthScore


@dataclass
class HealthScoreDistribution:
    clients: int
    average_score: float | None
    bands: list[BandCount]
    lowest: list[ClientHealth]


async def score_distribution(db: RequestDb, principal: Principal, params: DashboardParams) -> HealthScoreDistribution:
    """The dashboard's health scores, one statement: how many of the caller's clients not churned
    (within the view's clients) fall in each band (every band, zeros too), their average, and the
    lowest scores first (at most `top`). Window sums carry the whole distribution on every row the
    LIMIT keeps, so the scores are computed once."""
    scored = scored_clients(principal, params.now, not_churned(), *params.client_filter_where())
    per_band = [sa.func.sum(sa.case((scored.c.band == band.value, 1), else_=0)).over() for band in HealthBand]
    statement = (
        sa.select(Client, scored, sa.func.sum(scored.c.score).over().label("score_total"), *per_band)
        .join(scored, scored.c.client_id == col(Client.id))
        .order_by(scored.c.score, col(Client.id))
        .limit(params.top)
    )
    rows = await db.rows(statement)
    if not rows:
        return HealthScoreDistribution(0, None, [BandCount(band, 0) for band in HealthBand], [])
    counts = [int(n or 0) for n in rows[0][-len(HealthBand) :]]
    clients, total = sum(counts), int(rows[0]._mapping["score_total"] or 0)
    return HealthScoreDistribution(
        clients,
        round(total / clients, 1) if clients else None,
        [BandCount(band, n) for band, n in zip(HealthBand, counts, strict=True)],
        [ClientHealth(row[0], _read(row._mapping)) for row in rows],
    )


# --------------------------------------------------------------------------- the weights


@dataclass
class Weight:
    signal: HealthSignal
    weight: int
    default_weight: int
    computed: bool
    description: str
    updated_at: dt.datetime | None


def _weights_in(rows: Sequence[HealthScoreWeight]) -> list[Weight]:
    stored = {row.signal: row for row in rows}
    weights = []
    for signal in SIGNALS.values():
        row = stored.get(signal.signal.value)
        weights.append(
            Weight(
                signal.signal,
                signal.default_weight if row is None else row.weight,
                signal.default_weight,
                signal.computed,
                signal.description,
                None if row is None else row.updated_at,
            )
        )
    return weights


async def health_score_weights(db: RequestDb, principal: Principal) -> list[Weight]:
    """Every signal's weight, in a fixed order. The agency's configuration: no row scope (who may read
    it is the field policy)."""
    return _weights_in(await db.scalars(sa.select(HealthScoreWeight)))


@dataclass(frozen=True)
class WeightChange:
    signal: HealthSignal
    weight: int


async def set_health_score_weights(
    session: AsyncSession, principal: Principal, *, weights: list[WeightChange]
) -> list[Weight]:
    """Set some signals' weights (the others keep theirs), in one transaction. Each weight is a whole
    number from 0 to 100; a signal may be named once; the computed signals' weights must not all be 0
    (the score would have nothing to weigh). Bad input writes nothing."""
    if not weights:
        raise InputError("weights", "REQUIRED", "Give at least one signal's weight.")
    seen: set[HealthSignal] = set()
    for i, change in enumerate(weights):
        if change.signal in seen:
            raise InputError(f"weights.{i}.signal", "DUPLICATE", f"{change.signal.value} is given twice.")
        seen.add(change.signal)
        if not MIN_WEIGHT <= change.weight <= MAX_WEIGHT:
            raise InputError(
                f"weights.{i}.weight", "OUT_OF_RANGE", f"A weight is a whole number from {MIN_WEIGHT} to {MAX_WEIGHT}."
            )
    stored = (await session.scalars(sa.select(HealthScoreWeight))).all()
    current = {w.signal: w.weight for w in _weights_in(stored)}
    before = dict(current)
    current.update({change.signal: change.weight for change in weights})
    if sum(current[s.signal] for s in COMPUTED) == 0:
        raise InputError("weights", "ALL_ZERO", "At least one computed signal needs a weight above 0.")
    now = utcnow()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for change in weights:
        statement = insert(HealthScoreWeight).values(
            signal=change.signal.value, weight=change.weight, updated_at=now, updated_by_id=principal.user_id
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[col(HealthScoreWeight.signal)],
                set_={"weight": change.weight, "updated_at": now, "updated_by_id": principal.user_id},
            )
        )
    # In the audit trail as the agency's other settings are (a client status created): no client, the
    # actor, and each weight given, from what it was.
    record_activity(
        session,
        principal,
        ActivityKind.SETTINGS_CHANGED,
        "Health score weights set: " + ", ".join(f"{c.signal.value} {before[c.signal]} to {c.weight}" for c in weights),
        client_id=None,
        subject_type="HealthScoreWeight",
    )
    fresh = sa.select(HealthScoreWeight).execution_options(populate_existing=True)
    return _weights_in((await session.scalars(fresh)).all())
