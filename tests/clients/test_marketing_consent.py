"""Marketing consent on a contact: staff record it (the server's time and the source) or withdraw it
(date and source cleared); bad input is a typed error that writes nothing; a portal user and a
partner can neither set nor read it."""

from __future__ import annotations

import datetime as dt

import pytest

from auth.policy import decide, decide_mutation
from auth.principal import PolicyKey
from models import Activity, ActivityKind, Contact, Role
from tests.utils import SIDE_TABLES, codes, counts, get, gid, mutate, portal, refused_by_policy, rows, staff

SET = """
mutation($input: SetContactMarketingConsentInput!) {
  setContactMarketingConsent(input: $input) {
    contact { id fullName marketingConsent marketingConsentAt marketingConsentSource }
    errors { field code message } } }"""
ADD = """
mutation($client: ID!, $input: ContactInput!) {
  addContact(clientId: $client, input: $input) {
    contact { fullName marketingConsent marketingConsentAt marketingConsentSource }
    errors { field code message } } }"""
CREATE_CLIENT = """
mutation($input: CreateClientInput!) {
  createClient(input: $input) {
    client { primaryContact { fullName marketingConsent marketingConsentSource } }
    errors { field code message } } }"""
CONTACTS = """query($id: ID!) { client(id: $id) {
  contacts { fullName marketingConsent marketingConsentAt marketingConsentSource } } }"""

WRITES = (Contact, *SIDE_TABLES)


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


async def _consent(api, token: str, contact, consent: bool, source: str | None = None) -> dict:
    variables = {"input": {"contactId": gid("Contact", contact), "consent": consent}}
    if source is not None:
        variables["input"]["source"] = source
    return await mutate(api, SET, variables, token, "setContactMarketingConsent")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.MEMBER])
async def test_staff_record_consent_with_the_server_time_and_the_source(api, factory, db, role):
    client = await factory.client("Acme")
    contact = await factory.contact(client, full_name="Dana Day")
    _, token = await staff(api, factory, role)
    before = dt.datetime.now(dt.UTC)
    payload = await _consent(api, token, contact, True, "  Newsletter sign-up form  ")
    after = dt.datetime.now(dt.UTC)
    assert payload["errors"] == []
    given = payload["contact"]
    assert given["fullName"] == "Dana Day" and given["marketingConsent"] is True
    assert given["marketingConsentSource"] == "Newsletter sign-up form"
    assert before <= _utc(given["marketingConsentAt"]) <= after
    row = await get(db, Contact, contact.id)
    assert row.marketing_consent is True
    assert row.marketing_consent_source == "Newsletter sign-up form"
    assert row.marketing_consent_at == _utc(given["marketingConsentAt"])
    [entry] = await rows(db, Activity)
    assert entry.kind is ActivityKind.CLIENT_UPDATED and entry.client_id == client.id and not entry.client_visible
    assert entry.subject_type == "Contact" and entry.subject_id == contact.id
    assert "Newsletter sign-up form" in entry.summary


async def test_withdrawing_clears_the_date_and_the_source(api, factory, db):
    client = await factory.client("Acme")
    contact = await factory.contact(
        client,
        marketing_consent=True,
        marketing_consent_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        marketing_consent_source="Trade show",
    )
    _, token = await staff(api, factory, Role.MEMBER)
    payload = await _consent(api, token, contact, False)
    assert payload == {
        "contact": {
            "id": gid("Contact", contact),
            "fullName": contact.full_name,
            "marketingConsent": False,
            "marketingConsentAt": None,
            "marketingConsentSource": None,
        },
        "errors": [],
    }
    row = await get(db, Contact, contact.id)
    assert (row.marketing_consent, row.marketing_consent_at, row.marketing_consent_source) == (False, None, None)
    [entry] = await rows(db, Activity)
    assert "withdrew" in entry.summary and not entry.client_visible


async def test_giving_consent_again_records_the_new_time_and_source(api, factory, db):
    client = await factory.client("Acme")
    old = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    contact = await factory.contact(
        client, marketing_consent=True, marketing_consent_at=old, marketing_consent_source="Trade show"
    )
    _, token = await staff(api, factory)
    payload = await _consent(api, token, contact, True, "Phone call")
    assert payload["contact"]["marketingConsentSource"] == "Phone call"
    assert _utc(payload["contact"]["marketingConsentAt"]) > old
    row = await get(db, Contact, contact.id)
    assert row.marketing_consent_source == "Phone call" and row.marketing_consent_at > old


@pytest.mark.parametrize(
    ("consent", "source", "field", "code"),
    [
        (True, None, "input.source", "REQUIRED"),
        (True, "   ", "input.source", "REQUIRED"),
        (True, "x" * 201, "input.source", "TOO_LONG"),
        (False, "Unsubscribed by phone", "input.source", "SOURCE_WITHOUT_CONSENT"),
    ],
)
async def test_bad_input_is_a_typed_error_and_writes_nothing(api, factory, db, consent, source, field, code):
    client = await factory.client("Acme")
    # Giving consent starts from none; withdrawing from a consent on record.
    state = (False, None, None) if consent else (True, dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "Trade show")
    contact = await factory.contact(
        client, marketing_consent=state[0], marketing_consent_at=state[1], marketing_consent_source=state[2]
    )
    before = await counts(db, *WRITES)
    _, token = await staff(api, factory)
    payload = await _consent(api, token, contact, consent, source)
    assert payload["contact"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert await counts(db, *WRITES) == before
    row = await get(db, Contact, contact.id)
    assert (row.marketing_consent, row.marketing_consent_at, row.marketing_consent_source) == state


async def test_a_source_of_exactly_200_characters_is_kept(api, factory, db):
    contact = await factory.contact(await factory.client("Acme"))
    _, token = await staff(api, factory)
    payload = await _consent(api, token, contact, True, "s" * 200)
    assert payload["errors"] == [] and payload["contact"]["marketingConsentSource"] == "s" * 200


async def test_a_nul_in_the_source_is_refused_before_anything_runs(api, factory, db):
    contact = await factory.contact(await factory.client("Acme"))
    before = await counts(db, *WRITES)
    _, token = await staff(api, factory)
    body = await api.post(
        SET, {"input": {"contactId": gid("Contact", contact), "consent": True, "source": "form\x00"}}, token
    )
    assert body["data"] is None
    assert [(e["extensions"]["code"], e["extensions"]["reason"]) for e in body["errors"]] == [
        ("BAD_USER_INPUT", "NUL_CHARACTER")
    ]
    assert await counts(db, *WRITES) == before
    assert (await get(db, Contact, contact.id)).marketing_consent is False


@pytest.mark.parametrize("which", ["missing", "other type", "row zero"])
async def test_an_unknown_contact_answers_not_found(api, factory, db, which):
    client = await factory.client("Acme")
    contact = await factory.contact(client)
    contact_id = {
        "missing": gid("Contact", 999999),
        "other type": gid("Client", client),
        "row zero": gid("Contact", 0),
    }[which]
    before = await counts(db, *WRITES)
    _, token = await staff(api, factory)
    payload = await mutate(
        api,
        SET,
        {"input": {"contactId": contact_id, "consent": True, "source": "Form"}},
        token,
        "setContactMarketingConsent",
    )
    assert payload["contact"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("input.contactId", "NOT_FOUND")]
    assert await counts(db, *WRITES) == before
    assert (await get(db, Contact, contact.id)).marketing_consent is False


async def test_a_portal_user_can_neither_set_nor_read_consent(api, factory, db):
    client = await factory.client("Acme")
    colleague = await factory.contact(
        client,
        full_name="Colleague",
        marketing_consent=True,
        marketing_consent_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        marketing_consent_source="CANARY-SOURCE",
    )
    _, token = await portal(api, factory, client)
    stranger = await factory.contact(await factory.client("Other"))
    before = await counts(db, *WRITES)
    for target in (colleague, stranger):
        await refused_by_policy(
            api,
            SET,
            {"input": {"contactId": gid("Contact", target), "consent": False}},
            token,
            "setContactMarketingConsent",
        )
    assert await counts(db, *WRITES) == before
    assert (await get(db, Contact, colleague.id)).marketing_consent is True

    body = await api.post(CONTACTS, {"id": gid("Client", client)}, token)
    assert "CANARY-SOURCE" not in str(body)
    contacts = body["data"]["client"]["contacts"]
    assert {c["fullName"] for c in contacts} >= {"Colleague"}
    assert all(
        (c["marketingConsent"], c["marketingConsentAt"], c["marketingConsentSource"]) == (None, None, None)
        for c in contacts
    )
    assert sorted(e["extensions"]["field"] for e in body["errors"]) == [
        "Contact.marketingConsent",
        "Contact.marketingConsentAt",
        "Contact.marketingConsentSource",
    ]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}


async def test_staff_read_consent_on_the_client_record(api, factory, db):
    client = await factory.client("Acme")
    at = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    await factory.contact(
        client, full_name="Yes", marketing_consent=True, marketing_consent_at=at, marketing_consent_source="Form"
    )
    await factory.contact(client, full_name="No")
    _, token = await staff(api, factory, Role.MEMBER)
    data = await api.data(CONTACTS, {"id": gid("Client", client)}, token)
    by_name = {c["fullName"]: c for c in data["client"]["contacts"]}
    assert by_name["Yes"]["marketingConsent"] is True and by_name["Yes"]["marketingConsentSource"] == "Form"
    assert _utc(by_name["Yes"]["marketingConsentAt"]) == at
    assert (by_name["No"]["marketingConsent"], by_name["No"]["marketingConsentAt"]) == (False, None)


def test_partners_read_consent_only_with_internal_read_and_never_set_it():
    every = frozenset(
        {"clients:read", "contacts:read", "invoices:read", "payments:write", "marketing:read", "internal:read"}
    )
    for field in ("marketingConsent", "marketingConsentAt", "marketingConsentSource"):
        assert not decide("Contact", field, PolicyKey(Role.PARTNER, scopes=frozenset({"contacts:read"}))).allowed
        assert not decide("Contact", field, PolicyKey(Role.PARTNER, scopes=frozenset({"marketing:read"}))).allowed
        assert decide(
            "Contact", field, PolicyKey(Role.PARTNER, scopes=frozenset({"contacts:read", "internal:read"}))
        ).allowed
        assert not decide("Contact", field, PolicyKey(Role.CLIENT, costs_enabled=True)).allowed
    assert not decide_mutation("setContactMarketingConsent", PolicyKey(Role.PARTNER, scopes=every)).allowed
    assert not decide_mutation("setContactMarketingConsent", PolicyKey(Role.MANAGER, read_only=True)).allowed


async def test_consent_given_when_the_contact_is_added(api, factory, db):
    client = await factory.client("Acme")
    _, token = await staff(api, factory, Role.MEMBER)
    before = dt.datetime.now(dt.UTC)
    payload = await mutate(
        api,
        ADD,
        {
            "client": gid("Client", client),
            "input": {"fullName": "Sam", "marketingConsent": True, "marketingConsentSource": "Webinar"},
        },
        token,
        "addContact",
    )
    assert payload["errors"] == []
    assert payload["contact"]["marketingConsent"] is True
    assert payload["contact"]["marketingConsentSource"] == "Webinar"
    assert before <= _utc(payload["contact"]["marketingConsentAt"]) <= dt.datetime.now(dt.UTC)
    plain = await mutate(api, ADD, {"client": gid("Client", client), "input": {"fullName": "Pat"}}, token, "addContact")
    assert plain["contact"]["marketingConsent"] is False and plain["contact"]["marketingConsentAt"] is None


async def test_consent_without_a_source_at_creation_is_refused_and_writes_nothing(api, factory, db):
    client = await factory.client("Acme")
    _, token = await staff(api, factory)
    before = await counts(db, *WRITES)
    payload = await mutate(
        api,
        ADD,
        {"client": gid("Client", client), "input": {"fullName": "Sam", "marketingConsent": True}},
        token,
        "addContact",
    )
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("input.marketingConsentSource", "REQUIRED")]
    assert await counts(db, *WRITES) == before

    created = await mutate(
        api,
        CREATE_CLIENT,
        {
            "input": {
                "name": "Globex",
                "primaryContact": {"fullName": "Hank", "marketingConsentSource": "Form"},
            }
        },
        token,
        "createClient",
    )
    assert codes(created) == ["SOURCE_WITHOUT_CONSENT"]
    assert created["errors"][0]["field"] == "input.primaryContact.marketingConsentSource"
    assert await counts(db, *WRITES) == before


async def test_consent_given_with_a_new_client_s_primary_contact(api, factory, db):
    _, token = await staff(api, factory)
    created = await mutate(
        api,
        CREATE_CLIENT,
        {
            "input": {
                "name": "Globex",
                "primaryContact": {"fullName": "Hank", "marketingConsent": True, "marketingConsentSource": "Form"},
            }
        },
        token,
        "createClient",
    )
    assert created["errors"] == []
    assert created["client"]["primaryContact"] == {
        "fullName": "Hank",
        "marketingConsent": True,
        "marketingConsentSource": "Form",
    }
    [row] = await rows(db, Contact)
    assert row.marketing_consent is True and row.marketing_consent_at is not None
