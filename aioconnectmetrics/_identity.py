"""Who asks: stable, non-secret identities for a client's credentials.

Two identities, for two questions:

* The **account** (`CredentialIdentity.account`): whose quota a request spends. The
  limiter keys its buckets by it. A hash of the access key ID, which is not secret (AWS
  logs print it), and which every client of the key shares.
* The **tenant** (`CredentialIdentity.tenant`): who may read an answer. The cache keys its
  entries by it, so it must prove possession of the secret: a client that knows a key ID
  but not its secret must never be served what the key's owner fetched. It is an HMAC of
  the key ID and session token under the secret key: it changes with any of the three,
  and nothing about the secret can be recovered from it (it is as hard as guessing the
  40-character secret itself). The secret is never stored, logged or put in a key.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
from typing import Any

import attrs

ANONYMOUS = "anonymous"


@attrs.frozen
class CredentialIdentity:
    """The account a client's requests spend the quota of, and the tenant it reads as."""

    account: str
    tenant: str


async def credential_identity(client: Any) -> CredentialIdentity:
    """The identities of the client's credentials (``anonymous`` for both without any)."""
    # botocore keeps the signer's credentials here; aiobotocore's refresh asynchronously.
    credentials = getattr(getattr(client, "_request_signer", None), "_credentials", None)
    if credentials is None:
        return CredentialIdentity(ANONYMOUS, ANONYMOUS)
    frozen = credentials.get_frozen_credentials()
    if inspect.isawaitable(frozen):
        frozen = await frozen
    access_key = getattr(frozen, "access_key", None)
    if not access_key:
        return CredentialIdentity(ANONYMOUS, ANONYMOUS)
    secret = getattr(frozen, "secret_key", None) or ""
    token = getattr(frozen, "token", None) or ""
    account = hashlib.sha256(access_key.encode()).hexdigest()[:20]
    proof = hmac.new(secret.encode(), f"{access_key}\0{token}".encode(), hashlib.sha256)
    return CredentialIdentity(account, proof.hexdigest()[:32])
