"""The Principal: who a request acts for, resolved once per request, and its policy key."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.enums import STAFF_ROLES, Role

__all__ = ["ANONYMOUS", "STAFF_ROLES", "PolicyKey", "Principal"]


@dataclass(frozen=True, slots=True)
class PolicyKey:
    """Everything any field, argument or mutation decision may depend on, and nothing else.

    The policy functions (auth.policy) read only this; every cached decision and every
    schema view is keyed by it. Two callers with equal keys are answered identically by
    the policy (their rows still differ: row scope reads the Principal). When a decision
    starts to depend on something new, it is added here, and every cache follows.

    - `role`: None for an anonymous caller.
    - `costs_enabled`: a CLIENT whose client shows the agency's costs in its portal.
    - `read_only`: a view-as token; every mutation is refused.
    - `scopes`: a PARTNER's granted scopes (`clients:read`, `invoices:read`, ...: the names of
      auth.policy_table.SCOPES, which say what each opens; an unknown name opens nothing).
    - `grants`: the client ids a PARTNER app is limited to (empty: not limited). Only row scope
      reads them; they are here so that nothing cached for one app serves another.
    """

    role: Role | None
    costs_enabled: bool = False
    read_only: bool = False
    scopes: frozenset[str] = frozenset()
    grants: frozenset[int] = frozenset()

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def label(self) -> str:
        """A short human name for logs, the CLI and file names."""
        parts = [self.role.value if self.role is not None else "ANONYMOUS"]
        if self.role is Role.CLIENT:
            parts.append("costs-shown" if self.costs_enabled else "costs-hidden")
        if self.read_only:
            parts.append("view-as")
        if self.scopes:
            parts.append("+".join(sorted(self.scopes)))
        if self.grants:
            parts.append("clients " + ",".join(str(c) for c in sorted(self.grants)))
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for.

    `costs_enabled` is the CLIENT condition of the COST class (its client shows costs
    in the portal); `actor_id` names the manager behind a view-as token, which is
    always `read_only`. `policy_key` is derived once, here, and is all the field policy sees.
    """

    user_id: int | None
    role: Role | None
    client_id: int | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    actor_id: int | None = None
    read_only: bool = False
    costs_enabled: bool = False
    grants: frozenset[int] = field(default_factory=frozenset)
    # PARTNER: the partner app the token was issued to (its external ids, idempotency keys, webhooks).
    partner_app_id: int | None = None
    policy_key: PolicyKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "policy_key",
            PolicyKey(
                role=self.role,
                costs_enabled=self.costs_enabled if self.role is Role.CLIENT else False,
                read_only=self.read_only or self.actor_id is not None,
                scopes=frozenset(self.scopes) if self.role is Role.PARTNER else frozenset(),
                grants=frozenset(self.grants) if self.role is Role.PARTNER else frozenset(),
            ),
        )

    @property
    def is_authenticated(self) -> bool:
        return self.role is not None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_client(self) -> bool:
        return self.role is Role.CLIENT


ANONYMOUS = Principal(user_id=None, role=None)
