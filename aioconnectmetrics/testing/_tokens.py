"""Pagination tokens: each chain one frozen result, served page by page.

A token is bound to its request's parameters and lives `TOKEN_LIFETIME_SECONDS`; an
expired one says so (a tombstone is kept for a while), a forged or foreign one is
invalid. Tokens stay valid until they expire, so a retried page can reuse its token.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

import attrs

from .._catalog import MAX_RESULTS, TOKEN_LIFETIME_SECONDS
from ._faults import ServiceError, invalid


@attrs.define
class Chain:
    """A pagination token chain: one frozen result, served page by page."""

    digest: str
    results: list[dict[str, Any]]
    extra: dict[str, Any]
    results_key: str = "MetricResults"
    page_limit: int = MAX_RESULTS


def digest(params: Mapping[str, Any]) -> str:
    """What a token is bound to: the request's parameters but the token."""
    stable = {k: v for k, v in params.items() if k != "NextToken"}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()


def max_results(params: Mapping[str, Any], upper: int) -> int:
    """The request's page size, 1 to `upper` (100 by default)."""
    value = params.get("MaxResults", MAX_RESULTS)
    if not isinstance(value, int) or not 1 <= value <= upper:
        raise invalid(f"MaxResults must be between 1 and {upper}, got {value!r}")
    return value


class Tokens:
    """The live tokens of one fake service."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[Chain | None, int, float]] = {}

    def expire(self, now: float) -> None:
        """Forget old tokens; keep a tombstone of recently expired ones."""
        for token, (chain, offset, issued) in list(self._tokens.items()):
            age = now - issued
            if age >= 12 * TOKEN_LIFETIME_SECONDS:
                del self._tokens[token]
            elif chain is not None and age >= TOKEN_LIFETIME_SECONDS:
                # Keep a tombstone for a while: an expired token says "expired", not "invalid".
                self._tokens[token] = (None, offset, issued)

    def first_page(self, chain: Chain, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """The chain's first page, with a token for the next if there is more."""
        return self._serve(chain, 0, max_results(params, chain.page_limit), now)

    def _serve(self, chain: Chain, offset: int, page_size: int, now: float) -> dict[str, Any]:
        end = offset + page_size
        body: dict[str, Any] = {**chain.extra, chain.results_key: chain.results[offset:end]}
        if end < len(chain.results):
            # Tokens stay valid until they expire, so a retried page can reuse its token.
            token = secrets.token_urlsafe(24)
            self._tokens[token] = (chain, end, now)
            body["NextToken"] = token
        return body

    def next_page(self, token: str, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """The page `token` points at, if it is live and `params` match its request."""
        if token not in self._tokens:
            raise invalid("The NextToken is not valid")
        chain, offset, _ = self._tokens[token]
        if chain is None:
            raise ServiceError(400, "InvalidRequestException", "The NextToken has expired")
        if chain.digest != digest(params):
            raise invalid("The request parameters must match the request that issued NextToken")
        return self._serve(chain, offset, max_results(params, chain.page_limit), now)
