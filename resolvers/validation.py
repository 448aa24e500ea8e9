"""Checking what a mutation was given, before anything is written: text, e-mail and web
addresses, money, hours and other decimals, dates and times, team members.

Every check raises resolvers.errors.InputError naming the input field at fault, so a mutation
fails whole with a typed error and writes nothing. Decimals are refused, never rounded, when
they carry more places than their column keeps: silently rounding money is a bug the caller
cannot see. Every decimal is checked in the same order: a number at all (NaN, sNaN and the
infinities are not, and comparing them raises), its sign, its maximum, then its places: the
maximum before any rounding, since rounding a 60-digit or `1e308` value to cents fails.
The maxima: MAX_MONEY for money, MAX_ESTIMATE_HOURS for task estimates, and what the callers
of decimal_input pass (24 hours a time entry, MAX_QUANTITY an invoice line, 1 a tax rate).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Literal, overload

from models import User
from models.base import utcnow
from models.enums import STAFF_ROLES
from resolvers.errors import InputError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Numeric(14, 2): the largest amount a money column holds (twelve digits before the point).
MAX_MONEY = Decimal("999999999999.99")
# Numeric(8, 2): the largest task estimate, in hours.
MAX_ESTIMATE_HOURS = Decimal("999999.99")
CENT = Decimal("0.01")
# Dates a little ahead of today (UTC) are the caller's own time zone, not a mistake.
FUTURE_SLACK = dt.timedelta(days=1)
# Timestamps a few minutes ahead are another clock, not a mistake.
CLOCK_SLACK = dt.timedelta(minutes=5)


def required_text(field: str, value: str | None, max_length: int) -> str:
    """A required text: present, not blank, at most max_length characters (stored trimmed)."""
    if value is None or not value.strip():
        raise InputError(field, "REQUIRED", f"{_label(field)} is required.")
    return _bounded(field, value.strip(), max_length)


def optional_text(field: str, value: str | None, max_length: int) -> str | None:
    """An optional text: blank means none."""
    if value is None or not value.strip():
        return None
    return _bounded(field, value.strip(), max_length)


def _bounded(field: str, value: str, max_length: int) -> str:
    if len(value) > max_length:
        raise InputError(field, "TOO_LONG", f"{_label(field)} may have at most {max_length} characters.")
    return value


def optional_email(field: str, value: str | None) -> str | None:
    text = optional_text(field, value, 254)
    if text is not None and not EMAIL.match(text):
        raise InputError(field, "INVALID_EMAIL", f"{text!r} is not an e-mail address.")
    return text.lower() if text is not None else None


def optional_url(field: str, value: str | None, max_length: int = 500) -> str | None:
    text = optional_text(field, value, max_length)
    if text is not None and not re.match(r"^https?://[^\s/]+\.[^\s]+$", text):
        raise InputError(field, "INVALID_URL", f"{_label(field)} must be an http(s) address.")
    return text


def amount(field: str, value: Decimal | None, *, allow_zero: bool = True) -> Decimal | None:
    """A money amount: finite, not negative (nor zero unless allowed), at most MAX_MONEY, at most
    two decimal places. The size is checked before anything rounds it: rounding a 60-digit or
    `1e308` amount to cents fails (the result has more digits than decimal arithmetic keeps)."""
    if value is None:
        return None
    value = _finite(field, value, "INVALID_AMOUNT", f"{_label(field)} is not an amount.")
    if value < 0 or (value == 0 and not allow_zero):
        raise InputError(
            field,
            "NEGATIVE_AMOUNT" if value < 0 else "ZERO_AMOUNT",
            f"{_label(field)} must be {'zero or more' if allow_zero else 'more than zero'}.",
        )
    if value > MAX_MONEY:
        raise InputError(field, "TOO_LARGE", f"{_label(field)} may be at most {MAX_MONEY}.")
    if value != value.quantize(CENT):
        raise InputError(field, "INVALID_AMOUNT", f"{_label(field)} has at most two decimal places.")
    return _unsigned_zero(value.quantize(CENT))


def hours(field: str, value: Decimal | None) -> Decimal | None:
    """An estimate in hours: finite, zero or more, at most MAX_ESTIMATE_HOURS, at most two decimal
    places (size first, as for amounts)."""
    if value is None:
        return None
    value = _finite(field, value, "INVALID_AMOUNT", f"{_label(field)} is not a number of hours.")
    if value < 0:
        raise InputError(field, "NEGATIVE_AMOUNT", f"{_label(field)} must be zero or more.")
    if value > MAX_ESTIMATE_HOURS:
        raise InputError(field, "TOO_LARGE", f"{_label(field)} may be at most {MAX_ESTIMATE_HOURS}.")
    if value != value.quantize(CENT):
        raise InputError(field, "INVALID_AMOUNT", f"{_label(field)} has at most two decimal places.")
    return _unsigned_zero(value)


def _unsigned_zero(value: Decimal) -> Decimal:
    """`-0` (and `-0.00`) as plain zero: the stores would keep or drop the sign differently."""
    return value.copy_abs() if value.is_zero() else value


def _finite(field: str, value: object, code: str, message: str) -> Decimal:
    """`value` as a finite Decimal: NaN, sNaN and the infinities (which the Decimal scalar parses)
    are refused here, before a comparison raises on them."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError) as error:
        raise InputError(field, code, message) from error
    if not number.is_finite():
        raise InputError(field, code, message)
    return number


def date_range(start: dt.date | None, end: dt.date | None, *, end_field: str = "input.endDate") -> None:
    if start is not None and end is not None and end < start:
        raise InputError(end_field, "END_BEFORE_START", "The end date is before the start date.")


def aware(field: str, value: dt.datetime) -> dt.datetime:
    """A timestamp with its offset, in UTC: a naive one is ambiguous and refused, and so is one
    that has no UTC moment Python can hold (the DateTime scalar keeps inputs well inside that)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(field, "INVALID_DATETIME", f"{_label(field)} needs a time zone offset (e.g. Z).")
    try:
        return value.astimezone(dt.UTC)
    except OverflowError as error:
        raise InputError(field, "INVALID_DATETIME", f"{_label(field)} is out of range.") from error


def today() -> dt.date:
    return utcnow().date()


@overload
def not_in_future(field: str, value: dt.datetime, what: str | None = None) -> dt.datetime: ...


@overload
def not_in_future(field: str, value: dt.date, what: str | None = None) -> dt.date: ...


def not_in_future(field: str, value: dt.date | dt.datetime, what: str | None = None) -> dt.date | dt.datetime:
    """A moment or a day that has already come. A timestamp must carry its offset and may be a few
    minutes ahead (clocks differ); a date may be a day ahead of UTC (the caller's own time zone)."""
    label = f"The {what}" if what else _label(field)
    if isinstance(value, dt.datetime):
        value = aware(field, value)
        late = value > utcnow() + CLOCK_SLACK
    else:
        late = value > today() + FUTURE_SLACK
    if late:
        raise InputError(field, "IN_FUTURE", f"{label} cannot be in the future.")
    return value


def staff_member(field: str, user: User | None) -> User:
    """An assignee, account manager or owner: an active member of the team."""
    if user is None or not user.is_active or user.role not in STAFF_ROLES:
        raise InputError(field, "NOT_STAFF", "That is not an active member of the team.")
    return user


def _label(field: str) -> str:
    name = field.rsplit(".", 1)[-1]
    name = re.sub(r"\[\d+\]", "", name)
    spaced = re.sub(r"(?<!^)([A-Z])", r" \1", name).lower()
    return spaced[:1].upper() + spaced[1:]


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
    return _unsigned_zero(value.quantize(Decimal(1).scaleb(-places)))


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
