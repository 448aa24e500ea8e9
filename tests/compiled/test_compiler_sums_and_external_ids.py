"""Invoice sums (subtotal, tax, total, amountPaid, amountDue) and the calling app's externalId, compiled
from their loaders' own statements: one statement per root field, the resolvers' bytes, for staff, a
portal user and two partner apps (each reads its own external ids, never the other's)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from models import ChangeEntity, Client, Contact, Invoice, PartnerExternalId, Payment
from models.partners import PartnerApp
from tests.compiled import test_compiler_lists
from tests.compiled.compiler_support import Pair, build_agency, tokens
from tests.partners.support import access_token, register

QUERY = """{ clients(first: 20) { edges { node { name externalId
  contacts { externalId }
  payments { amount externalId }
  invoices { number status externalId subtotal tax total amountPaid amountDue payments { amount externalId } }
} } } }"""

# The lists' tests' two apps, and their spy on the planner ((root field, whether it compiled), per root field).
pair = test_compiler_lists.pair
planned = test_compiler_lists.planned


async def _plant_external_ids(db: Any, oauth_client_id: str, prefix: str) -> None:
    """An external id for every client, contact, invoice and payment but the last of each."""
    async with db() as session, session.begin():
        app_id = await session.scalar(
            sa.select(col(PartnerApp.id)).where(col(PartnerApp.oauth_client_id) == oauth_client_id)
        )
        assert app_id is not None
        for entity, model in (
            (ChangeEntity.CLIENT, Client),
            (ChangeEntity.CONTACT, Contact),
            (ChangeEntity.INVOICE, Invoice),
            (ChangeEntity.PAYMENT, Payment),
        ):
            key: Any = model.id
            ids = (await session.scalars(sa.select(key).order_by(key))).all()
            for record_id in ids[:-1]:
                session.add(
                    PartnerExternalId(
                        partner_app_id=app_id,
                        entity=entity,
                        record_id=record_id,
                        external_id=f'{prefix}-{entity.value}-{record_id} "q" ü',
                    )
                )


def _invoices(body: dict[str, Any], client: str) -> list[dict[str, Any]]:
    edges = body["data"]["clients"]["edges"]
    return next(e["node"]["invoices"] for e in edges if e["node"]["name"] == client)


async def test_sums_and_external_ids_compile_for_every_caller(
    pair: Pair, factory: Any, db: Any, planned: list[tuple[str, bool]]
) -> None:
    agency = await build_agency(factory)
    callers = await tokens(pair.resolvers, agency)
    del callers["member"]  # billing is refused to a member: the resolvers answer it, with FORBIDDEN
    readable = ("clients:read", "contacts:read", "invoices:read")
    first, second = await register(db, scopes=readable), await register(db, scopes=readable)
    await _plant_external_ids(db, first.client_id, "one")
    await _plant_external_ids(db, second.client_id, "two")
    callers["first app"] = await access_token(pair.resolvers.client, first)
    callers["second app"] = await access_token(pair.resolvers.client, second)
    planned.clear()
    bodies = {}
    for who, token in callers.items():
        bodies[who] = await pair.same(QUERY, None, token)
        assert "errors" not in bodies[who], (who, bodies[who])
    assert planned == [("clients", True)] * len(callers)
    # Staff: the sums of every invoice; a void one owes nothing, whatever was paid on it.
    zeta = {(i["status"], i["total"]): i for i in _invoices(bodies["admin"], "Zeta Ltd")}
    sent = zeta["SENT", "1099.99"]
    assert (sent["subtotal"], sent["tax"], sent["amountPaid"], sent["amountDue"]) == (
        "1099.99",
        "0.00",
        "50.10",
        "1049.89",
    )
    recalled = zeta["VOID", "300031194.84"]
    assert (recalled["subtotal"], recalled["tax"], recalled["amountPaid"]) == ("300001179.98", "30014.86", "2.51")
    assert recalled["amountDue"] == "0.00"
    assert bodies["admin"]["data"]["clients"]["edges"][0]["node"]["externalId"] is None  # no partner app
    # A portal user: its own client's invoices only, the draft not among them.
    assert [e["node"]["name"] for e in bodies["portal"]["data"]["clients"]["edges"]] == ["Zeta Ltd"]
    assert "DRAFT" not in {i["status"] for i in _invoices(bodies["portal"], "Zeta Ltd")}
    # Each app reads its own ids: the same records, the other app's ids nowhere.
    for who, mine, theirs in (("first app", "one-", "two-"), ("second app", "two-", "one-")):
        text = str(bodies[who])
        assert mine in text and theirs not in text
        ids = [c["node"]["externalId"] for c in bodies[who]["data"]["clients"]["edges"]]
        assert ids.count(None) == 1 and all(i is None or i.startswith(f"{mine}CLIENT-") for i in ids)
