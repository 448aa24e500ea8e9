"""Roots of client satisfaction: recording a score for the Clients Dashboard's NPS.

One transaction (schema.errors.run_mutation): bad input or an invisible client or contact
comes back as typed errors and writes nothing. Who may call it is MUTATION_ROLES in
auth/policy.py; what a portal user may record is checked in resolvers/surveys.py.
"""

from __future__ import annotations

import strawberry

from resolvers import surveys
from schema.context import Info
from schema.errors import run_mutation
from schema.ids import decode_id
from schema.types.surveys import RecordSatisfactionScoreInput, SatisfactionScorePayload


@strawberry.type
class SurveyMutation:
    @strawberry.mutation(
        description="Record a client's satisfaction score (0-10, the NPS question). The team names the client "
        "(and optionally the contact who answered); a portal user answers for its own client, as its own contact."
    )
    async def record_satisfaction_score(
        self, info: Info, input: RecordSatisfactionScoreInput
    ) -> SatisfactionScorePayload:
        async def work(session):
            return await surveys.record_satisfaction_score(
                session,
                info.context.principal,
                client_id=decode_id(input.client_id, "Client", "input.clientId"),
                contact_id=decode_id(input.contact_id, "Contact", "input.contactId"),
                score=input.score,
                comment=input.comment,
                responded_at=input.responded_at,
            )

        score, errors = await run_mutation(info, work)
        return SatisfactionScorePayload(score=score, errors=errors)
