"""The custom health score: a client's score, band and reasons, the dashboard's distribution, and the
agency's weights (read by the team, set by an ADMIN). Definitions: resolvers/dashboard/health_score.py."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from models import HealthBand, HealthSignal
from resolvers.dashboard import health_score
from resolvers.dashboard.params import DashboardParams
from schema.context import Info
from schema.mutation_shape import CallArguments, mutation, payload

if TYPE_CHECKING:
    from schema.clients.types import Client

# Registered in place, like schema/enums.py: the models' enum classes are the GraphQL enums.
strawberry.enum(HealthSignal, description="A warning sign the health score weighs.")
strawberry.enum(HealthBand, description="Where a health score falls: HEALTHY 75-100, WATCH 50-74, AT_RISK 0-49.")


@strawberry.type(description="One signal that took points off a client's health score.")
class HealthReason:
    signal: HealthSignal | None
    value: float | None = strawberry.field(
        description="The signal's value for the client: days, risk, NPS (see healthScoreWeights)."
    )
    points: float | None = strawberry.field(description="The points it took off, to one decimal.")
    summary: str | None


@strawberry.type(
    description="A client's health: 100 minus the weighted warning signs, from 0 to 100, computed over the rows "
    "the caller may see. Staff only."
)
class ClientHealthScore:
    score: int | None
    band: HealthBand | None
    reasons: list[HealthReason] | None = strawberry.field(description="The signals that took points off, most first.")


@strawberry.type
class HealthBandCount:
    band: HealthBand | None
    count: int


@strawberry.type
class ClientHealthEntry:
    client: Annotated[Client, strawberry.lazy("schema.clients.types")]
    health: ClientHealthScore | None


@strawberry.type(description="The health scores of the clients not churned (within the view's clients filter).")
class HealthScoreSummary:
    params: strawberry.Private[DashboardParams]

    @strawberry.field(description="Clients scored.")
    async def clients_scored(self, info: Info) -> int | None:
        return (await info.context.loaders.dashboard.health_distribution.load(self.params)).clients

    @strawberry.field
    async def average_score(self, info: Info) -> float | None:
        return (await info.context.loaders.dashboard.health_distribution.load(self.params)).average_score

    @strawberry.field(description="How many clients in each band, every band (zeros too), healthiest first.")
    async def distribution(self, info: Info) -> list[HealthBandCount] | None:
        bands = (await info.context.loaders.dashboard.health_distribution.load(self.params)).bands
        return [HealthBandCount(band=b.band, count=b.count) for b in bands]

    @strawberry.field(description="The lowest scores first, at most `top`, each with its reasons.")
    async def lowest(self, info: Info) -> list[ClientHealthEntry] | None:
        entries = (await info.context.loaders.dashboard.health_distribution.load(self.params)).lowest
        return [ClientHealthEntry(client=e.client, health=e.health) for e in entries]  # type: ignore[arg-type]


@strawberry.type(description="The weight the agency gives one health signal.")
class HealthScoreWeight:
    signal: HealthSignal | None
    weight: int | None = strawberry.field(description="0 to 100; a signal's share of the score is weight / the sum.")
    default_weight: int | None
    computed: bool | None = strawberry.field(
        description="Whether the score computes this signal yet; a signal not computed takes nothing off."
    )
    description: str | None
    updated_at: dt.datetime | None = strawberry.field(description="When an ADMIN last set it; null: the default.")


@strawberry.input(description="One signal's new weight.")
class HealthScoreWeightInput:
    signal: HealthSignal
    weight: int = strawberry.field(description="A whole number from 0 to 100.")


@payload
class HealthScoreWeightsPayload:
    weights: list[HealthScoreWeight] | None = None


@strawberry.type
class HealthScoreQuery:
    @strawberry.field(description="Every health signal's weight, how it is measured and whether it is computed yet.")
    async def health_score_weights(self, info: Info) -> list[HealthScoreWeight] | None:
        weights = await health_score.health_score_weights(info.context.db, info.context.principal)
        return [HealthScoreWeight(**vars(w)) for w in weights]


def _weights(_info: Info, weights: list[health_score.Weight]) -> HealthScoreWeightsPayload:
    return HealthScoreWeightsPayload(weights=[HealthScoreWeight(**vars(w)) for w in weights])


@strawberry.type
class HealthScoreMutation:
    @mutation(
        health_score.set_health_score_weights,
        HealthScoreWeightsPayload,
        result=_weights,
        description="Set the weights of some health signals (ADMIN); the others keep theirs. Every weight is 0 to "
        "100 and the computed signals' weights may not all be 0. Answers every signal's weight.",
    )
    def set_health_score_weights(self, info: Info, weights: list[HealthScoreWeightInput]) -> CallArguments:
        return {"weights": [health_score.WeightChange(HealthSignal(w.signal), w.weight) for w in weights]}


async def client_health_score(info: Info, client_id: int) -> ClientHealthScore | None:
    return await info.context.loaders.dashboard.health_score_by_client.load(client_id)  # type: ignore[no-any-return]
