"""DataLoaders of satisfaction scores (staff only).

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built on first use in a request (resolvers.batching.loader), as `loaders.surveys`."""

from __future__ import annotations

from sqlmodel import col
from strawberry.dataloader import DataLoader

from auth import scopes
from auth.principal import Principal
from models.surveys import SatisfactionSurvey
from resolvers.batching import DomainLoaders, by_id, grouped, loader
from resolvers.db import RequestDb


class SurveyLoaders(DomainLoaders):
    @loader
    def score(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, SatisfactionSurvey, scopes.satisfaction_survey_scope(p))

    @loader
    def scores_by_client(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db,
            SatisfactionSurvey,
            col(SatisfactionSurvey.client_id),
            scopes.satisfaction_survey_scope(p),
            (col(SatisfactionSurvey.responded_at).desc(), col(SatisfactionSurvey.id).desc()),
        )
