"""Contacts on a client: add a new one, link an existing one, switch the primary, edit one.

A client has exactly one primary contact once it has any: the partial unique index
`uq_contact_primary_per_client` allows at most one, and switching is one transaction
(unset the old, set the new) taken under a lock on the client row, so two concurrent
switches queue instead of colliding on the index.

Decisions: the first contact of a client with no primary becomes its primary; two contacts
of one client may not share an e-mail (DUPLICATE_EMAIL: portal sign-in would be ambiguous);
a contact of another client is never moved by linkContact (CONTACT_HAS_CLIENT); a contact's
edit is logged CLIENT_UPDATED (there is no contact-specific kind).

Roles and reports-to: a contact holds any set of roles (models.enums.ContactRole; the
contact_role table), given whole on create and replaced whole on update (null or [] clears
them); a change of roles alone still records the contact as updated in the change log. The
client's BILLING contact is whom overdue reminders are to pick (the primary when none is); nothing
sends them yet. `reportsTo` names another contact of the same client (REPORTS_TO_OTHER_CLIENT
otherwise, and a contact without a client reports to nobody) and never closes a loop: a contact
reporting to itself or to one of its own reports answers REPORTS_TO_CYCLE. Both checks run under
the client's lock, over the client's contacts in one statement, so two concurrent edits cannot
build a loop between them.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.principal import Principal
from models import ActivityKind, Client, Contact, ContactRole, ContactRoleAssignment
from models.base import utcnow
from resolvers.activity import record_activity
from resolvers.clients.consent import consent_values
from resolvers.errors import InputError
from resolvers.lookup import visible_row
from resolvers.validation import optional_email, optional_text, required_text

CONTACT_FIELDS = ("full_name", "email", "phone", "title", "is_decision_maker", "internal_notes")


_CAMEL = {
    "full_name": "fullName",
    "email": "email",
    "phone": "phone",
    "title": "title",
    "is_decision_maker": "isDecisionMaker",
    "internal_notes": "internalNotes",
}


def clean_contact(prefix: str, data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Checked contact fields. `partial`: only the keys present are checked (an update)."""
    out: dict[str, Any] = {}
    checks = {
        "full_name": lambda f, v: required_text(f, v, 200),
        "email": optional_email,
        "phone": lambda f, v: optional_text(f, v, 50),
        "title": lambda f, v: optional_text(f, v, 120),
        "is_decision_maker": lambda f, v: bool(v),
        "internal_notes": lambda f, v: optional_text(f, v, 10000),
    }
    for key, check in checks.items():
        if partial and key not in data:
            continue
        out[key] = check(f"{prefix}.{_CAMEL[key]}", data.get(key))
    if not partial and ("marketing_consent" in data or "marketing_consent_source" in data):
        # A new contact may come with its consent to marketing e-mail (resolvers.clients.consent).
        out.update(
            consent_values(
                bool(data.get("marketing_consent")),
                data.get("marketing_consent_source"),
                f"{prefix}.marketingConsentSource",
                utcnow(),
            )
        )
    return out


def clean_roles(field: str, roles: list[ContactRole] | None) -> list[ContactRole]:
    """The roles as a set, in the enum's order (a role given twice is held once)."""
    given = set(roles or ())
    return [role for role in ContactRole if role in given]


async def set_roles(session: AsyncSession, contact_id: int, roles: list[ContactRole], *, replace: bool) -> None:
    if replace:
        await session.execute(
            sa.delete(ContactRoleAssignment).where(col(ContactRoleAssignment.contact_id) == contact_id)
        )
    if roles:
        session.add_all([ContactRoleAssignment(contact_id=contact_id, role=role) for role in roles])
    await session.flush()


async def roles_of(session: AsyncSession, contact_id: int) -> list[ContactRole]:
    held = set(
        await session.scalars(
            sa.select(col(ContactRoleAssignment.role)).where(col(ContactRoleAssignment.contact_id) == contact_id)
        )
    )
    return [role for role in ContactRole if role in held]


async def checked_reports_to(
    session: AsyncSession,
    principal: Principal,
    *,
    contact_id: int | None,
    client_id: int | None,
    reports_to_id: int | None,
    field: str,
) -> int | None:
    """The contact `contact_id` (None: a new one) of `client_id` may report to `reports_to_id`.
    The caller holds the client's lock."""
    if reports_to_id is None:
        return None
    manager = await visible_row(session, principal, Contact, reports_to_id, what="contact", field=field)
    if client_id is None or manager.client_id != client_id:
        raise InputError(field, "REPORTS_TO_OTHER_CLIENT", "A contact reports to another contact of its own client.")
    if contact_id is None:
        return reports_to_id
    # Walk up from the new manager over the client's reporting lines: reaching the contact is a loop.
    lines = {
        row.id: row.reports_to_id
        for row in await session.execute(
            sa.select(col(Contact.id), col(Contact.reports_to_id)).where(col(Contact.client_id) == client_id)
        )
    }
    seen: set[int] = set()
    current: int | None = reports_to_id
    while current is not None and current not in seen:
        if current == contact_id:
            raise InputError(
                field,
                "REPORTS_TO_CYCLE",
                "That would make a reporting loop: the contact cannot report to itself or to one of its own reports.",
            )
        seen.add(current)
        current = lines.get(current)
    return reports_to_id


async def locked_client(session: AsyncSession, principal: Principal, client_id: int, field: str = "clientId") -> Client:
    """The client, within the caller's scope, locked for the rest of the transaction on PostgreSQL."""
    return await visible_row(session, principal, Client, client_id, what="client", field=field, lock=True)


async def _contact(session: AsyncSession, principal: Principal, contact_id: int, field: str = "contactId") -> Contact:
    return await visible_row(session, principal, Contact, contact_id, what="contact", field=field, lock=True)


async def _refuse_duplicate_email(
    session: AsyncSession, client_id: int, email: str | None, field: str, except_id: int | None = None
) -> None:
    """Two contacts of one client with one e-mail would make portal sign-in ambiguous."""
    if email is None:
        return
    statement = sa.select(col(Contact.id)).where(
        col(Contact.client_id) == client_id, sa.func.lower(col(Contact.email)) == email.lower()
    )
    if except_id is not None:
        statement = statement.where(col(Contact.id) != except_id)
    if await session.scalar(statement.limit(1)) is not None:
        raise InputError(field, "DUPLICATE_EMAIL", "Another contact of this client has that e-mail address.")


async def _has_primary(session: AsyncSession, client_id: int) -> bool:
    statement = (
        sa.select(col(Contact.id))
        .where(col(Contact.client_id) == client_id, col(Contact.is_primary).is_(True))
        .limit(1)
    )
    return await session.scalar(statement) is not None


async def switch_primary(session: AsyncSession, client_id: int, contact_id: int) -> None:
    """Unset the old primary, then set the new one: flushed in this order, so the partial
    unique index never sees two."""
    await session.execute(
        sa.update(Contact)
        .where(col(Contact.client_id) == client_id, col(Contact.is_primary).is_(True), col(Contact.id) != contact_id)
        .values(is_primary=False)
        .execution_options(synchronize_session="fetch")
    )
    await session.execute(
        sa.update(Contact)
        .where(col(Contact.id) == contact_id)
        .values(is_primary=True)
        .execution_options(synchronize_session="fetch")
    )


async def add_contact(
    session: AsyncSession, principal: Principal, *, client_id: int, data: dict[str, Any], make_primary: bool
) -> Contact:
    """A new contact on a client. The first contact of a client with no primary becomes the primary."""
    values = clean_contact("input", data)
    roles = clean_roles("input.roles", data.get("roles"))
    client = await locked_client(session, principal, client_id)
    assert client.id is not None
    await _refuse_duplicate_email(session, client.id, values["email"], "input.email")
    reports_to_id = await checked_reports_to(
        session,
        principal,
        contact_id=None,
        client_id=client.id,
        reports_to_id=data.get("reports_to_id"),
        field="input.reportsToId",
    )
    primary = make_primary or not await _has_primary(session, client.id)
    contact = Contact(client_id=client.id, is_primary=False, reports_to_id=reports_to_id, **values)
    session.add(contact)
    await session.flush()
    assert contact.id is not None
    await set_roles(session, contact.id, roles, replace=False)
    if primary:
        await switch_primary(session, client.id, contact.id)
    record_activity(
        session,
        principal,
        ActivityKind.CONTACT_ADDED,
        f"Contact {contact.full_name} added",
        client_id=client.id,
        subject_type="Contact",
        subject_id=contact.id,
    )
    await session.flush()
    await session.refresh(contact)
    return contact


async def link_contact(session: AsyncSession, principal: Principal, *, contact_id: int, client_id: int) -> Contact:
    """An existing contact that belongs to no client joins this one. A contact of another
    client is never moved: that would rewrite the other client's history."""
    client = await locked_client(session, principal, client_id)
    assert client.id is not None
    contact = await _contact(session, principal, contact_id)
    assert contact.id is not None
    if contact.client_id == client.id:
        raise InputError("contactId", "ALREADY_LINKED", "That contact is already linked to this client.")
    if contact.client_id is not None:
        raise InputError(
            "contactId", "CONTACT_HAS_CLIENT", "That contact belongs to another client; add a new contact instead."
        )
    await _refuse_duplicate_email(session, client.id, contact.email, "contactId")
    primary = not await _has_primary(session, client.id)
    # Conditional: a concurrent link of the same contact finds it taken and changes nothing.
    # Session.execute is typed Result for any statement; an UPDATE's is a CursorResult (rowcount).
    result = cast(
        CursorResult[Any],
        await session.execute(
            sa.update(Contact)
            .where(col(Contact.id) == contact.id, col(Contact.client_id).is_(None))
            .values(client_id=client.id)
            .execution_options(synchronize_session="fetch")
        ),
    )
    if result.rowcount != 1:
        raise InputError("contactId", "CONTACT_HAS_CLIENT", "That contact was just linked to another client.")
    if primary:
        await switch_primary(session, client.id, contact.id)
    record_activity(
        session,
        principal,
        ActivityKind.CONTACT_ADDED,
        f"Contact {contact.full_name} linked",
        client_id=client.id,
        subject_type="Contact",
        subject_id=contact.id,
    )
    await session.flush()
    await session.refresh(contact)
    return contact


async def set_primary_contact(session: AsyncSession, principal: Principal, *, contact_id: int) -> Contact:
    contact = await visible_row(session, principal, Contact, contact_id, what="contact", field="contactId")
    assert contact.id is not None
    if contact.client_id is None:
        raise InputError("contactId", "NO_CLIENT", "Link the contact to a client before making it primary.")
    client = await locked_client(session, principal, contact.client_id, field="contactId")
    assert client.id is not None
    await session.refresh(contact)
    if contact.is_primary:
        raise InputError("contactId", "ALREADY_PRIMARY", "That contact is already the primary contact.")
    await switch_primary(session, client.id, contact.id)
    record_activity(
        session,
        principal,
        ActivityKind.PRIMARY_CONTACT_CHANGED,
        f"{contact.full_name} is now the primary contact",
        client_id=client.id,
        subject_type="Contact",
        subject_id=contact.id,
    )
    await session.flush()
    await session.refresh(contact)
    return contact


async def update_contact(
    session: AsyncSession, principal: Principal, *, contact_id: int, changes: dict[str, Any]
) -> Contact:
    """Edit a contact's details; the primary flag changes only through setPrimaryContact."""
    if not changes:
        raise InputError("input", "NOTHING_TO_UPDATE", "Give at least one field to change.")
    values = clean_contact("input", changes, partial=True)
    contact = await _contact(session, principal, contact_id, field="input.contactId")
    assert contact.id is not None
    if contact.client_id is not None and ("reports_to_id" in changes or "roles" in changes):
        # Reporting lines are checked under the client's lock (see the module's docstring).
        await locked_client(session, principal, contact.client_id, field="input.contactId")
    if contact.client_id is not None and "email" in values:
        await _refuse_duplicate_email(session, contact.client_id, values["email"], "input.email", except_id=contact.id)
    changed = [_CAMEL[k] for k, v in values.items() if getattr(contact, k) != v]
    if "reports_to_id" in changes:
        values["reports_to_id"] = await checked_reports_to(
            session,
            principal,
            contact_id=contact.id,
            client_id=contact.client_id,
            reports_to_id=changes["reports_to_id"],
            field="input.reportsToId",
        )
        if values["reports_to_id"] != contact.reports_to_id:
            changed.append("reportsTo")
    columns_change = any(getattr(contact, k) != v for k, v in values.items())
    if "roles" in changes:
        roles = clean_roles("input.roles", changes["roles"])
        if roles != await roles_of(session, contact.id):
            changed.append("roles")
            if not columns_change:
                # Roles live in their own table: touch the contact row so the change log (and with it
                # partner sync and webhooks) records the contact as updated, as for any other edit.
                await session.execute(
                    sa.update(Contact)
                    .where(col(Contact.id) == contact.id)
                    .values(reports_to_id=col(Contact.reports_to_id))
                    .execution_options(synchronize_session=False)
                )
        await set_roles(session, contact.id, roles, replace=True)
    for key, value in values.items():
        setattr(contact, key, value)
    record_activity(
        session,
        principal,
        ActivityKind.CLIENT_UPDATED,
        f"Contact {contact.full_name} updated: {', '.join(changed) or 'no change'}",
        client_id=contact.client_id,
        subject_type="Contact",
        subject_id=contact.id,
    )
    await session.flush()
    return contact
