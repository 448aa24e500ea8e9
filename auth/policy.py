"""Field, mutation and argument decisions, made from the policy table (auth.policy_table) and
the caller's policy key alone.

A field with no class is denied to everyone, and a test walks the whole schema and fails on any
such field. Decisions depend on (type, field, policy key) only, never on a row: which rows are
visible is row scope (auth.scopes). `agency policy` prints the table; `explain` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from auth.policy_table import (
    ARGUMENT_RULES,
    FIELD_CLASSES,
    MUTATION_ROLES,
    PARTNER_STRUCTURE,
    RULES,
    SCOPES,
    WRITE_CLASSES,
    ArgumentRule,
    Rule,
    Scope,
    Sensitivity,
)
from auth.principal import PolicyKey
from models.enums import Role

__all__ = [
    "ARGUMENT_RULES",
    "FIELD_CLASSES",
    "MUTATION_ROLES",
    "RULES",
    "SCOPES",
    "WRITE_CLASSES",
    "ArgumentRule",
    "Decision",
    "PartnerAccess",
    "Rule",
    "Scope",
    "Sensitivity",
    "class_of",
    "decide",
    "decide_arguments",
    "decide_mutation",
    "decide_rule",
    "decide_write",
    "explain",
    "partner_access",
    "policy_markdown",
    "scope_markdown",
]


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    code: str | None = None  # FORBIDDEN or UNAUTHENTICATED when refused
    reason: str = ""
    message: str | None = None  # what the caller is told, when not the default


def class_of(type_name: str, field_name: str) -> Sensitivity | None:
    return FIELD_CLASSES.get(f"{type_name}.{field_name}")


@dataclass(frozen=True, slots=True)
class PartnerAccess:
    """What a set of granted partner scopes opens together (auth.policy_table.SCOPES).

    `reads[type]` holds the classes the app reads on that type and, for each, the scopes that
    open it there: the type's own scope, "clients:read + internal:read" when one scope lists the
    type and another opens the class everywhere the app reads, or any reading scope for the
    structure of connections (PARTNER_STRUCTURE). Names not in SCOPES open nothing.
    """

    reads: dict[str, dict[Sensitivity, str]]
    roots: dict[str, str]  # Query field -> the scope naming it
    mutations: dict[str, str]  # mutation -> the *:write scope naming it
    rows: frozenset[str]  # row-scope entities (auth.scopes)


@lru_cache(maxsize=256)
def partner_access(scopes: frozenset[str]) -> PartnerAccess:
    granted = {name: SCOPES[name] for name in sorted(scopes) if name in SCOPES}
    reads: dict[str, dict[Sensitivity, str]] = {}
    roots: dict[str, str] = {}
    mutations: dict[str, str] = {}
    for name, scope in granted.items():
        for type_name, classes in scope.types.items():
            for sensitivity in classes:
                reads.setdefault(type_name, {}).setdefault(sensitivity, f"scope {name}")
        for root in scope.roots:
            roots.setdefault(root, name)
        for mutation in scope.mutations:
            mutations.setdefault(mutation, name)
    for opener, scope in granted.items():
        for sensitivity in scope.opens:
            for type_name, opened in reads.items():
                if sensitivity not in opened:
                    lister = next(n for n, s in granted.items() if type_name in s.types)
                    opened[sensitivity] = f"scopes {lister} + {opener}"
    if reads:
        for type_name in PARTNER_STRUCTURE:
            reads.setdefault(type_name, {}).setdefault(Sensitivity.PUBLIC, "any scope that reads (structure)")
    rows = frozenset(row for scope in granted.values() for row in scope.rows)
    return PartnerAccess(reads=reads, roots=roots, mutations=mutations, rows=rows)


def _partner_read(type_name: str, field_name: str, sensitivity: Sensitivity, key: PolicyKey) -> Decision:
    """A PARTNER's IF_SCOPE decision: a root its scopes name, a field of a type and class they open."""
    access = partner_access(key.scopes)
    if type_name == "Query":
        scope = access.roots.get(field_name)
        if scope is None:
            return Decision(False, "FORBIDDEN", f"no granted scope opens the root Query.{field_name}")
        return Decision(True, reason=f"the root Query.{field_name} is opened by scope {scope}")
    scope = access.reads.get(type_name, {}).get(sensitivity)
    if scope is None:
        return Decision(False, "FORBIDDEN", f"no granted scope opens {sensitivity.value} on {type_name}")
    return Decision(True, reason=f"{sensitivity.value} on {type_name} is opened by {scope}")


_ABSENT = object()


def _argument_value(arguments: object, path: tuple[str, ...]) -> object:
    """The value at `path`, or _ABSENT when the caller did not send it (an explicit null is sent)."""
    value = arguments
    for step in path:
        if value is None or value is _ABSENT:
            return _ABSENT
        value = value.get(step, _ABSENT) if isinstance(value, dict) else getattr(value, _snake(step), _ABSENT)
        if type(value).__name__ == "UnsetType":  # Strawberry's UNSET: an input field left out
            return _ABSENT
    return value


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _who(key: PolicyKey) -> str:
    return key.role.value if key.role is not None else "an anonymous caller"


def decide_rule(coordinate: str, rule: ArgumentRule, key: PolicyKey) -> Decision:
    """May this caller use this argument at all? (Which value it was given is the caller's.)"""
    if rule.roles is not None and key.role not in rule.roles:
        return Decision(
            False,
            "UNAUTHENTICATED" if key.role is None else "FORBIDDEN",
            f"argument {rule.label} of {coordinate} is for {', '.join(sorted(r.value for r in rule.roles))} only"
            + (f": {rule.why}" if rule.why else ""),
            f"You may not use {rule.label} with {coordinate}" + (f": {rule.why}." if rule.why else "."),
        )
    for verb, target, check in (("reads", rule.reads, decide), ("sets", rule.writes, decide_write)):
        if target is None:
            continue
        type_name, field_name = target.split(".", 1)
        decision = check(type_name, field_name, key)
        if not decision.allowed:
            doing = "filter, search or sort" if verb == "reads" else "set"
            return Decision(
                False,
                decision.code,
                f"argument {rule.label} of {coordinate} {verb} {target}: {decision.reason}",
                f"You may not {doing} {target} through {coordinate} ({'.'.join(rule.path)}).",
            )
    return Decision(True, reason=f"argument {rule.label} of {coordinate}: allowed")


def decide_arguments(
    coordinate: str,
    arguments: dict[str, object],
    key: PolicyKey,
    null_is_default: frozenset[tuple[str, ...]] = frozenset(),
) -> Decision | None:
    """A refusal when an argument given to `coordinate` breaks one of its rules, else None.

    Clearing a field (an explicit null) is writing it; an empty filter or option reads nothing.
    `null_is_default` names the paths whose schema default is null, where a null means "left out"."""
    for rule in ARGUMENT_RULES.get(coordinate, ()):
        value = _argument_value(arguments, rule.path)
        if value is _ABSENT:
            continue
        if value is None and (rule.writes is None or rule.path in null_is_default):
            continue
        if rule.writes is None and value in ("", [], ()):
            continue
        if (
            rule.value is not None
            and getattr(value, "name", value) != rule.value
            and getattr(value, "value", value) != rule.value
        ):
            continue
        decision = decide_rule(coordinate, rule, key)
        if not decision.allowed:
            return decision
    return None


def decide_write(type_name: str, field_name: str, key: PolicyKey) -> Decision:
    """May this caller set this field in a mutation it is allowed to call?"""
    read = decide(type_name, field_name, key)
    stricter = WRITE_CLASSES.get(f"{type_name}.{field_name}")
    if not read.allowed or stricter is None:
        return read
    rule = RULES[stricter][key.role] if key.role is not None else Rule.DENY
    if rule is Rule.ALLOW:
        return Decision(True, reason=f"writing it is {stricter.value}, which {_who(key)} may")
    return Decision(False, "FORBIDDEN", f"writing it is {stricter.value}, which {_who(key)} may not")


def decide_mutation(name: str, key: PolicyKey) -> Decision:
    if name not in MUTATION_ROLES:
        return Decision(False, "FORBIDDEN", f"Mutation.{name} is not in the mutation table: denied by default")
    if key.read_only:
        return Decision(False, "FORBIDDEN", "a view-as token is read-only: every mutation is refused")
    roles = MUTATION_ROLES[name]
    if roles is None:
        return Decision(True, reason="open to anyone")
    if key.role is None:
        return Decision(False, "UNAUTHENTICATED", "anonymous callers reach only login, refresh, logout and invitations")
    if key.role is Role.PARTNER:
        scope = partner_access(key.scopes).mutations.get(name)
        if scope is None:
            return Decision(False, "FORBIDDEN", f"no granted scope lets a partner call {name}")
        return Decision(True, reason=f"scope {scope} lets a partner call {name}")
    if key.role in roles:
        return Decision(True, reason=f"{key.role.value} may call {name}")
    return Decision(False, "FORBIDDEN", f"{key.role.value} may not call {name}")


_NO_PARTNER_SUBSCRIPTIONS = (
    "no partner scope names the Subscription root: partner apps follow changes with `changes` and webhooks"
)


def decide(type_name: str, field_name: str, key: PolicyKey) -> Decision:
    """May a caller with this policy key read this field (or call this mutation)?"""
    if type_name == "Mutation":
        return decide_mutation(field_name, key)
    if type_name == "Subscription" and key.role is Role.PARTNER:
        return Decision(False, "FORBIDDEN", _NO_PARTNER_SUBSCRIPTIONS)
    sensitivity = class_of(type_name, field_name)
    if sensitivity is None:
        return Decision(False, "FORBIDDEN", f"{type_name}.{field_name} has no sensitivity class: denied by default")
    if sensitivity is Sensitivity.OPEN:
        return Decision(True, reason="OPEN: anyone, signed in or not")
    if key.role is None:
        return Decision(False, "UNAUTHENTICATED", "anonymous callers reach only the OPEN fields")
    rule = RULES[sensitivity][key.role]
    if rule is Rule.ALLOW:
        return Decision(True, reason=f"{sensitivity.value} is readable by {key.role.value}")
    if rule is Rule.IF_COSTS_ENABLED and key.costs_enabled:
        return Decision(True, reason=f"{sensitivity.value}: this client shows costs in its portal")
    if rule is Rule.IF_SCOPE:
        return _partner_read(type_name, field_name, sensitivity, key)
    return Decision(False, "FORBIDDEN", f"{sensitivity.value} is not readable by {key.role.value} ({rule.value})")


ROLE_COLUMNS = (Role.ADMIN, Role.MANAGER, Role.MEMBER, Role.CLIENT, Role.PARTNER)
_RULE_MARK = {Rule.ALLOW: "yes", Rule.DENY: "no", Rule.IF_COSTS_ENABLED: "if costs shown", Rule.IF_SCOPE: "by scope"}


def _partner_mark(coordinate: str) -> str:
    """Which partner scopes (alone, or one listing the type and one opening the class) open a field."""
    type_name, field_name = coordinate.split(".", 1)
    sensitivity = FIELD_CLASSES.get(coordinate)
    if type_name == "Mutation":
        names = [name for name, scope in SCOPES.items() if field_name in scope.mutations]
    elif type_name == "Subscription":
        return "no"
    elif sensitivity is None or RULES[sensitivity][Role.PARTNER] is not Rule.IF_SCOPE:
        return "no" if sensitivity is None else _RULE_MARK[RULES[sensitivity][Role.PARTNER]]
    elif type_name == "Query":
        names = [name for name, scope in SCOPES.items() if field_name in scope.roots]
    elif type_name in PARTNER_STRUCTURE and sensitivity is Sensitivity.PUBLIC:
        return "any reading scope"
    else:
        names = [name for name, scope in SCOPES.items() if sensitivity in scope.types.get(type_name, ())]
        names += [
            f"{lister} + {opener}"
            for lister, listing in SCOPES.items()
            if type_name in listing.types and sensitivity not in listing.types[type_name]
            for opener, opening in SCOPES.items()
            if sensitivity in opening.opens and opener != lister
        ]
    return " or ".join(names) if names else "no"


def scope_markdown() -> str:
    """The partner scopes as markdown: what each opens (types and classes, roots, mutations, rows)."""
    lines = [
        "| scope | opens | on types | Query roots | mutations | rows |",
        "|---|---|---|---|---|---|",
    ]
    for name, scope in SCOPES.items():
        by_classes: dict[str, list[str]] = {}
        for type_name, classes in scope.types.items():
            if type_name in ("PageInfo", "Node") or type_name.endswith(("Connection", "Edge")):
                continue
            label = " + ".join(c.value for c in Sensitivity if c in classes)
            by_classes.setdefault(label, []).append(type_name)
        types = "; ".join(f"{', '.join(names)} ({label})" for label, names in by_classes.items()) or "-"
        opens = " + ".join(c.value for c in Sensitivity if c in scope.opens)
        lines.append(
            f"| {name} | {scope.summary}"
            + (f" (opens {opens} on every type the app reads)" if opens else "")
            + f" | {types} | {', '.join(sorted(scope.roots)) or '-'} | {', '.join(sorted(scope.mutations)) or '-'}"
            f" | {', '.join(sorted(scope.rows)) or '-'} |"
        )
    lines += [
        "",
        "A partner reads a field when one of its scopes lists the field's type with its class, or one",
        "lists the type and another opens the class everywhere (internal:read, costs:read, invoices:read).",
        "No scope opens TEAM or PAYROLL. Rows: only the entities its scopes name, and when the app is",
        "limited to clients, only those clients' rows (auth/scopes.py).",
    ]
    return "\n".join(lines)


def _rule_marks(coordinate: str, rule: ArgumentRule) -> list[str]:
    """Who may use an argument, per role column (CLIENT with costs shown, PARTNER with every scope)."""
    marks = []
    for role in ROLE_COLUMNS:
        scopes = frozenset(SCOPES) if role is Role.PARTNER else frozenset()
        hidden = decide_rule(coordinate, rule, PolicyKey(role=role, scopes=scopes)).allowed
        shown = decide_rule(coordinate, rule, PolicyKey(role=role, costs_enabled=True, scopes=scopes)).allowed
        marks.append("yes" if hidden else "if costs shown" if shown else "no")
    return marks


def _mutation_mark(name: str, role: Role) -> str:
    roles = MUTATION_ROLES.get(name, frozenset())
    if roles is None:
        return "yes"
    if role is Role.PARTNER and name in MUTATION_ROLES:
        return _partner_mark(f"Mutation.{name}")
    return "yes" if role in roles else "no"


def policy_markdown(coordinates: list[str]) -> str:
    """Every rule as markdown: each field with its class and who may read it, the mutations,
    the argument rules and the write classes."""
    lines = [
        "| type | field | class | " + " | ".join(r.value for r in ROLE_COLUMNS) + " |",
        "|---|---|---|" + "---|" * len(ROLE_COLUMNS),
    ]
    for coordinate in sorted(c for c in coordinates if not c.startswith("Mutation.")):
        type_name, field_name = coordinate.split(".", 1)
        sensitivity = FIELD_CLASSES.get(coordinate)
        if sensitivity is None:
            marks = ["no"] * len(ROLE_COLUMNS)
            label = "(none: denied)"
        else:
            label = sensitivity.value
            marks = [
                _partner_mark(coordinate) if role is Role.PARTNER else _RULE_MARK[RULES[sensitivity][role]]
                for role in ROLE_COLUMNS
            ]
        lines.append(f"| {type_name} | {field_name} | {label} | " + " | ".join(marks) + " |")
    lines += [
        "",
        "| mutation | " + " | ".join(r.value for r in ROLE_COLUMNS) + " |",
        "|---|" + "---|" * len(ROLE_COLUMNS),
    ]
    for coordinate in sorted(c for c in coordinates if c.startswith("Mutation.")):
        name = coordinate.split(".", 1)[1]
        roles = MUTATION_ROLES.get(name, frozenset())
        marks = [_mutation_mark(name, role) for role in ROLE_COLUMNS]
        lines.append(f"| {name}{' (anyone)' if roles is None else ''} | " + " | ".join(marks) + " |")
    lines += [
        "",
        "| argument of | argument | needs | " + " | ".join(r.value for r in ROLE_COLUMNS) + " |",
        "|---|---|---|" + "---|" * len(ROLE_COLUMNS),
    ]
    for coordinate, rules in sorted(ARGUMENT_RULES.items()):
        for rule in rules:
            needs = "; ".join(
                part
                for part in (
                    f"reads {rule.reads}" if rule.reads else "",
                    f"writes {rule.writes}" if rule.writes else "",
                    f"role {'/'.join(sorted(r.value for r in rule.roles))}" if rule.roles is not None else "",
                )
                if part
            )
            lines.append(
                f"| {coordinate} | {rule.label} | {needs} | " + " | ".join(_rule_marks(coordinate, rule)) + " |"
            )
    lines += ["", "| field set by a mutation | class needed to write it |", "|---|---|"]
    lines += [f"| {coordinate} | {sensitivity.value} |" for coordinate, sensitivity in sorted(WRITE_CLASSES.items())]
    lines.append("")
    lines.append("Writing any other field needs the right to read it. View-as tokens are read-only:")
    lines.append("every mutation is refused. Rows are limited by auth/scopes.py.")
    lines += ["", "Partner scopes (PARTNER: which scopes open a field, call a mutation):", "", scope_markdown()]
    return "\n".join(lines)


def _verdict(decision: Decision) -> str:
    return "ALLOWED" if decision.allowed else f"REFUSED ({decision.code})"


def explain(coordinate: str, key: PolicyKey) -> str:
    """Why a caller with this key may or may not read (or call) this coordinate, in one paragraph.
    `coordinate` is "Type.field", "Mutation.name", or "Type.field(argument.path)" for an argument."""
    who = _who(key)
    if "(" in coordinate:
        target, _, argument = coordinate.partition("(")
        path = tuple(argument.rstrip(")").split("."))
        matching = [r for r in ARGUMENT_RULES.get(target, ()) if r.path == path]
        if not matching:
            return (
                f"ALLOWED: {target} has no rule on argument {'.'.join(path)}; the field's own decision applies: "
                + explain(target, key)
            )
        parts = [f"{_verdict(d)}: {d.reason}" for d in (decide_rule(target, r, key) for r in matching)]
        return f"{who} using {coordinate}: " + " ".join(parts) + "."
    type_name, _, field_name = coordinate.partition(".")
    decision = decide(type_name, field_name, key)
    rules = ARGUMENT_RULES.get(coordinate, ())
    rule_text = ""
    if rules:
        rule_text = (
            " Its argument rules: "
            + "; ".join(f"{r.label}: {_verdict(decide_rule(coordinate, r, key))}" for r in rules)
            + "."
        )
    if type_name == "Mutation":
        return f"{_verdict(decision)}: {who} calling {coordinate}: {decision.reason}.{rule_text}"
    sensitivity = class_of(type_name, field_name)
    conditions = []
    if key.role is Role.CLIENT:
        conditions.append(f"its client {'shows' if key.costs_enabled else 'does not show'} costs in the portal")
    if key.role is Role.PARTNER:
        conditions.append(f"granted scopes: {', '.join(sorted(key.scopes)) or 'none'}")
    if key.read_only:
        conditions.append("this is a read-only view-as token")
    tail = f" ({'; '.join(conditions)})" if conditions else ""
    return (
        f"{_verdict(decision)}: {coordinate} is {sensitivity.value if sensitivity else 'unclassified'}; "
        f"{decision.reason}{tail}. Which rows it sees is decided by auth/scopes.py.{rule_text}"
    )
