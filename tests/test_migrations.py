"""Applying every migration gives exactly the models' schema, on the database under test."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models.base import metadata


async def test_migrations_produce_exactly_the_models_schema(engine, database_url):
    # The session fixture migrated this database with the shipped migrations.
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
        )
        revision = await conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert diff == []
    assert revision is not None


async def test_the_database_enforces_one_primary_contact_per_client(db, factory):
    import pytest
    from sqlalchemy.exc import IntegrityError

    client = await factory.client()
    await factory.contact(client, primary=True)
    await factory.contact(client, primary=False)
    with pytest.raises(IntegrityError):
        await factory.contact(client, primary=True)


async def test_a_client_user_must_be_linked_to_a_client_and_contact(db, factory):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from models import Role

    with pytest.raises(IntegrityError):
        await factory.user(Role.CLIENT)


async def test_the_database_keeps_a_portal_users_contact_in_its_own_client(db, factory):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from models import Contact, Role, User

    acme = await factory.client("Acme")
    globex = await factory.client("Globex")
    acme_contact = await factory.contact(acme)
    with pytest.raises(IntegrityError):
        await factory.user(Role.CLIENT, client_id=globex.id, contact_id=acme_contact.id)
    portal = await factory.portal_user(acme)
    with pytest.raises(IntegrityError):
        async with db() as session, session.begin():
            await session.execute(sa.update(Contact).where(Contact.id == portal.contact_id).values(client_id=globex.id))
    async with db() as session:
        assert await session.scalar(sa.select(User.client_id).where(User.id == portal.id)) == acme.id
