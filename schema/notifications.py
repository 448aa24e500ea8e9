"""Notifications: what the API told the caller (a client's reply, a sent invoice, a meeting request)."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay

import models
from resolvers import notifications
from schema.context import Info
from schema.mutation_shape import CallArguments, mutation, payload
from schema.types.base import ModelNode
from schema.types.pagination import Connection


@strawberry.type(description="Something the caller was told about; each user sees only their own.")
class Notification(ModelNode):
    __model__ = models.Notification
    __loader__ = "notification"

    id: relay.NodeID[int]
    kind: str
    message: str
    subject_type: str | None
    subject_id: int | None
    created_at: dt.datetime
    read_at: dt.datetime | None


@payload
class MarkNotificationsReadPayload:
    marked: int = 0


@strawberry.type
class NotificationQuery:
    @strawberry.field(description="The caller's notifications, newest first.")
    async def notifications(
        self, info: Info, first: int | None = 20, after: str | None = None, unread_only: bool = False
    ) -> Connection[Notification] | None:
        page = await notifications.list_notifications(
            info.context.db, info.context.principal, unread_only=unread_only, first=first, after=after
        )
        return Connection[Notification].from_page(page)


@strawberry.type
class NotificationMutation:
    @mutation(
        notifications.mark_read,
        MarkNotificationsReadPayload,
        ids={"ids": "Notification"},
        description="Mark the caller's notifications read: these, or all when ids is omitted.",
    )
    def mark_notifications_read(self, info: Info, ids: list[relay.GlobalID] | None = None) -> CallArguments:
        return dict(ids=ids)
