"""Plain value checks, at the bottom of the package: a value in, the value or a clear error.

Each check names the field it was given and says what is allowed, so configuration
(`CachePolicy`, `RetryPolicy`, the limiters) and requests fail alike, before anything
runs. attrs validators built on them are here too.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any, Literal

import attrs

from ._errors import InvalidRequestError, InvalidSettingError


def check_count(field: str, value: object, *, minimum: int) -> int:
    """A whole number (not a bool) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidRequestError(field, value, f"a whole number >= {minimum}")
    return value


def check_positive(field: str, value: object) -> float:
    """A finite number (not a bool) greater than zero."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(field, value, "a positive number")
    if not 0 < value < math.inf:
        raise InvalidRequestError(field, value, "a positive number")
    return float(value)


def check_non_negative(field: str, value: object, allowed: str = "finite seconds >= 0") -> float:
    """A finite number (not a bool) of zero or more; NaN and infinity are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(field, value, allowed)
    if not 0 <= value < math.inf:  # NaN fails this too
        raise InvalidRequestError(field, value, allowed)
    return float(value)


def check_fraction(field: str, value: object) -> float:
    """A number (not a bool) from 0 up to, not including, 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise InvalidRequestError(field, value, "a fraction, at least 0 and below 1")
    return float(value)


def check_flag(field: str, value: object) -> bool:
    """Only a real bool: "no" is truthy, and would mean yes."""
    if not isinstance(value, bool):
        raise InvalidRequestError(field, value, "True or False")
    return value


def check_strings(field: str, value: object) -> list[str]:
    """A list (any iterable but a string or a mapping) of strings."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise InvalidRequestError(field, value, "expected a list of strings")
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise InvalidRequestError(field, item, "every item must be a string")
    return items


def check_choices(
    field: str, value: object, allowed: tuple[str, ...], what: str
) -> tuple[str, ...] | None:
    """None, or one or more of `allowed` (named `what`, such as "channels"), each once."""
    if value is None:
        return None
    items = check_strings(field, value)
    for item in items:
        if item not in allowed:
            raise InvalidRequestError(field, item, f"allowed {what}: {', '.join(allowed)}")
    if not items or len(set(items)) != len(items):
        raise InvalidRequestError(field, items, f"give each of the {what} once, at least one")
    return tuple(items)


@contextlib.contextmanager
def settings_checked() -> Iterator[None]:
    """Checks of a constructor's settings: what they refuse is an `InvalidSettingError`.

    The checks above serve requests and settings alike; a refused setting is a
    configuration error (the object cannot be built), not a bad request.
    """
    try:
        yield
    except InvalidRequestError as exc:
        raise InvalidSettingError(exc.field, exc.value, exc.allowed) from None


# -- options of a call ---------------------------------------------------------------------
CacheMode = Literal["use", "refresh", "bypass"]
CACHE_MODES: tuple[CacheMode, ...] = ("use", "refresh", "bypass")


def check_cache_mode(mode: object) -> CacheMode:
    """One of "use", "refresh", "bypass"."""
    for known in CACHE_MODES:
        if mode == known:
            return known
    raise InvalidRequestError("cache", mode, "one of 'use', 'refresh', 'bypass'")


def check_partial(value: object) -> bool:
    """Only a real bool: "no" is truthy, and would mean yes."""
    return check_flag("partial", value)


def check_account_id(value: object) -> str | None:
    """An AWS account ID: 12 digits, or None (STS tells it)."""
    if value is None or (isinstance(value, str) and len(value) == 12 and value.isdigit()):
        return value
    raise InvalidSettingError("account_id", value, "an AWS account ID (12 digits), or None")


def check_verify(value: object) -> bool | str | None:
    """`verify`: None (botocore's default), a bool, or the path of a CA bundle."""
    if value is None or isinstance(value, bool) or (isinstance(value, str) and value):
        return value
    raise InvalidSettingError("verify", value, "True, False, or the path of a CA bundle")


def check_spread(value: object) -> float | None:
    """`max_spread` in seconds (a timedelta, or a number), or None."""
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    # NaN would switch the bound off: refused with infinity and negatives.
    return check_non_negative("max_spread", seconds, "finite seconds (or a timedelta) >= 0")


# -- attrs validators of settings: None is allowed where the field says so ----------------
def positive_or_none(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A positive number, or None."""
    if value is not None:
        with settings_checked():
            check_positive(attribute.name, value)


def positive_zero_or_none(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A positive number, 0, or None."""
    if value is not None and value != 0:
        with settings_checked():
            check_positive(attribute.name, value)


def fraction_or_none(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A fraction in [0, 1), or None."""
    if value is not None:
        with settings_checked():
            check_fraction(attribute.name, value)
