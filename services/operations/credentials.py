"""Grader credentials: issued once, stored only as a SHA-256, checked on every call.

A credential reads ``qrg.{grader_id}.{secret}``: the grader id lets the server fetch the one
grader document by id (a realtime read; a grader can sign in the moment it exists) and compare
hashes in constant time. Results are cached briefly per server process.

>>> cred, digest = issue("g-1"); cred.startswith("qrg.g-1."), digest == sha256(cred)
(True, True)
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
from services.config import Principal
from services.store import graders

SCHEME = "qrg"


def sha256(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


def issue(grader_id: str) -> tuple[str, str]:
    """A new credential for ``grader_id`` and the hash to store."""
    credential = f"{SCHEME}.{grader_id}.{secrets.token_hex(20)}"
    return credential, sha256(credential)


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
        ok = doc is not None and hmac.compare_digest(doc.get("credential_sha256") or "", digest)
        principal = Principal(grader_id, "grader") if ok else None
        with self._lock:
            if len(self._cache) > 100_000:
                self._cache.clear()
            # unknown credentials are cached briefly too, so guessing costs the cluster little
            self._cache[digest] = (now + (self.cache_seconds if ok else 1.0), principal)
        return principal


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
