"""Loading the people: staff, the custom client statuses, clients and their contacts, sales
leads, and the portal users with their (accepted) invitations."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa

from models import ActivityKind, Client, ClientStatus, Contact, Lead, PortalInvitation, Role, User
from models.base import money
from models.clients import STATUS_ACTIVE, STATUS_CHURNED, STATUS_ON_HOLD
from server.demo.data.clients import CLIENTS, LEADS, STATUS_SET_DAYS_AGO
from server.demo.data.people import CUSTOM_STATUSES, PORTAL_CLIENTS, STAFF
from server.demo.loader.state import DemoLoad, known


async def add_staff(load: DemoLoad) -> None:
    for spec in STAFF:
        load.staff[spec.key] = User(
            email=spec.email,
            full_name=spec.full_name,
            phone=spec.phone,
            job_title=spec.job_title,
            role=spec.role,
            password_hash=load.password_hash,
            hourly_cost_rate=money(spec.cost_rate),
            hourly_bill_rate=money(spec.bill_rate),
            created_at=load.at(760, 9),
        )
    load.session.add_all(load.staff.values())
    await load.session.flush()


async def add_statuses(load: DemoLoad) -> None:
    existing = {s.name: s for s in await load.session.scalars(sa.select(ClientStatus))}
    load.statuses = {"Active": STATUS_ACTIVE, "On Hold": STATUS_ON_HOLD, "Churned": STATUS_CHURNED}
    new = {}
    for name, category, position in CUSTOM_STATUSES:
        if name in existing:
            load.statuses[name] = known(existing[name].id)
        else:
            new[name] = ClientStatus(name=name, category=category, is_builtin=False, position=position)
    load.session.add_all(new.values())
    await load.session.flush()
    load.statuses.update({name: known(status.id) for name, status in new.items()})


async def add_clients(load: DemoLoad) -> None:
    for spec in CLIENTS:
        became = load.became_on(spec)
        created = load.at(load.ago(became), 9, 30)
        load.clients[spec.key] = Client(
            name=spec.name,
            logo_url=f"https://cdn.agency.example/logos/{spec.key}.png",
            website=f"https://www.{spec.domain}",
            billing_address=spec.address,
            industry=spec.industry,
            status_id=load.statuses[spec.status],
            tier=spec.tier,
            account_manager_id=load.staff[spec.manager].id,
            payment_terms_days=spec.terms,
            became_client_on=became,
            internal_notes=spec.notes,
            show_costs_in_portal=spec.show_costs,
            portal_booking_enabled=spec.booking,
            created_at=created,
            updated_at=created,
        )
    load.session.add_all(load.clients.values())
    await load.session.flush()

    for spec in CLIENTS:
        client = load.clients[spec.key]
        load.contacts[spec.key] = [
            Contact(
                client_id=client.id,
                full_name=p.full_name,
                email=f"{p.local_part}@{spec.domain}",
                phone=p.phone,
                title=p.title,
                is_decision_maker=p.decision_maker,
                is_primary=i == 0,
                internal_notes=p.notes,
                created_at=client.created_at + dt.timedelta(minutes=5 + i),
            )
            for i, p in enumerate(spec.contacts)
        ]
        load.session.add_all(load.contacts[spec.key])
    await load.session.flush()

    owner = load.staff["owner"]
    converted = {lead.converts_to for lead in LEADS if lead.converts_to}
    for spec in CLIENTS:
        client = load.clients[spec.key]
        manager = load.staff[spec.manager]
        primary = load.contacts[spec.key][0]
        if spec.key not in converted:  # a converted lead's client is logged as the conversion
            load.log(
                ActivityKind.CLIENT_CREATED,
                client,
                client.created_at,
                f"{client.name} added as a client",
                actor=owner,
                subject=client,
            )
        load.log(
            ActivityKind.CONTACT_ADDED,
            client,
            primary.created_at,
            f"{primary.full_name} added as the primary contact",
            actor=manager,
            subject=primary,
        )
        if spec.status != "Active":
            when = min(STATUS_SET_DAYS_AGO[spec.status], load.ago(known(client.became_client_on)))
            load.log(
                ActivityKind.STATUS_CHANGED,
                client,
                load.at(when, 11),
                f"Status changed to {spec.status}",
                actor=manager,
                subject=client,
            )
    # Summit was on hold for a year before it came back.
    summit = load.clients["summit"]
    summit_manager = load.staff[load.client_specs["summit"].manager]
    load.log(
        ActivityKind.STATUS_CHANGED,
        summit,
        load.at(420, 11),
        "Status changed to On Hold",
        actor=summit_manager,
        subject=summit,
    )
    load.log(
        ActivityKind.CLIENT_REACTIVATED,
        summit,
        load.at(50, 17),
        "Reactivated: back for the spring catalogue",
        actor=summit_manager,
        subject=summit,
    )


async def add_leads(load: DemoLoad) -> None:
    leads = []
    for spec in LEADS:
        client = load.clients.get(spec.converts_to) if spec.converts_to else None
        created = load.at(spec.created_ago, 14)
        if client is not None:
            created = min(created, client.created_at - dt.timedelta(days=20))
        leads.append(
            Lead(
                company_name=spec.company,
                contact_name=spec.contact,
                contact_email=spec.email,
                contact_phone=spec.phone,
                contact_title=spec.title,
                website="https://www." + spec.email.split("@", 1)[1],
                industry=spec.industry,
                stage=spec.stage,
                estimated_value=money(spec.value),
                source=spec.source,
                owner_id=load.staff[spec.owner].id,
                converted_client_id=client.id if client else None,
                converted_at=client.created_at if client else None,
                created_at=created,
            )
        )
    load.session.add_all(leads)
    await load.session.flush()
    for spec, lead in zip(LEADS, leads, strict=True):
        if spec.converts_to:
            client = load.clients[spec.converts_to]
            load.log(
                ActivityKind.LEAD_CONVERTED,
                client,
                client.created_at,
                f"Won lead {lead.company_name} converted into a client",
                actor=load.staff[spec.owner],
                subject=lead,
            )


async def add_portal_users(load: DemoLoad) -> None:
    for key, _note in PORTAL_CLIENTS:
        client, primary = load.clients[key], load.contacts[key][0]
        load.portal[key] = User(
            email=known(primary.email),
            full_name=primary.full_name,
            phone=primary.phone,
            job_title=primary.title,
            role=Role.CLIENT,
            password_hash=load.password_hash,
            client_id=client.id,
            contact_id=primary.id,
            created_at=load.at(min(300, load.ago(known(client.became_client_on)) - 10), 10),
        )
    load.session.add_all(load.portal.values())
    await load.session.flush()

    invitations = []
    for key, portal_user in load.portal.items():
        client = load.clients[key]
        manager = load.staff[load.client_specs[key].manager]
        sent = portal_user.created_at
        invitations.append(
            PortalInvitation(
                user_id=known(portal_user.id),
                # Already accepted; the token itself is thrown away, as after a real acceptance.
                token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
                expires_at=sent + dt.timedelta(days=7),
                accepted_at=sent + dt.timedelta(hours=3),
                created_by_id=manager.id,
                created_at=sent,
            )
        )
        load.log(
            ActivityKind.PORTAL_ACCESS_GRANTED,
            client,
            sent,
            f"Portal access granted to {portal_user.full_name}",
            actor=manager,
            subject=portal_user,
        )
    load.session.add_all(invitations)
