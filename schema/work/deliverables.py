"""Deliverables on a task: the inputs, payloads and mutations (business functions in
resolvers/work/deliverables.py). A file comes as an `Upload` in a GraphQL multipart request
(https://github.com/jaydenseric/graphql-multipart-request-spec), which must carry the header
`GraphQL-Preflight: 1` (server.app: a browser cannot send it cross-site without a CORS preflight).
"""

from __future__ import annotations

import strawberry
from strawberry import UNSET, relay
from strawberry.file_uploads import Upload

from resolvers.work import deliverables, file_store
from schema.context import Info
from schema.mutation_shape import CallArguments, given, mutation, payload
from schema.work.types import Deliverable


@strawberry.input(description="A deliverable on a task: a link (`url`, http or https) or an uploaded `file`, not both.")
class AddDeliverableInput:
    task_id: relay.GlobalID
    title: str
    url: str | None = strawberry.field(default=None, description="An http:// or https:// address.")
    file: Upload | None = strawberry.field(
        default=None,
        description="A file in a multipart request (header `GraphQL-Preflight: 1`): PDF, image, office document, "
        "archive or plain text, at most AGENCY_MAX_UPLOAD_BYTES (25 MiB by default).",
    )


@strawberry.input(description="Change a deliverable's title, or a link's url; omitted fields are left alone.")
class UpdateDeliverableInput:
    id: strawberry.ID
    title: str | None = UNSET
    url: str | None = strawberry.field(default=UNSET, description="Links only (NOT_A_LINK for a file).")


@payload
class DeliverablePayload:
    deliverable: Deliverable | None = None


@payload
class RemoveDeliverablePayload:
    removed_id: strawberry.ID | None = None


async def _removed(_info: Info, removed: deliverables.Removed) -> RemoveDeliverablePayload:
    """After the commit: the file goes too."""
    if removed.file_key is not None:
        await file_store.current().store.delete(removed.file_key)
    return RemoveDeliverablePayload(removed_id=strawberry.ID(str(removed.deliverable_id)))


@strawberry.type
class DeliverablesMutation:
    @mutation(
        deliverables.add_deliverable,
        DeliverablePayload,
        ids={"task_id": "Task"},
        description="Add a link or an uploaded file to a task (staff). Errors: LINK_OR_FILE, INVALID_URL, "
        "FILE_TOO_LARGE, FILE_TYPE_NOT_ALLOWED, FILE_EMPTY; nothing is kept on an error.",
    )
    def add_deliverable(self, info: Info, input: AddDeliverableInput) -> CallArguments:
        return dict(task_id=input.task_id, title=input.title, url=input.url, file=input.file)

    @mutation(deliverables.update_deliverable, DeliverablePayload, description="Rename a deliverable or change a link.")
    def update_deliverable(self, info: Info, input: UpdateDeliverableInput) -> CallArguments:
        return given(input)

    @mutation(
        deliverables.complete_deliverable,
        DeliverablePayload,
        description="Mark a deliverable complete (visible to the client immediately); the client's portal users are "
        "notified when the task is visible to them.",
    )
    def complete_deliverable(self, info: Info, id: strawberry.ID) -> CallArguments:
        return dict(id=id)

    @mutation(deliverables.reopen_deliverable, DeliverablePayload, description="Mark a deliverable not complete again.")
    def reopen_deliverable(self, info: Info, id: strawberry.ID) -> CallArguments:
        return dict(id=id)

    @mutation(
        deliverables.remove_deliverable,
        RemoveDeliverablePayload,
        result=_removed,
        description="Remove a deliverable (and its file).",
    )
    def remove_deliverable(self, info: Info, id: strawberry.ID) -> CallArguments:
        return dict(id=id)
