"""The principal: the one identity every way of authenticating produces.

An API key, a JWT and a client certificate each end as a ``Principal``: a kind
and a name (what ``HistoryEvent.principal`` and the audit log show) and the
roles it holds, per namespace and cluster-wide. Authorization looks only at
the principal, never at how it was proven, so a rule holds the same for every
credential.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

ANY_NAMESPACE = "*"
"""The key of ``Principal.roles`` that grants its roles on every namespace."""


class Role(enum.StrEnum):
    """What a principal may do on a namespace (see ``cadenza.auth.permissions`` for each RPC's)."""

    READER = "reader"
    """Describe, list, count, read history, query."""
    WORKER = "worker"
    """Poll and respond to tasks, heartbeat: what a worker process needs, and nothing more."""
    WRITER = "writer"
    """Start, signal, update, cancel; and everything a reader may."""
    OPERATOR = "operator"
    """Terminate, reset, delete runs, schedules; and everything a writer may."""
    ADMIN = "admin"
    """Namespace and search attribute administration, keys; and everything an operator may."""


class PrincipalKind(enum.StrEnum):
    """How the principal was proven; ``Principal.type`` on the history."""

    API_KEY = "api-key"
    JWT = "jwt"
    CERTIFICATE = "certificate"
    ANONYMOUS = "anonymous"
    """No credentials, with auth off: the server's behaviour before auth existed."""


@dataclass(frozen=True)
class Principal:
    """One caller, as proven by its credentials."""

    kind: PrincipalKind
    name: str
    roles: Mapping[str, frozenset[Role]] = field(default_factory=dict)
    """Roles per namespace name; under ``ANY_NAMESPACE``, roles on every namespace."""
    cluster_admin: bool = False
    """May administer the cluster: create and delete namespaces, manage every key."""
    claims: Mapping[str, Any] = field(default_factory=dict)
    """What the credential said beyond roles (JWT claims, certificate subject), for the audit."""

    def roles_on(self, namespace: str) -> frozenset[Role]:
        """The roles this principal holds on ``namespace``."""
        return self.roles.get(namespace, frozenset()) | self.roles.get(ANY_NAMESPACE, frozenset())


ANONYMOUS = Principal(PrincipalKind.ANONYMOUS, "anonymous")

current_principal: ContextVar[Principal | None] = ContextVar("current_principal", default=None)
"""The principal of the call being handled; set by the API layer before the handler runs."""
