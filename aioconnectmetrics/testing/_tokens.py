"""Pagination tokens: each chain one frozen result, served page by page.

A token is bound to its request's operation, instance and parameters, and lives
`TOKEN_LIFETIME_SECONDS`. A token that cannot be used, for whatever reason, gets one
answer (`TOKEN_REJECTED`). Tokens stay valid until they expire, so a retried page can
reuse its token.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

import attrs

from .._catalog import MAX_RESULTS, TOKEN_LIFETIME_SECONDS
from ._faults import TOKEN_REJECTED, invalid


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


#: What a token is bound to besides its parameters: (operation, instance ID).
Scope = tuple[str, str]


class Tokens:
    """The live tokens of one fake service, each bound to its (operation, instance)."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[Chain, int, float, Scope]] = {}

    def expire(self, now: float) -> None:
        """Forget tokens past their life (a later use gets `TOKEN_REJECTED`)."""
        for token, (_, _, issued, _) in list(self._tokens.items()):
            if now - issued >= TOKEN_LIFETIME_SECONDS:
                del self._tokens[token]

    def scoped(self, operation: str, instance_id: str) -> ScopedTokens:
        """The tokens as one request sees them: its operation's, on its instance."""
        return ScopedTokens(self, (operation, instance_id))

    def first_page(
        self, chain: Chain, params: Mapping[str, Any], now: float, scope: Scope
    ) -> dict[str, Any]:
        """The chain's first page, with a token for the next if there is more."""
        return self._serve(chain, 0, max_results(params, chain.page_limit), now, scope)

    def _serve(
        self, chain: Chain, offset: int, page_size: int, now: float, scope: Scope
    ) -> dict[str, Any]:
        end = offset + page_size
        body: dict[str, Any] = {**chain.extra, chain.results_key: chain.results[offset:end]}
        if end < len(chain.results):
            # Tokens stay valid until they expire, so a retried page can reuse its token.
            token = secrets.token_urlsafe(24)
            self._tokens[token] = (chain, end, now, scope)
            body["NextToken"] = token
        return body

    def next_page(
        self, token: str, params: Mapping[str, Any], now: float, scope: Scope
    ) -> dict[str, Any]:
        """The page `token` points at, if it is live and was issued for this very request."""
        entry = self._tokens.get(token)
        if entry is None or now - entry[2] >= TOKEN_LIFETIME_SECONDS:
            raise TOKEN_REJECTED
        chain, offset, _, issued_for = entry
        if issued_for != scope or chain.digest != digest(params):
            raise TOKEN_REJECTED
        return self._serve(chain, offset, max_results(params, chain.page_limit), now, scope)


@attrs.frozen
class ScopedTokens:
    """`Tokens` for one (operation, instance): what a handler issues and accepts."""

    tokens: Tokens
    scope: Scope

    def first_page(self, chain: Chain, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """The chain's first page (see `Tokens.first_page`)."""
        return self.tokens.first_page(chain, params, now, self.scope)

    def next_page(self, token: str, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """The page `token` points at (see `Tokens.next_page`)."""
        return self.tokens.next_page(token, params, now, self.scope)
