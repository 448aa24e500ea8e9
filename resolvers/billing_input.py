"""Checking the numbers, dates and text that time, expense and invoice mutations receive.

Every check raises resolvers.errors.InputError naming the input field at fault, before
anything is written. Decimals are refused, never rounded, when they carry more places
than their column keeps: silently rounding money is a bug the caller cannot see.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, overload

from models.base import utcnow
from resolvers.errors import InputError

# Numeric(14, 2): the largest amount a money column holds.
MAX_MONEY = Decimal("999999999999.99")
# Dates a little ahead of today (UTC) are the caller's own time zone, not a mistake.
FUTURE_SLACK = dt.timedelta(days=1)


def decimal_input(
    field: str,
    value: Decimal,
    *,
    places: int = 2,
    minimum: Decimal = Decimal("0"),
    minimum_inclusive: bool = False,
    maximum: Decimal = MAX_MONEY,
    what: str = "amount",
) -> Decimal:
    """A finite Decimal within (minimum, maximum] (or [minimum, maximum]) with at most `places` places."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InputError(field, "INVALID_NUMBER", f"The {what} must be a number.")
    if value < minimum or (value == minimum and not minimum_inclusive):
        if minimum == 0 and not minimum_inclusive:
            raise InputError(field, "MUST_BE_POSITIVE", f"The {what} must be more than zero.")
        raise InputError(field, "TOO_SMALL", f"The {what} must be at least {minimum}.")
    if value > maximum:
        raise InputError(field, "TOO_LARGE", f"The {what} may be at most {maximum}.")
    exponent = value.as_tuple().exponent  # an int: only NaN and infinities have a letter here
    if isinstance(exponent, int) and -exponent > places and value != value.quantize(Decimal(1).scaleb(-places)):
        raise InputError(field, "TOO_MANY_DECIMAL_PLACES", f"The {what} has at most {places} decimal places.")
    return value.quantize(Decimal(1).scaleb(-places))


@overload
def text_input(field: str, value: str | None, *, max_length: int, required: Literal[True], what: str = ...) -> str: ...


@overload
def text_input(
    field: str, value: str | None, *, max_length: int, required: bool = False, what: str = ...
) -> str | None: ...


def text_input(
    field: str, value: str | None, *, max_length: int, required: bool = False, what: str = "text"
) -> str | None:
    """Stripped text, or None when blank and optional."""
    text = (value or "").strip()
    if not text:
        if required:
            raise InputError(field, "REQUIRED", f"The {what} is required.")
        return None
    if len(text) > max_length:
        raise InputError(field, "TOO_LONG", f"The {what} may be at most {max_length} characters.")
    return text


def today() -> dt.date:
    return utcnow().date()


def not_in_future(field: str, value: dt.date, what: str) -> dt.date:
    if value > today() + FUTURE_SLACK:
        raise InputError(field, "DATE_IN_FUTURE", f"The {what} may not be in the future.")
    return value
