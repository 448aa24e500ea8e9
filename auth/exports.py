"""Who may take an export, which of its columns and filters they get: decided from the policy table
(auth.policy_table.EXPORTS, FIELD_CLASSES, RULES, SCOPES) and the caller's policy key alone, once
per request, never per row. Which rows it holds is row scope (auth.scopes)."""

from __future__ import annotations

from dataclasses import dataclass

from auth.policy import class_of, decide
from auth.policy_table import EXPORTS, RULES, SCOPES, Export, Rule, Sensitivity
from auth.principal import PolicyKey
from models.enums import Role

__all__ = ["ExportDecision", "decide_export"]


@dataclass(frozen=True, slots=True)
class ExportDecision:
    """`allowed` (else `code`: UNAUTHENTICATED or FORBIDDEN, and `reason` for the log); the
    `columns` (header, field) the caller gets, in the export's order; the filters (query
    parameter -> field) it may use."""

    allowed: bool
    code: str | None = None
    reason: str = ""
    columns: tuple[tuple[str, str], ...] = ()
    filters: frozenset[str] = frozenset()


def _partner_reads_in_export(export: Export, coordinate: str, key: PolicyKey) -> bool:
    """A partner holding the export's scope reads a field there when the scope's `reads` name its
    type with its class, or name its type and another granted scope opens the class everywhere."""
    type_name, field_name = coordinate.split(".", 1)
    sensitivity = class_of(type_name, field_name)
    if sensitivity is None or RULES[sensitivity][Role.PARTNER] is not Rule.IF_SCOPE:
        return False
    if type_name not in export.reads:
        return False
    if sensitivity in export.reads[type_name]:
        return True
    opened: set[Sensitivity] = set()
    for name in key.scopes:
        if name in SCOPES:
            opened |= SCOPES[name].opens
    return sensitivity in opened


def _may_read(export: Export, coordinate: str, key: PolicyKey) -> bool:
    type_name, field_name = coordinate.split(".", 1)
    if decide(type_name, field_name, key).allowed:
        return True
    return key.role is Role.PARTNER and _partner_reads_in_export(export, coordinate, key)


def _decide(name: str, key: PolicyKey) -> ExportDecision:
    export = EXPORTS[name]
    if key.role is None:
        return ExportDecision(False, "UNAUTHENTICATED", "an anonymous caller takes no export")
    if key.role is Role.PARTNER:
        if export.scope not in key.scopes:
            return ExportDecision(False, "FORBIDDEN", f"the partner does not hold {export.scope}")
        reason = f"scope {export.scope}"
    elif key.role in export.roles:
        reason = f"{key.role.value} may take it"
    else:
        return ExportDecision(False, "FORBIDDEN", f"{key.role.value} may not take the {name} export")
    columns = tuple((header, field) for header, field in export.columns if _may_read(export, field, key))
    filters = frozenset(param for param, field in export.filters.items() if _may_read(export, field, key))
    return ExportDecision(True, reason=reason, columns=columns, filters=filters)


_decided: dict[tuple[str, PolicyKey], ExportDecision] = {}


def decide_export(name: str, key: PolicyKey) -> ExportDecision:
    """The decision for this export and policy key (a handful of keys in all: kept, like the
    schema views)."""
    cache_key = (name, key)
    decision = _decided.get(cache_key)
    if decision is None:
        if len(_decided) > 256:
            _decided.clear()
        decision = _decided[cache_key] = _decide(name, key)
    return decision
