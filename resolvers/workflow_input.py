"""Checking what a client-workflow mutation was given, before anything is written.

Each check raises resolvers.errors.InputError naming the input field at fault, so a
mutation fails whole with a typed error and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from models import User
from models.base import utcnow
from models.enums import STAFF_ROLES
from resolvers.errors import InputError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Numeric(14, 2): twelve digits before the point.
MAX_MONEY = Decimal("999999999999.99")


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
    """A money amount: not negative (nor zero unless allowed), at most two decimal places."""
    if value is None:
        return None
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise InputError(field, "INVALID_AMOUNT", f"{_label(field)} is not an amount.") from error
    if not value.is_finite():
        raise InputError(field, "INVALID_AMOUNT", f"{_label(field)} is not an amount.")
    if value < 0 or (value == 0 and not allow_zero):
        raise InputError(
            field,
            "NEGATIVE_AMOUNT" if value < 0 else "ZERO_AMOUNT",
            f"{_label(field)} must be {'zero or more' if allow_zero else 'more than zero'}.",
        )
    if value != value.quantize(Decimal("0.01")):
        raise InputError(field, "INVALID_AMOUNT", f"{_label(field)} has at most two decimal places.")
    if value > MAX_MONEY:
        raise InputError(field, "TOO_LARGE", f"{_label(field)} is too large.")
    return value.quantize(Decimal("0.01"))


def hours(field: str, value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    if value < 0:
        raise InputError(field, "NEGATIVE_AMOUNT", f"{_label(field)} must be zero or more.")
    if value > Decimal("999999.99") or value != value.quantize(Decimal("0.01")):
        raise InputError(field, "INVALID_AMOUNT", f"{_label(field)} has at most two decimal places and six digits.")
    return value


def date_range(start: dt.date | None, end: dt.date | None, *, end_field: str = "input.endDate") -> None:
    if start is not None and end is not None and end < start:
        raise InputError(end_field, "END_BEFORE_START", "The end date is before the start date.")


def aware(field: str, value: dt.datetime) -> dt.datetime:
    """A timestamp with its offset, in UTC: a naive one is ambiguous and refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(field, "INVALID_DATETIME", f"{_label(field)} needs a time zone offset (e.g. Z).")
    return value.astimezone(dt.UTC)


def not_in_future(field: str, value: dt.datetime, leeway: dt.timedelta = dt.timedelta(minutes=5)) -> dt.datetime:
    value = aware(field, value)
    if value > utcnow() + leeway:
        raise InputError(field, "IN_FUTURE", f"{_label(field)} cannot be in the future.")
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
