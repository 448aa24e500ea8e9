"""Roots of people: the caller (`me`), signing in and out, and the caller's notifications."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.extensions import FieldExtension

from auth import throttle
from auth.principal import Principal
from resolvers.errors import InputError
from resolvers.pagination import SortDirection
from resolvers.people import directory, notifications, sign_in
from resolvers.people.users import get_user_unscoped
from schema.context import Info
from schema.errors import UserError
from schema.mutation_shape import CallArguments, failed, mutation
from schema.pagination import Connection
from schema.people.inputs import (
    AuthPayload,
    LogoutPayload,
    MarkNotificationsReadPayload,
    UserFilterInput,
    UserOrder,
    payload_for,
)
from schema.people.types import Notification, User, Viewer


def _viewer(principal: Principal, user) -> Viewer:
    return Viewer(
        _user=user,
        read_only=principal.read_only,
        acting_user_id=strawberry.ID(str(relay.GlobalID("User", str(principal.actor_id))))
        if principal.actor_id
        else None,
    )


_BAD_SIGN_IN = UserError(field=None, code="INVALID_CREDENTIALS", message="The e-mail or password is not right.")


_BAD_REFRESH = UserError(
    field="refreshToken", code="INVALID_REFRESH_TOKEN", message="The refresh token is not valid; sign in again."
)


class SignInThrottling(FieldExtension):
    """Throttles a mutation that takes a secret (auth.throttle: per address, and per account
    when `account` names the argument holding the e-mail), around its resolver and outside
    its transaction.

    Before the resolver runs, the attempt takes its slot; when the caller is out of attempts
    the answer is `TOO_MANY_ATTEMPTS` (the message says in how many seconds to try again) and
    nothing else happens: no look-up, no password check. Then the payload settles the attempt:
    an error whose code is in `failures` counts as a failed attempt, no error is a success,
    other errors (a missing argument) and exceptions count for nothing."""

    def __init__(self, *, failures: frozenset[str], account: str | None = None) -> None:
        self.failures = failures
        self.account = account

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any) -> Any:
        ctx = info.context
        # The process's configured rules (AGENCY_SIGN_IN_LIMIT_PER_ACCOUNT / _PER_ADDRESS).
        limiter = throttle.SignInThrottle(throttle.DatabaseStorage(transaction=ctx.db.transaction))
        try:
            if self.account is None:
                attempt = await limiter.token(address=ctx.ip_address)
            else:
                account = sign_in.normalise_email(kwargs[self.account])
                attempt = await limiter.login(account=account, address=ctx.ip_address)
        except throttle.Throttled as refused:
            refusal = UserError(
                field=None, code="TOO_MANY_ATTEMPTS", message=str(refused), retry_after=refused.retry_after
            )
            return failed(AuthPayload, refusal)
        try:
            payload = await next_(source, info, **kwargs)
        except Exception:
            with contextlib.suppress(Exception):  # the database may be what failed
                await attempt.abandoned()
            raise
        codes = {error.code for error in payload.errors}
        if codes & self.failures:
            await attempt.failed()
        elif codes:
            await attempt.abandoned()
        else:
            await attempt.succeeded()
        return payload


def throttled(*, failures: set[str], account: str | None = None) -> Callable[[Any], Any]:
    """Put a declared mutation (schema.mutation_shape.mutation) under `SignInThrottling`."""

    def apply(field: Any) -> Any:
        field.extensions.append(SignInThrottling(failures=frozenset(failures), account=account))
        return field

    return apply


@strawberry.type
class PeopleQuery:
    @strawberry.field(description="The caller.")
    async def me(self, info: Info) -> Viewer | None:
        principal = info.context.principal
        if principal.user_id is None:
            return None
        # The caller always sees itself, whatever its row scope says of other users.
        user = await get_user_unscoped(info.context.db, principal.user_id)
        return None if user is None else _viewer(principal, user)

    @strawberry.field(description="The caller's notifications, newest first.")
    async def notifications(
        self, info: Info, first: int | None = 20, after: str | None = None, unread_only: bool = False
    ) -> Connection[Notification] | None:
        page = await notifications.list_notifications(
            info.context.db, info.context.principal, unread_only=unread_only, first=first, after=after
        )
        return Connection[Notification].from_page(page)

    @strawberry.field(
        description="The staff directory (ADMIN, MANAGER, MEMBER; portal users are on each client's record): "
        "filtered by role, searched by name or e-mail, cursor-paginated (at most 100 a page). Staff only."
    )
    async def users(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: UserFilterInput | None = None,
        order_by: UserOrder | None = None,
    ) -> Connection[User] | None:
        order = order_by or UserOrder()
        filters = (
            directory.UserFilter()
            if filter is None
            else directory.UserFilter(roles=tuple(filter.role or ()), search=filter.search, active=filter.active)
        )
        page = await directory.list_users(
            info.context.db,
            info.context.principal,
            filters=filters,
            order_by=directory.UserOrderField(order.field),
            direction=SortDirection(order.direction),
            first=first,
            after=after,
        )
        return Connection[User].from_page(page)


@strawberry.type
class PeopleMutation:
    @strawberry.mutation(
        description="Sign in with e-mail and password.",
        extensions=[SignInThrottling(failures=frozenset({"INVALID_CREDENTIALS"}), account="email")],
    )
    async def login(self, info: Info, email: str, password: str) -> AuthPayload:
        ctx = info.context
        try:
            pair = await sign_in.login(
                ctx.db,
                ctx.services.tokens,
                email=email,
                password=password,
                refresh_ttl=ctx.services.refresh_ttl,
                ip_address=ctx.ip_address,
                user_agent=ctx.user_agent,
            )
        except InputError as error:
            return failed(AuthPayload, UserError(field=error.field, code=error.code, message=error.message))
        except sign_in.AuthFailed:
            return failed(AuthPayload, _BAD_SIGN_IN)
        return payload_for(pair)

    @strawberry.mutation(
        description="Trade a refresh token for a new access token and a new refresh token.",
        extensions=[SignInThrottling(failures=frozenset({"INVALID_REFRESH_TOKEN"}))],
    )
    async def refresh_token(self, info: Info, refresh_token: str) -> AuthPayload:
        ctx = info.context
        try:
            async with ctx.db.transaction() as session:
                pair = await sign_in.refresh(
                    session, ctx.services.tokens, refresh_token=refresh_token, refresh_ttl=ctx.services.refresh_ttl
                )
        except sign_in.AuthFailed as error:
            if str(error) == "reused":
                # The family was revoked in its own transaction: reuse means the token leaked.
                async with ctx.db.transaction() as session:
                    await sign_in.logout(session, refresh_token=refresh_token)
            return failed(AuthPayload, _BAD_REFRESH)
        return payload_for(pair)

    @strawberry.mutation(description="Sign out: revoke this refresh token and every token rotated from it.")
    async def logout(self, info: Info, refresh_token: str) -> LogoutPayload:
        async with info.context.db.transaction() as session:
            ok = await sign_in.logout(session, refresh_token=refresh_token)
        return LogoutPayload(ok=True) if ok else failed(LogoutPayload, _BAD_REFRESH, ok=False)

    @mutation(
        notifications.mark_read,
        MarkNotificationsReadPayload,
        ids={"ids": "Notification"},
        description="Mark the caller's notifications read: these, or all when ids is omitted.",
    )
    def mark_notifications_read(self, info: Info, ids: list[relay.GlobalID] | None = None) -> CallArguments:
        return dict(ids=ids)
