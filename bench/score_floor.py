"""The health score's floor: the score of resolvers/dashboard/health_score.py written again as one
hand-written statement (common table expressions, raw SQL, no ORM), for bench/run.py.

The formula is the README's ("Health score"): per signal a value per client, a ramp (start, full)
to a severity from 0 to 1, the agency's weights from `health_score_weight` (the default where never
set), points = severity x weight x 100 / the sum of the weights, score = 100 - the points rounded
half up, band HEALTHY 75-100, WATCH 50-74, AT_RISK 0-49. The bench caller is a MANAGER, who sees
every row, so no row scope is written out (as in the other floors). `{keep}` narrows each signal to
the clients a statement needs (the Clients list's page) before it aggregates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from models.base import UTCDateTime

# (signal, column, default weight, start, full): the order the score adds the points in.
SIGNALS = (
    ("OVERDUE_PAYMENTS", "overdue_payments", 25, 0, 60),
    ("QUIET_DAYS", "quiet_days", 15, 30, 90),
    ("PORTAL_LOGINS", "portal_logins", 10, 30, 90),
    ("AT_RISK_PROJECTS", "at_risk_projects", 20, 0, 2),
    ("RESPONSE_DELAYS", "response_delays", 10, 24, 120),
    ("NPS", "nps", 15, 50, -50),
    ("SCOPE_CUTS", "scope_cuts", 5, 0, 2),
)

_DIALECT = {
    "sqlite": {
        "epoch": "((julianday({}) - 2440587.5) * 86400.0)",
        "whole": "CAST({} AS INTEGER)",
        "round": "CAST(({}) + 0.5 AS INTEGER)",
    },
    "postgresql": {
        "epoch": "CAST(EXTRACT(EPOCH FROM {}) AS DOUBLE PRECISION)",
        "whole": "CAST(FLOOR({}) AS INTEGER)",
        "round": "CAST(FLOOR(({}) + 0.5) AS INTEGER)",
    },
}


def signal_ctes(dialect: str, keep: str = "") -> str:
    """The CTEs `weights`, one per signal (client_id, value), and `scored` (client_id, v_*, p_*,
    score, band) over the clients of the CTE `scope_clients` (which the caller writes first).
    `keep` is a condition on a `client_id` expression, e.g. `IN (SELECT id FROM page)`."""
    d = _DIALECT[dialect]

    def epoch(x: str) -> str:
        return d["epoch"].format(x)

    def whole(x: str) -> str:
        return d["whole"].format(x)

    def kept(column: str) -> str:
        return f"AND {column} {keep}" if keep else ""

    weights = ",\n  ".join(
        f"coalesce(max(CASE WHEN signal = '{s}' THEN weight END), {w}) AS {c}" for s, c, w, _, _ in SIGNALS
    )
    joins = "\n".join(f"  LEFT JOIN s_{c} ON s_{c}.client_id = k.id" for _, c, _, _, _ in SIGNALS)
    values = ", ".join(f"s_{c}.value AS v_{c}" for _, c, _, _, _ in SIGNALS)
    total = "(0 + " + " + ".join(f"w.{c}" for _, c, _, _, _ in SIGNALS) + ")"

    def severity(column: str, start: int, full: int) -> str:
        share = f"((CAST(v.v_{column} AS FLOAT) - {start}) / {full - start})"
        return (
            f"(CASE WHEN v.v_{column} IS NULL THEN 0.0 WHEN {share} <= 0 THEN 0.0"
            f" WHEN {share} >= 1 THEN 1.0 ELSE {share} END)"
        )

    points = ",\n    ".join(
        f"{severity(c, start, full)} * w.{c} * 100.0 / nullif({total}, 0) AS p_{c}" for _, c, _, start, full in SIGNALS
    )
    score = d["round"].format("100.0 - (0.0 + " + " + ".join(f"p_{c}" for _, c, _, _, _ in SIGNALS) + ")")
    staff = "('ADMIN', 'MANAGER', 'MEMBER')"
    return f"""weights AS (SELECT
  {weights}
  FROM health_score_weight),
s_overdue_payments AS (
  SELECT client_id, {whole(f"(:today_s - {epoch('min(due_date)')}) / 86400.0")} AS value FROM (
    SELECT i.client_id, i.due_date FROM invoice i JOIN (
      SELECT invoice_id, amount + tax_amount AS amount FROM invoice_line
      UNION ALL SELECT invoice_id, -amount FROM payment) m ON m.invoice_id = i.id
    WHERE i.status = 'SENT' AND i.due_date < :today {kept("i.client_id")}
    GROUP BY i.id, i.client_id, i.due_date HAVING sum(m.amount) > 0.005) due
  GROUP BY client_id),
touch AS (
  SELECT client_id, max(at) AS last_s FROM (
    SELECT client_id, {epoch("starts_at")} AS at FROM meeting
      WHERE status IN ('CONFIRMED', 'COMPLETED') AND starts_at <= :now {kept("client_id")}
    UNION ALL SELECT client_id, {epoch("occurred_at")} FROM interaction WHERE occurred_at <= :now {kept("client_id")}
    UNION ALL SELECT p.client_id, {epoch("c.created_at")} FROM comment c JOIN project p ON p.id = c.project_id
      WHERE c.kind = 'REPLY' AND c.created_at <= :now {kept("p.client_id")}
        AND (c.task_id IS NULL OR c.task_id IN (SELECT id FROM task WHERE visible_to_client))
    UNION ALL SELECT client_id, {epoch("occurred_at")} FROM login_event
      WHERE client_id IS NOT NULL AND occurred_at <= :now {kept("client_id")}
    UNION ALL SELECT i.client_id, {epoch("y.received_on")} FROM payment y JOIN invoice i ON i.id = y.invoice_id
      WHERE i.status <> 'VOID' AND y.received_on <= :today {kept("i.client_id")}
  ) t GROUP BY client_id),
s_quiet_days AS (
  SELECT c.id AS client_id,
    {whole(f"coalesce((:now_s - touch.last_s) / 86400.0, (:now_s - {epoch('c.created_at')}) / 86400.0)")} AS value
  FROM client c LEFT JOIN touch ON touch.client_id = c.id WHERE TRUE {kept("c.id")}),
s_portal_logins AS (
  SELECT u.client_id,
    {whole(f"(:now_s - coalesce({epoch('max(e.last_at)')}, {epoch('min(u.created_at)')})) / 86400.0")} AS value
  FROM user_account u LEFT JOIN (SELECT client_id, max(occurred_at) AS last_at FROM login_event
    WHERE client_id IS NOT NULL {kept("client_id")} GROUP BY client_id) e ON e.client_id = u.client_id
  WHERE u.role = 'CLIENT' AND u.is_active {kept("u.client_id")}
  GROUP BY u.client_id),
s_at_risk_projects AS (
  SELECT client_id, sum(CASE health WHEN 'OFF_TRACK' THEN 2 WHEN 'AT_RISK' THEN 1 ELSE 0 END) AS value
  FROM project WHERE status IN ('ACTIVE', 'ON_HOLD') {kept("client_id")} GROUP BY client_id),
turns AS (
  SELECT p.client_id, u.role = 'CLIENT' AS from_client, c.created_at AS asked_at,
    min(CASE WHEN u.role IN {staff} THEN c.created_at END) OVER thread AS staff_at,
    min(CASE WHEN u.role = 'CLIENT' THEN c.created_at END) OVER thread AS client_at
  FROM comment c JOIN user_account u ON u.id = c.author_id JOIN project p ON p.id = c.project_id
  WHERE c.kind = 'REPLY' AND c.created_at >= :response_since {kept("p.client_id")}
    AND (c.task_id IS NULL OR c.task_id IN (SELECT id FROM task WHERE visible_to_client))
    AND (u.role IN {staff} OR u.role = 'CLIENT')
  WINDOW thread AS (PARTITION BY c.project_id, c.task_id ORDER BY c.created_at DESC, c.id DESC
    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)),
delays AS (
  SELECT client_id,
    avg(CASE WHEN from_client THEN {epoch("staff_at")} - {epoch("asked_at")} END) / 3600.0 AS agency_h,
    avg(CASE WHEN NOT from_client THEN {epoch("client_at")} - {epoch("asked_at")} END) / 3600.0 AS client_h
  FROM turns GROUP BY client_id),
s_response_delays AS (
  SELECT client_id, CASE WHEN agency_h IS NULL THEN client_h WHEN client_h IS NULL THEN agency_h
    WHEN agency_h >= client_h THEN agency_h ELSE client_h END AS value FROM delays),
s_nps AS (
  SELECT client_id,
    (sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END) - sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END)) * 100.0 / count(*)
      AS value
  FROM satisfaction_survey WHERE responded_at >= :nps_since {kept("client_id")} GROUP BY client_id),
s_scope_cuts AS (
  SELECT p.client_id, count(*) AS value FROM scope_change s JOIN project p ON p.id = s.project_id
  WHERE s.is_reduction AND s.occurred_at >= :scope_since {kept("p.client_id")} GROUP BY p.client_id),
v AS (
  SELECT k.id AS client_id, {values} FROM scope_clients k
{joins}),
pts AS (
  SELECT v.*,
    {points}
  FROM v CROSS JOIN weights w),
scored AS (
  SELECT pts.*, {score} AS score FROM pts),
banded AS (
  SELECT scored.*, CASE WHEN score >= 75 THEN 'HEALTHY' WHEN score >= 50 THEN 'WATCH' ELSE 'AT_RISK' END AS band
  FROM scored)"""


def parameters(now: dt.datetime) -> dict[str, Any]:
    today = now.date()
    midnight = dt.datetime.combine(today, dt.time(0), dt.UTC)
    return {
        "now": now,
        "now_s": now.timestamp(),
        "today": today,
        "today_s": midnight.timestamp(),
        "response_since": now - dt.timedelta(days=90),
        "nps_since": now - dt.timedelta(days=365),
        "scope_since": now - dt.timedelta(days=180),
    }


def statement(sql: str) -> sa.TextClause:
    """The text with its timestamps bound as the columns store them (naive UTC text on SQLite)."""
    return sa.text(sql).bindparams(
        *(sa.bindparam(name, type_=UTCDateTime()) for name in ("now", "response_since", "nps_since", "scope_since"))
    )


def reasons(row: Any, values_at: int) -> list[dict[str, Any]]:
    """A scored row's reasons (signals with points above zero, most first), from its v_* columns at
    `values_at` and the p_* columns after them, as the API answers them."""
    found: list[dict[str, Any]] = []
    for n, (signal, _, _, _, _) in enumerate(SIGNALS):
        value, points = row[values_at + n], row[values_at + len(SIGNALS) + n]
        if points is not None and float(points) > 0 and value is not None:
            found.append({"signal": signal, "value": round(float(value), 2), "points": round(float(points), 1)})
    found.sort(key=lambda r: (-r["points"], r["signal"]))
    return found
