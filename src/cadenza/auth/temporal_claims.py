"""Temporal's permissions claim, read as Temporal's JWT claim mapper and default authorizer read it.

A token made for a Temporal server lists its permissions as strings
``<namespace>:<permission>`` in one claim (``permissions`` unless configured
otherwise): ``accounts:read``, ``accounts:write``, ``accounts:admin``, and
``temporal-system:admin`` for the whole cluster. Temporal splits each at the
first colon, lower-cases the permission, ignores entries it cannot read, and
matches the namespace without regard to case. Here each permission becomes
the set of roles that lets its holder do what Temporal's default authorizer
lets it do:

- ``read``: describe, list, read history, query (``reader``);
- ``write``: everything on the namespace's WorkflowService, polling and
  terminating included (``reader``, ``worker``, ``writer``, ``operator``);
- ``admin``: that and the namespace's OperatorService (every role);
- ``worker``: Temporal's default authorizer grants it nothing; here it is the
  ``worker`` role, so a token for a worker process alone works;
- on ``temporal-system``, ``write`` and ``admin`` may do anything anywhere
  (cluster administration), ``read`` may read every namespace.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cadenza.auth.principal import ANY_NAMESPACE, Role

SYSTEM_NAMESPACE = "temporal-system"
"""The namespace name that stands for the whole cluster in a permission."""

EVERY_ROLE = frozenset(Role)

PERMISSION_ROLES: Mapping[str, frozenset[Role]] = {
    "read": frozenset({Role.READER}),
    "worker": frozenset({Role.WORKER}),
    "write": frozenset({Role.READER, Role.WORKER, Role.WRITER, Role.OPERATOR}),
    "admin": EVERY_ROLE,
}
"""What each of Temporal's permission words grants on a namespace."""

CLUSTER_ADMIN_PERMISSIONS = frozenset({"write", "admin"})
"""Permissions on ``temporal-system`` that Temporal's authorizer lets do anything."""


class NamespaceRoles(Mapping[str, frozenset[Role]]):
    """Roles per namespace name, matched without regard to case as Temporal matches them."""

    def __init__(self, roles: Mapping[str, frozenset[Role]]) -> None:
        self._roles: dict[str, frozenset[Role]] = {}
        for namespace, granted in roles.items():
            key = namespace.lower()
            self._roles[key] = self._roles.get(key, frozenset()) | granted

    def __getitem__(self, namespace: str) -> frozenset[Role]:
        return self._roles[namespace.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._roles)

    def __len__(self) -> int:
        return len(self._roles)

    def __repr__(self) -> str:
        return f"NamespaceRoles({self._roles!r})"


@dataclass(frozen=True)
class Permissions:
    """What a permissions claim grants: roles per namespace, and whether on the whole cluster."""

    roles: NamespaceRoles
    cluster_admin: bool


def permissions_from_claim(claim: Any) -> Permissions:
    """Read a permissions claim; anything that is not a list of ``namespace:permission``
    strings grants nothing, entry by entry, as Temporal ignores what it cannot read."""
    entries: Iterable[Any] = claim if isinstance(claim, list) else ()
    roles: dict[str, frozenset[Role]] = {}
    cluster_admin = False
    for entry in entries:
        if not isinstance(entry, str):
            continue
        namespace, colon, permission = entry.partition(":")
        granted = PERMISSION_ROLES.get(permission.lower(), frozenset())
        # "*" would mean every namespace here, and "" the calls that name none; neither is a
        # namespace anyone can create, so they grant nothing.
        if not colon or not granted or namespace in (ANY_NAMESPACE, ""):
            continue
        if namespace == SYSTEM_NAMESPACE:
            if permission.lower() in CLUSTER_ADMIN_PERMISSIONS:
                cluster_admin, granted = True, EVERY_ROLE
            namespace = ANY_NAMESPACE
        roles[namespace] = roles.get(namespace, frozenset()) | granted
    return Permissions(NamespaceRoles(roles), cluster_admin)
