"""Roots of client satisfaction: recording a score for the Clients Dashboard's NPS.

A business function in resolvers/surveys/scores.py and a declaration (schema.mutation_shape): one
transaction; bad input or an invisible client or contact comes back as typed errors and writes
nothing. Who may call it is MUTATION_ROLES in
auth/policy.py; what a portal user may record is checked in resolvers/surveys/scores.py.
"""

from __future__ import annotations

import strawberry

from resolvers.surveys import scores
from schema.context import Info
from schema.mutation_shape import CallArguments, given, mutation
from schema.surveys.inputs import RecordSatisfactionScoreInput, SatisfactionScorePayload


@strawberry.type
class SurveysMutation:
    @mutation(
        scores.record_satisfaction_score,
        SatisfactionScorePayload,
        ids={"client_id": "Client", "contact_id": "Contact"},
        description="Record a client's satisfaction score (0-10, the NPS question). The team names the client "
        "(and optionally the contact who answered); a portal user answers for its own client, as its own contact.",
    )
    def record_satisfaction_score(self, info: Info, input: RecordSatisfactionScoreInput) -> CallArguments:
        return given(input)
