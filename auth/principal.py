"""The Principal: who a request acts for, resolved once per request."""
from __future__ import annotations

from dataclasses import dataclass, field

from models.enums import Role

STAFF_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.MEMBER})


@dataclass(frozen=True, slots=True)
class Principal:
    """Everything a permission decision may depend on.

    `costs_enabled` is the CLIENT condition of the COST class (its client shows costs
    in the portal); `actor_id` names the manager behind a view-as token, which is
    always `read_only`.
    """

    user_id: int | None
    role: Role | None
    client_id: int | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    actor_id: int | None = None
    read_only: bool = False
    costs_enabled: bool = False

    @property
    def is_authenticated(self) -> bool:
        return self.role is not None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_client(self) -> bool:
        return self.role is Role.CLIENT

    @property
    def conditions(self) -> tuple:
        """What besides the role changes field decisions: the cache key's tail."""
        return (self.costs_enabled, self.scopes)


ANONYMOUS = Principal(user_id=None, role=None)
