"""DataLoaders: one set per request, built with the Principal, each composing its row scope.
A loader is built the first time the request uses it (resolvers.batching.loader).

The number of SQL statements a request issues depends on the query's shape, not on how many rows it
returns: every relation and aggregate is one statement per batch of keys. Each domain keeps its
loaders beside its business functions (resolvers/<domain>/loaders.py); a field reads them as
`info.context.loaders.<domain>.<loader>`.
"""

from __future__ import annotations

from auth.principal import Principal
from resolvers.billing.loaders import BillingLoaders
from resolvers.clients.loaders import ClientLoaders
from resolvers.dashboard.loaders import DashboardLoaders
from resolvers.db import RequestDb
from resolvers.engagement.loaders import EngagementLoaders
from resolvers.partners.loaders import PartnerLoaders
from resolvers.people.loaders import PeopleLoaders
from resolvers.reports.loaders import ReportLoaders
from resolvers.surveys.loaders import SurveyLoaders
from resolvers.work.loaders import WorkLoaders


class Loaders:
    """Every loader a request may use, bound to one caller's row scopes."""

    def __init__(self, db: RequestDb, principal: Principal) -> None:
        self.db = db
        self.principal = principal
        self.people = PeopleLoaders(db, principal)
        self.clients = ClientLoaders(db, principal)
        self.work = WorkLoaders(db, principal)
        self.billing = BillingLoaders(db, principal)
        self.engagement = EngagementLoaders(db, principal)
        self.surveys = SurveyLoaders(db, principal)
        self.dashboard = DashboardLoaders(db, principal)
        self.reports = ReportLoaders(db, principal)
        self.partners = PartnerLoaders(db, principal)
