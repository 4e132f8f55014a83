"""Grader credentials: stored only as a SHA-256, checked on every call, rotated with a grace
period, revoked at once.

A credential reads ``qrg.{grader_id}.{secret}``: the grader id lets the server fetch the one
grader document by id (a realtime read; a grader can sign in the moment it exists) and compare
hashes in constant time. A grader has one current credential and, after a rotation, the ones it
replaced until their grace period ends; a revocation clears them all. Results are cached briefly
per server process (``cache_seconds``; the replica that rotates or revokes forgets at once).

With a request id, a credential is derived from the server secret, the grader and the request
(HMAC), so a retried CreateGrader or RotateGraderCredential returns the very same credential —
while it is still the grader's current one — without the server ever storing it.

>>> cred, digest = issue("g-1"); cred.startswith("qrg.g-1."), digest == sha256(cred)
(True, True)
>>> derive(bytes(32), "g-1", "create", "r1") == derive(bytes(32), "g-1", "create", "r1") != derive(bytes(32), "g-1", "create", "r2")
True
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from typing import Sequence

from elasticsearch import Elasticsearch

from services.auth import Authenticator
from services.core.clock import iso, now as clock_now
from services.config import Principal
from services.store import graders

SCHEME = "qrg"


def sha256(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


def issue(grader_id: str) -> tuple[str, str]:
    """A new credential for ``grader_id`` and the hash to store."""
    credential = f"{SCHEME}.{grader_id}.{secrets.token_hex(20)}"
    return credential, sha256(credential)


def derive(secret: bytes, grader_id: str, purpose: str, request_id: str) -> str:
    """The credential a request with ``request_id`` issues (the same on every retry)."""
    key = hmac.new(secret, b"qrelay grader credentials v1", hashlib.sha256).digest()
    mac = hmac.new(key, "\x1f".join((grader_id, purpose, request_id)).encode(), hashlib.sha256).hexdigest()
    return f"{SCHEME}.{grader_id}.{mac[:40]}"


def accepts(doc: dict, digest: str, at: str) -> bool:
    """Whether a grader document takes a credential with this hash at time ``at`` (ISO): the current
    one, or one a rotation replaced whose grace period has not ended."""
    if doc.get("credential_sha256") and hmac.compare_digest(doc["credential_sha256"], digest):
        return True
    return any(hmac.compare_digest(p.get("sha256") or "", digest) and p.get("expire_time", "") > at
               for p in doc.get("previous_credentials") or ())


def grader_id_of(credential: str) -> str | None:
    scheme, _, rest = credential.partition(".")
    grader_id, _, secret = rest.rpartition(".")
    return grader_id if scheme == SCHEME and grader_id and secret else None


class GraderCredentials:
    """Authenticates graders by credential against the ``graders`` index (role ``grader``)."""

    def __init__(self, es: Elasticsearch, prefix: str, cache_seconds: float = 10.0):
        self.es, self.prefix, self.cache_seconds = es, prefix, cache_seconds
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def authenticate(self, token: str) -> Principal | None:
        grader_id = grader_id_of(token)
        if grader_id is None:
            return None
        digest = sha256(token)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit and hit[0] > now:
            return hit[1]
        doc = graders.find(self.es, self.prefix, grader_id)  # ES down: raises, and the call is UNAVAILABLE
        ok = doc is not None and accepts(doc, digest, iso(clock_now()))
        principal = Principal(grader_id, "grader") if ok else None
        with self._lock:
            if len(self._cache) > 100_000:
                self._cache.clear()
            # unknown credentials are cached briefly too, so guessing costs the cluster little
            self._cache[digest] = (now + (self.cache_seconds if ok else 1.0), principal)
        return principal

    def forget(self, grader_id: str) -> None:
        """Drop what this process cached about a grader's credentials (after a rotation or revocation)."""
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if not (v[1] and v[1].subject == grader_id)}


class Chain:
    """The first authenticator that knows the token wins."""

    def __init__(self, authenticators: Sequence[Authenticator]):
        self.authenticators = list(authenticators)

    def authenticate(self, token: str) -> Principal | None:
        for a in self.authenticators:
            principal = a.authenticate(token)
            if principal is not None:
                return principal
        return None
