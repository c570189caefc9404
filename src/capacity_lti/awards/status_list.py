"""The W3C Bitstring Status List (v1.0) that publishes which awards are revoked.

Each award's status index is its row number; bit *i* (counted from the most significant
bit of the first byte) is 1 when award *i* is revoked. The list is at least 16 KiB
(131,072 entries) as the Recommendation asks, so a verifier fetching it does not tell
the issuer which credential it is checking.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from capacity_lti.awards.credentials import STATUS_LIST_PATH, VC_CONTEXT

MIN_ENTRIES = 131_072


def encode_list(revoked: Iterable[int], minimum: int = MIN_ENTRIES) -> str:
    """Multibase (base64url, prefix `u`) of the GZIP-compressed bitstring."""
    indexes = sorted(set(revoked))
    size = max(minimum, ((indexes[-1] // minimum) + 1) * minimum if indexes else minimum)
    bits = bytearray(size // 8)
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def decode_list(encoded: str) -> bytes:
    """The bitstring of an encoded list (for tests and for verifiers of our own)."""
    if not encoded.startswith("u"):
        raise ValueError("the encoded list is not multibase base64url")
    raw = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))


def is_set(bitstring: bytes, index: int) -> bool:
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(
    base_url: str, issuer: dict[str, Any], revoked: Iterable[int], valid_from: datetime
) -> dict[str, Any]:
    """The `BitstringStatusListCredential` served at STATUS_LIST_PATH (to be signed)."""
    url = f"{base_url.rstrip('/')}{STATUS_LIST_PATH}"
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_list(revoked),
        },
    }
