"""A client's counters: HTTP attempts, errors by AWS code, and what the fan-out counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import attrs

from ._errors import ConnectMetricsError


@attrs.frozen
class ClientStats:
    """Counters of one client, read with `ConnectMetrics.stats`."""

    calls: int = 0
    pages: int = 0
    batches: int = 0
    restarts: int = 0
    retries: int = 0
    throttles: int = 0
    errors: Mapping[str, int] = attrs.field(factory=dict)


class Counters:
    """A client's counters: HTTP attempts and errors, and what the fan-out counts."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()

    def call(self, operation: str, error: ConnectMetricsError | None) -> None:
        """One HTTP attempt, and its error (by AWS code) if it failed."""
        self.counts["calls"] += 1
        if error is not None:
            self.errors[getattr(error, "code", type(error).__name__)] += 1

    def retry(self, operation: str, error: BaseException) -> None:
        """One retry."""
        self.counts["retries"] += 1

    def stats(self) -> ClientStats:
        """The counters so far."""
        counts = self.counts
        return ClientStats(
            calls=counts["calls"],
            pages=counts["pages"],
            batches=counts["batches"],
            restarts=counts["restarts"],
            retries=counts["retries"],
            throttles=self.errors["ThrottlingException"],
            errors=dict(self.errors),
        )
