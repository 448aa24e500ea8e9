"""Field, mutation and argument decisions, made from the policy table (auth.policy_table) and
the caller's policy key alone.

A field with no class is denied to everyone, and a test walks the whole schema and fails on any
such field. Decisions depend on (type, field, policy key) only, never on a row: which rows are
visible is row scope (auth.scopes). `agency policy` prints the table; `explain` says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from auth.policy_table import (
    ARGUMENT_RULES,
    FIELD_CLASSES,
    MUTATION_ROLES,
    RULES,
    WRITE_CLASSES,
    ArgumentRule,
    Rule,
    Sensitivity,
)
from auth.principal import PolicyKey
from models.enums import Role

__all__ = [
    "ARGUMENT_RULES",
    "FIELD_CLASSES",
    "MUTATION_ROLES",
    "RULES",
    "WRITE_CLASSES",
    "ArgumentRule",
    "Decision",
    "Rule",
    "Sensitivity",
    "class_of",
    "decide",
    "decide_arguments",
    "decide_mutation",
    "decide_rule",
    "decide_write",
    "explain",
    "policy_markdown",
]


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    code: str | None = None  # FORBIDDEN or UNAUTHENTICATED when refused
    reason: str = ""
    message: str | None = None  # what the caller is told, when not the default


def class_of(type_name: str, field_name: str) -> Sensitivity | None:
    return FIELD_CLASSES.get(f"{type_name}.{field_name}")


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
    if key.role in roles:
        return Decision(True, reason=f"{key.role.value} may call {name}")
    return Decision(False, "FORBIDDEN", f"{key.role.value} may not call {name}")


def decide(type_name: str, field_name: str, key: PolicyKey) -> Decision:
    """May a caller with this policy key read this field (or call this mutation)?"""
    if type_name == "Mutation":
        return decide_mutation(field_name, key)
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
    if rule is Rule.IF_SCOPE and f"read:{sensitivity.value.lower()}" in key.scopes:
        return Decision(True, reason=f"{sensitivity.value}: granted scope read:{sensitivity.value.lower()}")
    return Decision(False, "FORBIDDEN", f"{sensitivity.value} is not readable by {key.role.value} ({rule.value})")


ROLE_COLUMNS = (Role.ADMIN, Role.MANAGER, Role.MEMBER, Role.CLIENT, Role.PARTNER)
_RULE_MARK = {Rule.ALLOW: "yes", Rule.DENY: "no", Rule.IF_COSTS_ENABLED: "if costs shown", Rule.IF_SCOPE: "by scope"}


def _rule_marks(coordinate: str, rule: ArgumentRule) -> list[str]:
    """Who may use an argument, per role column (CLIENT with costs shown, PARTNER with every scope)."""
    marks = []
    for role in ROLE_COLUMNS:
        scopes = frozenset(f"read:{s.value.lower()}" for s in Sensitivity) if role is Role.PARTNER else frozenset()
        hidden = decide_rule(coordinate, rule, PolicyKey(role=role, scopes=scopes)).allowed
        shown = decide_rule(coordinate, rule, PolicyKey(role=role, costs_enabled=True, scopes=scopes)).allowed
        marks.append("yes" if hidden else "if costs shown" if shown else "no")
    return marks


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
            marks = [_RULE_MARK[RULES[sensitivity][role]] for role in ROLE_COLUMNS]
        lines.append(f"| {type_name} | {field_name} | {label} | " + " | ".join(marks) + " |")
    lines += [
        "",
        "| mutation | " + " | ".join(r.value for r in ROLE_COLUMNS) + " |",
        "|---|" + "---|" * len(ROLE_COLUMNS),
    ]
    for coordinate in sorted(c for c in coordinates if c.startswith("Mutation.")):
        name = coordinate.split(".", 1)[1]
        roles = MUTATION_ROLES.get(name, frozenset())
        marks = ["yes" if roles is None or role in roles else "no" for role in ROLE_COLUMNS]
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
    if key.read_only:
        conditions.append("this is a read-only view-as token")
    tail = f" ({'; '.join(conditions)})" if conditions else ""
    return (
        f"{_verdict(decision)}: {coordinate} is {sensitivity.value if sensitivity else 'unclassified'}; "
        f"{decision.reason}{tail}. Which rows it sees is decided by auth/scopes.py.{rule_text}"
    )
