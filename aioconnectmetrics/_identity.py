"""Who asks: a stable, non-secret identity for a client's credentials.

The limiter keys its buckets by it (one account's quota), and the cache keys its
entries by it (two tenants never share an entry). It is a hash of the access key ID:
never the secret, and not the key ID itself, so it is safe in logs and cache keys.
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

ANONYMOUS = "anonymous"


async def credential_identity(client: Any) -> str:
    """A short hash of the client's access key ID (``anonymous`` without credentials)."""
    # botocore keeps the signer's credentials here; aiobotocore's refresh asynchronously.
    credentials = getattr(getattr(client, "_request_signer", None), "_credentials", None)
    if credentials is None:
        return ANONYMOUS
    frozen = credentials.get_frozen_credentials()
    if inspect.isawaitable(frozen):
        frozen = await frozen
    access_key = getattr(frozen, "access_key", None)
    if not access_key:
        return ANONYMOUS
    return hashlib.sha256(access_key.encode()).hexdigest()[:20]
