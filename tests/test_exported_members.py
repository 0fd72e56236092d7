"""The public surface: `__all__`, and everything a user needs is in it.

Sorted and complete; every error of the library's tree; every type that a public
signature of `ConnectMetrics` names; and what it takes to write a cache backend or a
limiter of one's own.
"""

from __future__ import annotations

import inspect
import types
import typing

import aioconnectmetrics
from aioconnectmetrics import ConnectMetrics, ConnectMetricsError


def test_public_names_are_complete_and_sorted() -> None:
    """__all__ is sorted and lists every public name the package defines."""
    exported = aioconnectmetrics.__all__
    assert exported == sorted(exported)
    # (pytest rewrites the package, which holds its plugin, and adds "@py_..." names)
    public = {
        name
        for name in dir(aioconnectmetrics)
        if not name.startswith(("_", "@"))
        and not isinstance(getattr(aioconnectmetrics, name), types.ModuleType)  # testing, redis
    }
    assert public == set(exported)


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_error_is_exported() -> None:
    """Every error the package defines is reachable from the package itself."""
    errors = {
        c for c in _subclasses(ConnectMetricsError) if c.__module__.startswith("aioconnectmetrics")
    }
    assert {c.__name__ for c in errors} <= set(aioconnectmetrics.__all__)
    assert {"ClientClosedError", "BackendUnavailableError", "ConfigurationError"} <= {
        c.__name__ for c in errors
    }


def test_public_signatures_name_only_exported_types() -> None:
    """Every class a public method of ConnectMetrics takes or returns is exported."""
    namespace = {**vars(aioconnectmetrics), **vars(typing)}
    named: set[str] = set()
    for name, member in inspect.getmembers(ConnectMetrics):
        if name.startswith("_") and name != "__init__":
            continue
        target = member.fget if isinstance(member, property) else member
        if not callable(target):
            continue
        module = inspect.getmodule(target)  # where it is defined: a base class's too
        assert module is not None
        hints = typing.get_type_hints(target, globalns={**vars(module), **namespace})
        for hint in hints.values():
            for arg in _flatten(hint):
                if isinstance(arg, type) and arg.__module__.startswith("aioconnectmetrics"):
                    named.add(arg.__name__)
    assert named, "no public signature was read"
    assert named <= set(aioconnectmetrics.__all__)
    assert {"CachePolicy", "MetricsResult", "MetricsPage", "QueueInfo", "ConnectClient"} <= named


def _flatten(hint: object) -> list[object]:
    """A hint and every type inside it (Callable's argument list included)."""
    found = [hint]
    for arg in hint if isinstance(hint, list) else typing.get_args(hint):
        found += _flatten(arg)
    return found


def test_what_a_backend_or_a_limiter_needs_is_exported() -> None:
    """What it takes to write a cache backend, or a limiter, of one's own is exported.

    A backend stores `CacheEntry`s (of `Answer`s of `Row`s), as JSON if shared; a limiter
    hands out buckets that give `Grant`s.
    """
    for name in (
        "CacheBackend",
        "CacheEntry",
        "Answer",
        "Row",
        "entry_to_json",
        "entry_from_json",
        "Limiter",
        "Bucket",
        "BucketStats",
        "Grant",
        "QuotaModel",
    ):
        assert name in aioconnectmetrics.__all__, name
    # The protocols are protocols a user's class satisfies structurally.
    assert getattr(aioconnectmetrics.CacheBackend, "_is_protocol", False)
    assert getattr(aioconnectmetrics.Bucket, "_is_protocol", False)
    assert getattr(aioconnectmetrics.Limiter, "_is_protocol", False)
