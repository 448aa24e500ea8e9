"""DataLoaders of satisfaction scores (staff only).

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built once per request by resolvers.loaders.Loaders (as `loaders.surveys`)."""

from __future__ import annotations

from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models.surveys import SatisfactionSurvey
from resolvers.batching import by_id, grouped
from resolvers.db import RequestDb


class SurveyLoaders:
    def __init__(self, db: RequestDb, principal: Principal) -> None:
        scope = scopes.satisfaction_survey_scope(principal)
        self.score = by_id(db, SatisfactionSurvey, scope)
        self.scores_by_client = grouped(
            db,
            SatisfactionSurvey,
            col(SatisfactionSurvey.client_id),
            scope,
            (col(SatisfactionSurvey.responded_at).desc(), col(SatisfactionSurvey.id).desc()),
        )
