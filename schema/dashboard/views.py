"""Saved dashboard views: the caller's own list, and creating, changing and deleting one (staff, each a
single transaction). Decisions: resolvers/dashboard/views.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry import UNSET, relay

import models
from models import ClientCategory, ClientTier, DashboardSection
from resolvers.dashboard import views
from schema.base import ModelNode
from schema.context import Info
from schema.ids import plain_row_id
from schema.mutation_shape import CallArguments, given, mutation, payload

strawberry.enum(DashboardSection, description="A section of the Clients Dashboard.")


@strawberry.type(description="The clients a dashboard view covers: each list any of its values, the lists combined.")
class DashboardClientFilter:
    categories: list[ClientCategory] | None
    status_ids: list[strawberry.ID] | None
    tiers: list[ClientTier] | None
    account_manager_ids: list[relay.GlobalID] | None


@strawberry.type(description="A saved view of the Clients Dashboard; each staff user sees only their own.")
class DashboardView(ModelNode):
    __model__ = models.DashboardView
    __loader__ = "dashboard.view"

    id: relay.NodeID[int]
    name: str | None
    no_activity_days: int | None = strawberry.field(description="The quiet period of the health indicators, in days.")
    months: int | None = strawberry.field(description="The window of the monthly series and NPS, in months.")
    top: int | None = strawberry.field(description="How many clients each list shows.")
    retention_months: int | None = strawberry.field(
        description="The window of retention and lifetime value, in months; null: `months`."
    )
    created_at: dt.datetime | None
    updated_at: dt.datetime | None

    @strawberry.field(description="The sections it shows, in its order.")
    def sections(self) -> list[DashboardSection] | None:
        return views.sections_of(self)  # type: ignore[arg-type]

    @strawberry.field
    def clients(self) -> DashboardClientFilter | None:
        spec = views.clients_of(self)  # type: ignore[arg-type]
        return DashboardClientFilter(
            categories=list(spec.categories),
            status_ids=[strawberry.ID(str(i)) for i in spec.status_ids],
            tiers=list(spec.tiers),
            account_manager_ids=[relay.GlobalID("User", str(i)) for i in spec.account_manager_ids],
        )


@strawberry.input(description="The clients a view covers; omitted or empty lists filter nothing.")
class DashboardClientFilterInput:
    categories: list[ClientCategory] | None = None
    status_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Client status ids.")
    tiers: list[ClientTier] | None = None
    account_manager_ids: list[relay.GlobalID] | None = None


@strawberry.input(description="A new saved view.")
class CreateDashboardViewInput:
    name: str = strawberry.field(description="1 to 100 characters, unique among your views.")
    sections: list[DashboardSection]
    no_activity_days: int | None = strawberry.field(default=None, description="1 to 3650; 30 if not given.")
    months: int | None = strawberry.field(default=None, description="1 to 36; 12 if not given.")
    top: int | None = strawberry.field(default=None, description="1 to 100; 10 if not given.")
    retention_months: int | None = strawberry.field(default=None, description="1 to 36; `months` if not given.")
    clients: DashboardClientFilterInput | None = None


@strawberry.input(description="What to change in a saved view: only the fields given.")
class UpdateDashboardViewInput:
    name: str | None = UNSET
    sections: list[DashboardSection] | None = UNSET
    no_activity_days: int | None = strawberry.field(default=UNSET, description="null: back to 30.")
    months: int | None = strawberry.field(default=UNSET, description="null: back to 12.")
    top: int | None = strawberry.field(default=UNSET, description="null: back to 10.")
    retention_months: int | None = strawberry.field(default=UNSET, description="null: the same as `months`.")
    clients: DashboardClientFilterInput | None = strawberry.field(default=UNSET, description="null: every client.")


@payload
class DashboardViewPayload:
    view: DashboardView | None = None


@payload
class DeleteDashboardViewPayload:
    deleted_id: relay.GlobalID | None = None


def _arguments(data: Any) -> dict[str, Any]:
    """The input's fields for the business function; status ids checked here (plain ids)."""
    arguments = given(data)
    clients = arguments.get("clients")
    if clients is not None:
        status_ids = [
            plain_row_id(s, f"input.clients.statusIds.{i}", "Status") for i, s in enumerate(clients.status_ids or ())
        ]
        arguments["clients"] = _Clients(
            clients.categories or [], status_ids, clients.tiers or [], clients.account_manager_ids or []
        )
    return arguments


class _Clients:
    def __init__(self, categories: list, status_ids: list, tiers: list, account_manager_ids: list) -> None:
        self.categories, self.status_ids, self.tiers = categories, status_ids, tiers
        self.account_manager_ids = account_manager_ids


def _deleted(_info: Info, row_id: int) -> DeleteDashboardViewPayload:
    return DeleteDashboardViewPayload(deleted_id=relay.GlobalID("DashboardView", str(row_id)))


@strawberry.type
class DashboardViewsQuery:
    @strawberry.field(description="Your own saved dashboard views, by name (staff).")
    async def dashboard_views(self, info: Info) -> list[DashboardView] | None:
        return list(await views.list_dashboard_views(info.context.db, info.context.principal))  # type: ignore[arg-type]


@strawberry.type
class DashboardViewsMutation:
    @mutation(
        views.create_dashboard_view,
        DashboardViewPayload,
        ids={"account_manager_ids": "User"},
        description="Save a dashboard view of your own (staff).",
    )
    def create_dashboard_view(self, info: Info, input: CreateDashboardViewInput) -> CallArguments:
        return _arguments(input)

    @mutation(
        views.update_dashboard_view,
        DashboardViewPayload,
        ids={"id": "DashboardView", "account_manager_ids": "User"},
        description="Change one of your saved views; another user's answers NOT_FOUND.",
    )
    def update_dashboard_view(self, info: Info, id: relay.GlobalID, input: UpdateDashboardViewInput) -> CallArguments:
        return {"id": id, **_arguments(input)}

    @mutation(
        views.delete_dashboard_view,
        DeleteDashboardViewPayload,
        ids={"id": "DashboardView"},
        result=_deleted,
        description="Delete one of your saved views; another user's answers NOT_FOUND.",
    )
    def delete_dashboard_view(self, info: Info, id: relay.GlobalID) -> CallArguments:
        return {"id": id}
