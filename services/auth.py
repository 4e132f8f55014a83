"""Bearer-token authentication and role-based authorisation.

Which roles may call an RPC is declared in the .proto files with the ``allowed_roles``
method option; :func:`method_roles` reads those declarations from the descriptors, so the
contract and the enforcement cannot drift apart.
"""
from __future__ import annotations

import contextvars
import hmac
from typing import Iterable, Mapping, Protocol

from google.protobuf import descriptor as _descriptor

from services.config import Principal
from services.core.errors import PermissionDenied, Unauthenticated

_ROLE_NAMES = {1: "engineer", 2: "grader", 3: "ops", 4: "admin"}

# The principal of the RPC being served (set by the auth interceptor).
current_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("principal", default=None)


class Authenticator(Protocol):
    def authenticate(self, token: str) -> Principal | None: ...


class StaticTokens:
    """Tokens from configuration (``QRELAY_TOKENS``). Compared in constant time."""

    def __init__(self, tokens: Mapping[str, Principal]):
        self._tokens = dict(tokens)

    def authenticate(self, token: str) -> Principal | None:
        found = None
        for known, principal in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = principal
        return found


def method_roles(file_descriptors: Iterable[_descriptor.FileDescriptor]) -> dict[str, frozenset[str]]:
    """``/package.Service/Method`` → the role names its ``allowed_roles`` option lists."""
    from services._proto.qrelay.v1 import common_pb2

    table: dict[str, frozenset[str]] = {}
    for fd in file_descriptors:
        for service in fd.services_by_name.values():
            for method in service.methods:
                roles = method.GetOptions().Extensions[common_pb2.allowed_roles]
                table[f"/{service.full_name}/{method.name}"] = frozenset(_ROLE_NAMES[r] for r in roles)
    return table


def bearer_token(metadata: Iterable[tuple[str, str | bytes]]) -> str | None:
    for key, value in metadata:
        if key == "authorization":
            value = value.decode() if isinstance(value, bytes) else value
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def authenticate(token: str | None, authenticator: Authenticator) -> Principal:
    """Who ``token`` is, or :class:`Unauthenticated` saying why not."""
    if token is None:
        raise Unauthenticated("missing bearer token: send metadata 'authorization: Bearer <token>'")
    principal = authenticator.authenticate(token)
    if principal is None:
        raise Unauthenticated("invalid bearer token")
    return principal


def permit(method: str, principal: Principal, roles: Mapping[str, frozenset[str]]) -> None:
    """:class:`PermissionDenied` unless ``principal``'s role may call ``method``."""
    allowed = roles.get(method)
    if allowed is None or principal.role not in allowed:
        raise PermissionDenied(
            f"role {principal.role!r} may not call {method.rsplit('/', 1)[-1]}"
            + (f" (allowed: {', '.join(sorted(allowed))})" if allowed else "")
        )


def authorize(method: str, token: str | None, roles: Mapping[str, frozenset[str]], authenticator: Authenticator) -> Principal:
    """The principal allowed to call ``method`` with ``token``, or a domain error saying why not."""
    principal = authenticate(token, authenticator)
    permit(method, principal, roles)
    return principal
