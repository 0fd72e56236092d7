"""Who asks: whose quota a client spends, and who may read what it fetched.

Two identities, for two questions:

* The **account** (`CredentialIdentity.account`): whose quota a request spends. The
  quota belongs to the AWS account (per region and operation): every key of the account,
  every role session of every replica, draws on the same one. The limiter keys its
  buckets by it. It comes from STS ``GetCallerIdentity`` (which every principal may call,
  with no IAM permission), asked once per set of credentials and remembered; or it is
  given (``ConnectMetrics(account_id=...)``) where STS cannot be reached.
* The **tenant** (`CredentialIdentity.tenant`): who may read an answer. The cache keys
  its entries by it. When STS answered the caller's own signed request, the credentials
  have proved themselves, and the tenant is their principal: the role (the assumed-role
  ARN without its session name), or the IAM user. That is the same for every replica
  and every rotation, and one principal has one set of permissions, so whatever one of
  its sessions fetched, any other of its sessions could fetch. Without that proof (STS
  unreachable, or the account given), the tenant is an HMAC of the key ID and session
  token under the secret, as before: a client that knows a key ID but not its secret is
  never served what the key's owner fetched, and nothing about the secret can be
  recovered from it. The secret is never stored, logged or put in a key.

Credentials that STS refuses (a wrong secret, an expired token) are a
`ConfigurationError` when the client opens: nothing would work with them anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import attrs
import botocore.exceptions
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

from ._errors import ConfigurationError
from ._transport import new_session

logger = logging.getLogger("aioconnectmetrics.identity")  # by concern: docs/observability.md

ANONYMOUS = "anonymous"
#: STS error codes that mean "these credentials are not valid" (not "STS is not here").
REFUSED = frozenset(
    {
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "ExpiredToken",
        "ExpiredTokenException",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
        "AccessDenied",
    }
)
#: Hosts of AWS's own endpoints: a client pointed elsewhere (a fake, a proxy, LocalStack)
#: has STS asked at its own URL, since such servers answer every service at one URL.
_AWS_HOSTS = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


@attrs.frozen
class CredentialIdentity:
    """The account a client's requests spend the quota of, and the tenant it reads as.

    `principal` is the proven principal (role or user ARN), or None when the tenant is
    the HMAC of the key instead (no proof from STS).
    """

    account: str
    tenant: str
    principal: str | None = None


@attrs.frozen
class Keys:
    """A set of credentials, frozen: the key ID, the secret and the session token."""

    access_key: str
    secret_key: str = attrs.field(repr=False)
    token: str | None = attrs.field(default=None, repr=False)

    def proof(self) -> str:
        """An HMAC of the key ID and token under the secret: who knows the secret."""
        mac = hmac.new(
            self.secret_key.encode(), f"{self.access_key}\0{self.token or ''}".encode(), "sha256"
        )
        return mac.hexdigest()[:32]


AnonymousIdentity = CredentialIdentity(ANONYMOUS, ANONYMOUS)
#: Identities proven by STS in this process: (STS endpoint, region, key, proof) -> answer.
_PROVEN: dict[tuple[str | None, str, str, str], CredentialIdentity] = {}


def principal_of(arn: str) -> str:
    """The principal that stays the same across sessions.

    An assumed role's ARN without its session name (``arn:aws:sts::1:assumed-role/Role``);
    any other ARN (a user, a federated user, the root) as it is.
    """
    head, _, resource = arn.partition(":assumed-role/")
    if resource:
        role = resource.split("/", 1)[0]
        return f"{head}:assumed-role/{role}"
    return arn


def tenant_of(principal: str) -> str:
    """The cache tenant of a proven principal: a short hash of it (keys stay short)."""
    return "p-" + hashlib.sha256(principal.encode()).hexdigest()[:30]


def key_identity(keys: Keys) -> CredentialIdentity:
    """The identity of unproven keys: the key's hash as account, its HMAC as tenant."""
    return CredentialIdentity(
        hashlib.sha256(keys.access_key.encode()).hexdigest()[:20], keys.proof()
    )


async def _frozen(credentials: Any) -> Keys | None:
    if credentials is None:
        return None
    frozen = credentials.get_frozen_credentials()
    if inspect.isawaitable(frozen):
        frozen = await frozen
    access_key = getattr(frozen, "access_key", None)
    if not access_key:
        return None
    return Keys(
        access_key, getattr(frozen, "secret_key", None) or "", getattr(frozen, "token", None)
    )


async def keys_of(
    client: Any, *, session: AioSession | None = None, given: Keys | None = None
) -> Keys | None:
    """The credentials a client signs with, frozen now.

    For a client we created, from what it was created with: the keys given, else the
    session's credentials (aiobotocore's session hands the client the same object). A
    borrowed client has no public way to tell: its request signer's credentials are
    read (a botocore private attribute).
    """
    if given is not None:
        return given
    if session is not None:
        return await _frozen(await session.get_credentials())
    return await _frozen(getattr(getattr(client, "_request_signer", None), "_credentials", None))


def sts_endpoint(endpoint_url: str | None) -> str | None:
    """Where to ask STS: a non-AWS endpoint's own URL, else None (botocore's default)."""
    if not endpoint_url:
        return None
    host = urlsplit(endpoint_url).hostname or ""
    return None if host.endswith(_AWS_HOSTS) else endpoint_url


async def ask_sts(
    keys: Keys, *, region: str, endpoint_url: str | None, verify: bool | str | None
) -> dict[str, Any]:
    """STS ``GetCallerIdentity``, signed with `keys`: its answer."""
    kwargs: dict[str, Any] = {"region_name": region, "endpoint_url": endpoint_url}
    if verify is not None:
        kwargs["verify"] = verify
    config = AioConfig(retries={"total_max_attempts": 3}, connect_timeout=5, read_timeout=10)
    async with new_session().create_client(
        "sts",
        aws_access_key_id=keys.access_key,
        aws_secret_access_key=keys.secret_key,
        aws_session_token=keys.token,
        config=config,
        **{k: v for k, v in kwargs.items() if v is not None},
    ) as sts:
        answer: dict[str, Any] = await sts.get_caller_identity()
        return answer


async def credential_identity(
    client: Any,
    *,
    session: AioSession | None = None,
    given: Keys | None = None,
    verify: bool | str | None = None,
    account_id: str | None = None,
    ask: Callable[..., Awaitable[dict[str, Any]]] = ask_sts,
) -> CredentialIdentity:
    """Whose quota `client` spends and whose cache it reads (see the module docstring).

    `session`/`given`: how a client we created got its credentials; `verify` as it was
    given; `account_id`: the account, when given (no STS asked, the tenant unproven).
    """
    keys = await keys_of(client, session=session, given=given)
    if keys is None:
        return AnonymousIdentity
    if account_id is not None:
        return CredentialIdentity(account_id, keys.proof())
    region = str(getattr(getattr(client, "meta", None), "region_name", None) or "us-east-1")
    endpoint = sts_endpoint(getattr(getattr(client, "meta", None), "endpoint_url", None))
    remembered = (endpoint, region, keys.access_key, keys.proof())
    known = _PROVEN.get(remembered)
    if known is not None:
        return known
    try:
        answer = await ask(keys, region=region, endpoint_url=endpoint, verify=verify)
    except botocore.exceptions.ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in REFUSED:
            raise ConfigurationError(
                f"the credentials of key {keys.access_key} were refused by STS "
                f"GetCallerIdentity ({code}): check the secret key and session token"
            ) from None
        return _unproven(keys, f"STS answered {code or exc}")
    except (botocore.exceptions.BotoCoreError, OSError) as exc:
        return _unproven(keys, f"STS could not be reached ({type(exc).__name__})")
    account, arn = str(answer.get("Account") or ""), str(answer.get("Arn") or "")
    if not account or not arn:
        return _unproven(keys, "STS's answer named no account")
    principal = principal_of(arn)
    identity = CredentialIdentity(account, tenant_of(principal), principal)
    _PROVEN[remembered] = identity
    return identity


def _unproven(keys: Keys, why: str) -> CredentialIdentity:
    logger.warning(
        "%s: quota and cache are scoped to key %s alone (replicas with other keys of the "
        "same account share neither); give ConnectMetrics(account_id=...) to share the "
        "account's quota",
        why,
        keys.access_key,
    )
    return key_identity(keys)


def forget_proven() -> None:
    """Forget the identities STS proved in this process (for tests)."""
    _PROVEN.clear()
