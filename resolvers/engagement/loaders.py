"""DataLoaders of the relationship around the work: opportunities, interactions, meetings and the activity feed.

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built on first use in a request (resolvers.batching.loader), as `loaders.engagement`."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from strawberry.dataloader import DataLoader

from auth import scopes
from auth.principal import Principal
from models import Activity, Interaction, Meeting, Opportunity
from resolvers.batching import DomainLoaders, aggregate, by_id, grouped, in_keys, loader, with_keys
from resolvers.db import RequestDb
from resolvers.pagination import Page, SortKey, decode_cursor, encode_cursor, page_size

# The feed is newest first; ties on the timestamp are broken by id, as in every keyset.
FEED_KEY = SortKey(col(Activity.occurred_at), "datetime")


class EngagementLoaders(DomainLoaders):
    @loader
    def opportunity(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, Opportunity, scopes.opportunity_scope(p))

    @loader
    def meeting(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, Meeting, scopes.meeting_scope(p))

    @loader
    def interaction(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, Interaction, scopes.interaction_scope(p))

    @loader
    def activity(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, Activity, scopes.activity_scope(p))

    @loader
    def opportunities_by_client(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db,
            Opportunity,
            col(Opportunity.client_id),
            scopes.opportunity_scope(p),
            (col(Opportunity.created_at).desc(), col(Opportunity.id).desc()),
        )

    @loader
    def interactions_by_client(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db,
            Interaction,
            col(Interaction.client_id),
            scopes.interaction_scope(p),
            (col(Interaction.occurred_at).desc(), col(Interaction.id).desc()),
        )

    @loader
    def meetings_by_client(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db,
            Meeting,
            col(Meeting.client_id),
            scopes.meeting_scope(p),
            (col(Meeting.starts_at).desc(), col(Meeting.id).desc()),
        )

    @loader
    def activity_count_by_client(db: RequestDb, p: Principal) -> DataLoader:
        return aggregate(
            db,
            (
                sa.select(col(Activity.client_id), sa.func.count(col(Activity.id)))
                .where(in_keys(col(Activity.client_id)), scopes.activity_scope(p))
                .group_by(col(Activity.client_id))
            ),
            0,
            int,
        )

    @functools.cached_property
    def activity_page(self) -> DataLoader:
        # A page's totalCount goes through the request's count loader (one statement with the
        # clients' activityCount).
        return _feed_pages(self.db, self.principal, self.activity_count_by_client)


def _feed_pages(db: RequestDb, principal: Principal, count_loader: DataLoader) -> DataLoader:
    """Pages of the activity feed. Its closures hold the count loader itself, never the domain's
    loaders: the pages it caches hold them, and a way back to this loader would be a reference
    cycle per request (resolvers.batching)."""
    counts = lambda client_id: lambda: count_loader.load(client_id)  # noqa: E731

    async def load(keys: Sequence[tuple[int, int | None, str | None]]) -> list[Page[Activity]]:
        """Keyed by (client id, first, after): one windowed statement per distinct (first, after)."""
        by_args: dict[tuple[int, str | None], list[int]] = defaultdict(list)
        for client_id, first, after in keys:
            by_args[(page_size(first), after)].append(client_id)
        found: dict[tuple[int, int, str | None], tuple[list[Activity], bool]] = {}
        for (size, after), client_ids in by_args.items():
            statement = _feed_statement(principal, size, after)
            rows = await db.scalars(with_keys(statement, client_ids)) if size else []
            grouped: dict[int, list[Activity]] = defaultdict(list)
            for row in rows:
                grouped[row.client_id].append(row)
            for client_id in client_ids:
                group = grouped.get(client_id, [])
                found[(client_id, size, after)] = (group[:size], len(group) > size)
        pages = []
        for client_id, first, after in keys:
            rows, has_next = found[(client_id, page_size(first), after)]
            pages.append(
                Page(
                    rows=rows,
                    cursors=[encode_cursor([FEED_KEY.encode(r.occurred_at), r.id]) for r in rows],
                    has_next_page=has_next,
                    has_previous_page=bool(after),
                    count=counts(client_id),
                )
            )
        return pages

    return DataLoader(load_fn=load)


def _feed_statement(principal: Principal, size: int, after: str | None) -> sa.Select:
    """The first size + 1 entries after the cursor of each client of the batch (`in_keys`), newest
    first, in one statement."""
    conditions: list[Any] = [in_keys(col(Activity.client_id)), scopes.activity_scope(principal)]
    if after:
        value, last_id = decode_cursor(after, FEED_KEY)
        conditions.append(
            sa.or_(
                col(Activity.occurred_at) < value,
                sa.and_(col(Activity.occurred_at) == value, col(Activity.id) < last_id),
            )
        )
    rank = (
        sa.func.row_number()
        .over(
            partition_by=col(Activity.client_id), order_by=(col(Activity.occurred_at).desc(), col(Activity.id).desc())
        )
        .label("rank")
    )
    ranked = sa.select(col(Activity.id).label("id"), rank).where(*conditions).subquery()
    return (
        sa.select(Activity)
        .join(ranked, ranked.c.id == col(Activity.id))
        .where(ranked.c.rank <= size + 1)
        .order_by(col(Activity.client_id), col(Activity.occurred_at).desc(), col(Activity.id).desc())
    )
