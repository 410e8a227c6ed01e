"""Temporal's permissions claim read into roles, as Temporal's claim mapper and authorizer read it."""

from __future__ import annotations

from typing import Any

import pytest

from cadenza.auth.principal import Principal, PrincipalKind, Role
from cadenza.auth.temporal_claims import permissions_from_claim

READER = frozenset({Role.READER})
WRITER = frozenset({Role.READER, Role.WORKER, Role.WRITER, Role.OPERATOR})
EVERY_ROLE = frozenset(Role)


def principal_of(claim: Any) -> Principal:
    permissions = permissions_from_claim(claim)
    return Principal(PrincipalKind.JWT, "alice", permissions.roles, permissions.cluster_admin)


@pytest.mark.parametrize(
    ("permission", "roles"),
    [
        ("read", READER),
        ("write", WRITER),
        ("admin", EVERY_ROLE),
        ("worker", frozenset({Role.WORKER})),
    ],
)
def test_each_permission_grants_on_its_namespace_what_temporal_lets_it_do(
    permission: str, roles: frozenset[Role]
) -> None:
    principal = principal_of([f"accounts:{permission}"])
    assert principal.roles_on("accounts") == roles
    assert principal.roles_on("billing") == frozenset()
    assert not principal.cluster_admin


def test_permissions_on_one_namespace_add_up() -> None:
    principal = principal_of(["accounts:read", "accounts:worker", "billing:admin"])
    assert principal.roles_on("accounts") == {Role.READER, Role.WORKER}
    assert principal.roles_on("billing") == EVERY_ROLE


def test_the_permission_word_and_the_namespace_are_matched_without_regard_to_case() -> None:
    """Temporal lower-cases the permission, and the namespace a call names before looking it up."""
    principal = principal_of(["accounts:WRITE", "Billing:Read"])
    assert principal.roles_on("Accounts") == WRITER
    assert principal.roles_on("ACCOUNTS") == WRITER
    assert principal.roles_on("billing") == READER


@pytest.mark.parametrize("permission", ["admin", "write", "Admin"])
def test_writing_or_administering_temporal_system_administers_the_cluster(permission: str) -> None:
    principal = principal_of([f"temporal-system:{permission}"])
    assert principal.cluster_admin
    assert principal.roles_on("any-namespace") == EVERY_ROLE


def test_reading_temporal_system_reads_every_namespace_and_administers_nothing() -> None:
    principal = principal_of(["temporal-system:read"])
    assert not principal.cluster_admin
    assert principal.roles_on("accounts") == READER
    assert principal.roles_on("billing") == READER


def test_only_the_exact_system_namespace_name_means_the_cluster() -> None:
    principal = principal_of(["Temporal-System:admin"])
    assert not principal.cluster_admin
    assert principal.roles_on("accounts") == frozenset()


@pytest.mark.parametrize(
    "claim",
    [
        None,
        "accounts:admin",
        {"accounts": "admin"},
        [42, None, ["accounts:admin"]],
        ["accounts", "accounts:", "accounts:owner", ":admin"],
        ["*:admin"],
    ],
)
def test_what_cannot_be_read_as_a_permission_grants_nothing(claim: Any) -> None:
    """Temporal skips a claim that is not a list and each entry it cannot read; ``*`` and the
    empty name are namespace names no namespace has, and must never mean more here."""
    principal = principal_of(claim)
    assert not principal.cluster_admin
    for namespace in ("accounts", "*", "", "anything"):
        assert principal.roles_on(namespace) == frozenset()


def test_only_the_first_colon_splits_so_more_after_it_is_no_permission() -> None:
    """Temporal splits at the first colon only; the rest is the permission, which must be a word."""
    assert principal_of(["accounts:read:extra"]).roles_on("accounts") == frozenset()
