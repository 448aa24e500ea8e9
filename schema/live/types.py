"""What the subscriptions send: the changed row itself, or for rows that can be removed, the
change with the row (null once it is deleted)."""

from __future__ import annotations

import strawberry

from resolvers.live.events import Change
from schema.work.types import Deliverable, Task

LiveChange = strawberry.enum(Change, name="LiveChange", description="What happened to the row.")


@strawberry.type(description="A task of the project was created, changed or deleted.")
class TaskChange:
    change: LiveChange  # type: ignore[valid-type]
    task_id: strawberry.ID = strawberry.field(description="The task's global id (also once it is deleted).")
    task: Task | None = strawberry.field(description="The task as the subscriber sees it now; null once deleted.")


@strawberry.type(description="A deliverable of the task was added, changed (completed, reopened, renamed) or removed.")
class DeliverableChange:
    change: LiveChange  # type: ignore[valid-type]
    deliverable_id: strawberry.ID = strawberry.field(description="The deliverable's id (also once it is removed).")
    deliverable: Deliverable | None = strawberry.field(
        description="The deliverable as the subscriber sees it now; null once removed."
    )
