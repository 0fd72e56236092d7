"""Accounts and principals for the fake: several keys, one account, as AWS has them.

The quota belongs to the account, and a cache may be shared by a principal that stays
the same across keys (a role, whatever its sessions; a user, whatever its keys). So the
fake groups keys: `FakeConnect.add_account` makes an account, `user_credentials` and
`role_credentials` make keys in it, and the fake's quota buckets, its other callers and
its STS ``GetCallerIdentity`` answer by account and principal.

A key the fake did not make is an account of its own (the fake's behaviour before keys
were grouped, which keeps a test that invents a key working), and STS answers it as
moto does, unverified: only the fake's own keys have a secret it can check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, quote

import attrs


@attrs.frozen
class FakeCredentials:
    """A key the fake made: an IAM user's, or a role session's (with a session token).

    `as_kwargs()` gives what `ConnectMetrics` and boto3 take.
    """

    access_key: str
    secret_key: str = attrs.field(repr=False)
    token: str | None = attrs.field(repr=False)
    account: str
    arn: str
    user_id: str

    def as_kwargs(self) -> dict[str, Any]:
        """``aws_access_key_id``, ``aws_secret_access_key`` and ``aws_session_token``."""
        return {
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "aws_session_token": self.token,
        }


def dummy_keys(access_key: str) -> dict[str, Any]:
    """Keys the fake did not make: `access_key` (an account of its own) and any secret."""
    return {
        "aws_access_key_id": access_key,
        "aws_secret_access_key": "testing-secret",
    }


class Accounts:
    """The fake's accounts and the keys in them (thread-safe: the server's threads read)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: set[str] = set()
        self._keys: dict[str, FakeCredentials] = {}
        self._serial = 0

    def add(self, account_id: str | None = None) -> str:
        """A new account (12 digits, made up unless given)."""
        with self._lock:
            if account_id is None:
                self._serial += 1
                account_id = f"{200000000000 + self._serial:012d}"
            if len(account_id) != 12 or not account_id.isdigit():
                raise ValueError(f"account_id: {account_id!r} is not 12 digits")
            self._accounts.add(account_id)
            return account_id

    def _new_key(
        self, prefix: str, account: str, arn: str, user_id: str, token: bool
    ) -> FakeCredentials:
        with self._lock:
            if account not in self._accounts:
                raise ValueError(f"account {account!r} does not exist: add_account() first")
            access_key = prefix + secrets.token_hex(8).upper()
            credentials = FakeCredentials(
                access_key=access_key,
                secret_key=secrets.token_urlsafe(30),
                token=secrets.token_urlsafe(48) if token else None,
                account=account,
                arn=arn,
                user_id=user_id,
            )
            self._keys[access_key] = credentials
            return credentials

    def user(self, account: str, user_name: str) -> FakeCredentials:
        """A new access key of IAM user `user_name` in `account`."""
        user_id = (
            "AIDA" + hashlib.sha256(f"{account}/{user_name}".encode()).hexdigest()[:16].upper()
        )
        arn = f"arn:aws:iam::{account}:user/{user_name}"
        return self._new_key("AKIA", account, arn, user_id, token=False)

    def role_session(self, account: str, role_name: str, session_name: str) -> FakeCredentials:
        """New temporary credentials of role `role_name` in `account` (an AssumeRole)."""
        role_id = (
            "AROA" + hashlib.sha256(f"{account}/{role_name}".encode()).hexdigest()[:16].upper()
        )
        arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"
        return self._new_key("ASIA", account, arn, f"{role_id}:{session_name}", token=True)

    def get(self, access_key: str) -> FakeCredentials | None:
        """The key the fake made, or None."""
        with self._lock:
            return self._keys.get(access_key)

    def account_of(self, access_key: str) -> str:
        """Whose quota a key spends: its account, or (a key the fake did not make) itself."""
        known = self.get(access_key)
        return known.account if known is not None else access_key


def signature_matches(credentials: FakeCredentials, request: Any) -> bool:
    """Whether `request` is signed (SigV4) with `credentials`' secret and session token.

    Recomputes the signature from the request's own signed headers, date and scope.
    """
    authorization = request.headers.get("Authorization", "")
    try:
        algorithm, rest = authorization.split(" ", 1)
        fields = dict(part.strip().split("=", 1) for part in rest.split(","))
        scope = fields["Credential"].split("/", 1)[1]
        signed_headers = fields["SignedHeaders"]
        signature = fields["Signature"]
    except (ValueError, KeyError):
        return False
    if algorithm != "AWS4-HMAC-SHA256":
        return False
    if (
        credentials.token is not None
        and request.headers.get("X-Amz-Security-Token") != credentials.token
    ):
        return False
    date, region, service, _ = scope.split("/")
    names = signed_headers.split(";")
    canonical_headers = "".join(
        f"{name}:{' '.join((request.headers.get(name) or '').split())}\n" for name in names
    )
    body = request.get_data() or b""
    query = "&".join(
        sorted(
            f"{_quote(k)}={_quote(v)}"
            for k, values in parse_qs(
                request.query_string.decode(), keep_blank_values=True
            ).items()
            for v in values
        )
    )
    canonical = "\n".join(
        [
            request.method,
            _quote(request.path, safe="/~"),
            query,
            canonical_headers,
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    amz_date = request.headers.get("X-Amz-Date", "")
    to_sign = "\n".join(
        [algorithm, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{credentials.secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _quote(value: str, safe: str = "-_.~") -> str:
    return quote(value, safe=safe)


def caller_identity_xml(credentials: Mapping[str, str], request_id: str) -> str:
    """STS's GetCallerIdentity answer (query protocol, XML)."""
    return (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<GetCallerIdentityResult>"
        f"<Arn>{credentials['arn']}</Arn><UserId>{credentials['user_id']}</UserId>"
        f"<Account>{credentials['account']}</Account>"
        "</GetCallerIdentityResult>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )


def sts_error_xml(code: str, message: str, request_id: str) -> str:
    """An STS error (query protocol, XML)."""
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
