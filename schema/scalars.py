"""The Date, DateTime and Decimal scalars: the range of days this API takes, and one error shape
for every value a scalar refuses.

Strawberry's own Date and DateTime accept any day Python can hold, year 1 to 9999, and an
offset of up to a day. Such a value breaks later and far from the input: converting
`9999-12-31T23:59:59-23:59` to UTC overflows, so do a due date computed from an issue date in
9999 and a week or month around a date in year 1; and the two databases store the extremes
differently. So every Date and DateTime input is checked once, here, while the request's values
are coerced, before any resolver runs: a day from MIN_DATE to MAX_DATE, and for a DateTime
that moment in UTC from the first moment of MIN_DATE to the last of MAX_DATE (without an
offset, its own date and time; most inputs then refuse it for want of an offset, with the
field at fault, in resolvers.validation.aware).

A value a scalar refuses, whether it came in a variable or as a literal in the document, is
one error with `extensions.code` BAD_USER_INPUT and a `reason`: OUT_OF_RANGE for a date outside
the range, else INVALID_DATE, INVALID_DATETIME or INVALID_NUMBER (a literal's error carries its
location, a variable's names the variable and the path inside it in its message). Decimal's
parsing is Strawberry's (a string, or a JSON or GraphQL number); NaN, infinities, sizes and
decimal places are each input's own business rule (resolvers.validation), answered in the
mutation's payload with the field at fault.

The scalars keep their names, descriptions and output: the printed schema does not change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Callable, Mapping
from typing import NamedTuple

import dateutil.parser  # type: ignore[import-untyped]  # no stubs installed; the parser Strawberry uses
from graphql import FloatValueNode, IntValueNode, StringValueNode, ValueNode, print_ast
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition, DecimalDefinition
from strawberry.types.scalar import ScalarDefinition

MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2999, 12, 31)
_FIRST = dt.datetime.combine(MIN_DATE, dt.time.min)
_LAST = dt.datetime.combine(MAX_DATE, dt.time.max)
RANGE = f"from {MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}"


class OutOfRange(ValueError):
    """A well-formed value outside what the scalar takes."""


def parse_date(text: str) -> dt.date:
    """An ISO 8601 calendar date (as Strawberry reads it) from MIN_DATE to MAX_DATE."""
    value = dt.date.fromisoformat(text)
    if not MIN_DATE <= value <= MAX_DATE:
        raise OutOfRange(f"Dates are {RANGE}.")
    return value


def parse_datetime(text: str) -> dt.datetime:
    """An ISO 8601 date and time (as Strawberry reads it) whose moment in UTC (or, without an
    offset, whose own date and time) lies from MIN_DATE to MAX_DATE. The value keeps its offset."""
    value = dateutil.parser.isoparse(text)
    offset = value.utcoffset()
    try:
        moment = value.replace(tzinfo=None) - offset if offset is not None else value
    except OverflowError:  # before year 1 or after year 9999 in UTC
        moment = None
    if moment is None or not _FIRST <= moment <= _LAST:
        raise OutOfRange(f"Dates and times are {RANGE} (UTC).")
    return value


def parse_decimal(text: str) -> decimal.Decimal:
    """A decimal number as Strawberry reads it (NaN and infinities included: see the docstring)."""
    try:
        return decimal.Decimal(text)
    except decimal.DecimalException:
        raise ValueError('Expected a decimal number, e.g. "12.50".') from None


class ScalarHooks(NamedTuple):
    parse_value: Callable[[object], object]
    parse_literal: Callable[..., object]


def _checked(parse: Callable[[str], object], type_name: str, reason: str, *, numbers: bool = False) -> ScalarHooks:
    """A scalar's parse_value and parse_literal around `parse`: a value it refuses (or one of
    another kind: a number for a date) is a coercion error typed BAD_USER_INPUT with `reason`
    (OUT_OF_RANGE when `parse` says so). With `numbers`, a JSON or GraphQL number is read as
    its text, as Strawberry's Decimal does."""

    def refused(shown: str, detail: str, why: str, node: ValueNode | None) -> StrawberryInputCoercionError:
        return StrawberryInputCoercionError(
            f'Value cannot represent a {type_name}: "{shown}". {detail}',
            nodes=node,
            extensions={"code": "BAD_USER_INPUT", "reason": why},
        )

    def parse_text(text: str, node: ValueNode | None) -> object:
        try:
            return parse(text)
        except OutOfRange as error:
            raise refused(text, str(error), "OUT_OF_RANGE", node) from None
        except (ValueError, OverflowError, ArithmeticError) as error:
            raise refused(text, str(error), reason, node) from None

    def parse_value(value: object) -> object:
        if isinstance(value, str):
            return parse_text(value, None)
        if numbers and isinstance(value, (int, float)) and not isinstance(value, bool):
            return parse_text(str(value), None)
        raise refused(str(value), "Expected a string.", reason, None)

    def parse_literal(node: ValueNode, _variables: object = None) -> object:
        if isinstance(node, StringValueNode):
            return parse_text(node.value, node)
        if numbers and isinstance(node, (IntValueNode, FloatValueNode)):
            return parse_text(node.value, node)
        raise refused(print_ast(node), "Expected a string.", reason, node)

    return ScalarHooks(parse_value, parse_literal)


def _with(definition: ScalarDefinition, hooks: ScalarHooks) -> ScalarDefinition:
    """Strawberry's scalar, with the same name, description and output, parsed by `hooks`."""
    return dataclasses.replace(
        definition, parse_value=hooks.parse_value, parse_literal=hooks.parse_literal, implementation=None
    )


DATE = _with(DateDefinition, _checked(parse_date, "Date", "INVALID_DATE"))
DATE_TIME = _with(DateTimeDefinition, _checked(parse_datetime, "DateTime", "INVALID_DATETIME"))
DECIMAL = _with(DecimalDefinition, _checked(parse_decimal, "Decimal", "INVALID_NUMBER", numbers=True))

# StrawberryConfig(scalar_map=...): the Python types these scalars stand for.
SCALARS: Mapping[object, ScalarDefinition] = {dt.date: DATE, dt.datetime: DATE_TIME, decimal.Decimal: DECIMAL}
