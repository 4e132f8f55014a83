"""Opaque assignment handles: what a client holds instead of an assignment id.

The assignment id (``item:slot:nonce``) names the item, and a live item's id is a hash of what
the grader is shown — a client could recompute it and so tell gold (whose id does not match) from
live work (issue 11). A handle is the assignment id encrypted with AES-SIV under a key derived
from the server secret and padded to a fixed length: to a client it is random bytes of one size
for every task; the server decrypts it back to the assignment id (no lookup), and a handle
nobody issued fails authentication. Deterministic, so a retry or an ExtendLease names the same
assignment with the same handle.

>>> h = Handles(bytes(32)); a = "ev1-abc:0:0123456789ab"
>>> h.decode(h.encode(a)) == a, h.encode(a) == h.encode(a), len(h.encode(a)) == len(h.encode("x:1:y"))
(True, True, True)
>>> h.decode("not-a-handle") is None, Handles(bytes([1]) * 32).decode(h.encode(a)) is None
(True, True)
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

PURPOSE = b"qrelay assignment handles v1"
BLOCK = 32  # plaintexts are padded to a multiple of this (at least PADDED_MIN), so lengths say nothing
PADDED_MIN = 96


def derive_key(secret: bytes, purpose: bytes) -> bytes:
    """A 64-byte key for one purpose from the server secret (HMAC-SHA-512 as the KDF)."""
    return hmac.new(secret, purpose, hashlib.sha512).digest()


class Handles:
    def __init__(self, secret: bytes):
        self._siv = AESSIV(derive_key(secret, PURPOSE))

    def encode(self, assignment_id: str) -> str:
        raw = assignment_id.encode()
        size = max(PADDED_MIN, -(-(len(raw) + 1) // BLOCK) * BLOCK)
        padded = raw + b"\x80" + b"\x00" * (size - len(raw) - 1)  # ISO/IEC 7816-4 padding
        return base64.urlsafe_b64encode(self._siv.encrypt(padded, [PURPOSE])).decode().rstrip("=")

    def decode(self, handle: str) -> str | None:
        """The assignment id a handle stands for, or None for anything this server did not issue."""
        if len(handle) > 1024:
            return None
        try:
            blob = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4))
            padded = self._siv.decrypt(blob, [PURPOSE])
        except (ValueError, binascii.Error, InvalidTag):
            return None
        raw, marker, _ = padded.rpartition(b"\x80")
        try:
            return raw.decode() if marker else None
        except UnicodeDecodeError:
            return None
