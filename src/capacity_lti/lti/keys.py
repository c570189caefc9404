"""The tool's RSA keys: generation, the public JWKS, and a key ring that parses each PEM once.

Parsing a PEM private key costs tens of milliseconds, so a :class:`KeyRing` loads
each key when it is built and signs with the loaded object from then on.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from capacity_lti.errors import ConfigError


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_jwk(public_key: rsa.RSAPublicKey) -> dict[str, str]:
    """The RFC 7517 JWK of an RSA public key, with its RFC 7638 thumbprint as `kid`."""
    numbers = public_key.public_numbers()
    members = {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    return {**members, "kid": kid, "alg": "RS256", "use": "sig"}


@dataclass(frozen=True)
class KeyMaterial:
    """A stored key: PEM private key, public JWK, when it was made and retired."""

    kid: str
    private_pem: str
    public_jwk: dict[str, str]
    created_at: datetime
    retired_at: datetime | None = None


def generate_key(now: datetime) -> KeyMaterial:
    """A new 2048-bit RSA key for RS256."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    jwk = public_jwk(private.public_key())
    return KeyMaterial(kid=jwk["kid"], private_pem=pem, public_jwk=jwk, created_at=now)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey


class KeyRing:
    """The active signing key (parsed once) and every key still published in the JWKS.

    `reuse`: an already parsed key, taken instead of parsing the PEM when it is still the
    newest. `expires_at`: when the next retired key leaves the JWKS (None: none will).
    """

    def __init__(
        self,
        keys: Sequence[KeyMaterial],
        now: datetime,
        retention: timedelta,
        *,
        reuse: SigningKey | None = None,
    ) -> None:
        active = [k for k in keys if k.retired_at is None]
        if not active:
            raise ConfigError("the tool has no active key: run 'capacity-lti keys rotate'")
        newest = max(active, key=lambda k: k.created_at)
        if reuse is not None and reuse.kid == newest.kid:
            self.signing = reuse
        else:
            loaded = serialization.load_pem_private_key(newest.private_pem.encode(), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise ConfigError(f"tool key {newest.kid} is not an RSA key")
            self.signing = SigningKey(newest.kid, loaded)
        self.published = [k for k in keys if k.retired_at is None or k.retired_at + retention > now]
        ends = [k.retired_at + retention for k in self.published if k.retired_at is not None]
        self.expires_at = min(ends, default=None)

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set to serve at the tool's JWKS URL."""
        return {
            "keys": [dict(k.public_jwk) for k in sorted(self.published, key=lambda k: k.created_at)]
        }
