"""Client satisfaction: one survey response (0..10, the NPS question) per row."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class SatisfactionSurvey(SQLModel, table=True):
    """A client's answer to "How likely are you to recommend us?", typically sent after a
    milestone. The dashboard turns these into NPS: promoters score 9-10, detractors 0-6."""

    __tablename__ = "satisfaction_survey"
    __table_args__ = (sa.CheckConstraint("score >= 0 AND score <= 10", name="score_range"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    # Who answered, when known (a survey can be anonymous within the client).
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    score: int
    comment: str | None = Field(default=None, sa_type=sa.Text)
    responded_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
