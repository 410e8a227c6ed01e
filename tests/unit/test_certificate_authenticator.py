"""Client certificates mapped to principals: CN and SAN rules, exact and glob, first match wins,
unmatched certificates named but given nothing; the rules file read or refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cadenza.auth.authenticators import AuthenticationError, Credentials
from cadenza.auth.certificates import CertificateAuthenticator, identity_of, load_rules
from cadenza.auth.principal import ANY_NAMESPACE, Principal, PrincipalKind, Role
from cadenza.config import ConfigError
from tests.certificates import CertificateAuthority

RULES = """
[[rule]]
cn = "alice"
name = "alice@example"
roles = { orders = ["writer", "reader"] }

[[rule]]
dns = "*.workers.example"
name = "fleet"
roles = { orders = ["worker"] }

[[rule]]
uri = "spiffe://example/ops/*"
roles = { "*" = ["operator"] }

[[rule]]
email = "root@example"
cluster_admin = true
roles = { "*" = ["admin"] }
"""


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority("unit CA")


@pytest.fixture
def authenticator(tmp_path: Path) -> CertificateAuthenticator:
    rules = tmp_path / "roles.toml"
    rules.write_text(RULES)
    return CertificateAuthenticator(load_rules(str(rules)))


async def principal_for(authenticator: CertificateAuthenticator, pem: bytes) -> Principal | None:
    return await authenticator.authenticate(Credentials(client_certificate=pem))


async def test_an_exact_common_name_gives_the_rules_name_and_roles(
    ca: CertificateAuthority, authenticator: CertificateAuthenticator
) -> None:
    principal = await principal_for(authenticator, ca.client("alice").certificate)
    assert principal is not None
    assert (principal.kind, principal.name) == (PrincipalKind.CERTIFICATE, "alice@example")
    assert principal.roles_on("orders") == {Role.WRITER, Role.READER}
    assert principal.roles_on("billing") == set()
    assert not principal.cluster_admin
    assert principal.claims["subject"] == "CN=alice"


async def test_a_dns_san_glob_matches_any_host_under_it(
    ca: CertificateAuthority, authenticator: CertificateAuthenticator
) -> None:
    principal = await principal_for(
        authenticator, ca.client("w-17", dns=("w-17.workers.example",)).certificate
    )
    assert principal is not None and principal.name == "fleet"
    assert principal.roles_on("orders") == {Role.WORKER}


async def test_without_a_name_the_principal_is_the_value_matched(
    ca: CertificateAuthority, authenticator: CertificateAuthenticator
) -> None:
    principal = await principal_for(
        authenticator, ca.client(None, uri=("spiffe://example/ops/pager",)).certificate
    )
    assert principal is not None and principal.name == "spiffe://example/ops/pager"
    assert principal.roles == {ANY_NAMESPACE: frozenset({Role.OPERATOR})}
    assert principal.roles_on("anything") == {Role.OPERATOR}


async def test_an_email_san_may_make_a_cluster_admin(
    ca: CertificateAuthority, authenticator: CertificateAuthenticator
) -> None:
    principal = await principal_for(authenticator, ca.client("root", email=("root@example",)).certificate)
    assert principal is not None and principal.cluster_admin and principal.name == "root@example"


async def test_the_first_matching_rule_wins(
    ca: CertificateAuthority, authenticator: CertificateAuthenticator
) -> None:
    both = ca.client("alice", dns=("a.workers.example",)).certificate
    principal = await principal_for(authenticator, both)
    assert principal is not None and principal.name == "alice@example"


async def test_matching_is_exact_and_case_sensitive(
    ca: CertificateAuthority, authenticator: CertificateAuthenticator
) -> None:
    for common_name in ("Alice", "alice2", "xalice"):
        principal = await principal_for(authenticator, ca.client(common_name).certificate)
        assert principal is not None and principal.name == common_name and principal.roles == {}


async def test_an_unmatched_certificate_is_named_with_no_roles(
    ca: CertificateAuthority, authenticator: CertificateAuthenticator
) -> None:
    principal = await principal_for(authenticator, ca.client(None, dns=("db.example",)).certificate)
    assert principal is not None
    assert (principal.kind, principal.name, principal.roles, principal.cluster_admin) == (
        PrincipalKind.CERTIFICATE,
        "db.example",
        {},
        False,
    )


async def test_no_certificate_is_not_this_authenticators_business(
    authenticator: CertificateAuthenticator,
) -> None:
    assert await authenticator.authenticate(Credentials(bearer_token="a-key")) is None


async def test_an_unreadable_certificate_is_refused(authenticator: CertificateAuthenticator) -> None:
    with pytest.raises(AuthenticationError, match="cannot be read"):
        await principal_for(
            authenticator, b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
        )


def test_the_identity_lists_every_name(ca: CertificateAuthority) -> None:
    identity = identity_of(ca.client("c", dns=("d1", "d2"), uri=("u:1",), email=("e@x",)).certificate)
    assert (identity.common_names, identity.dns, identity.uri, identity.email) == (
        ("c",),
        ("d1", "d2"),
        ("u:1",),
        ("e@x",),
    )


def test_rules_may_be_json(tmp_path: Path) -> None:
    rules = tmp_path / "roles.json"
    rules.write_text('{"rule": [{"cn": "bob", "roles": {"default": ["reader"]}}]}')
    (rule,) = load_rules(str(rules))
    assert (rule.target, rule.pattern, rule.name) == ("cn", "bob", None)
    assert rule.roles == {"default": frozenset({Role.READER})}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[rule]\n", "not valid TOML"),
        ("rules = []\n", "expected a list of rules under 'rule'"),
        ('[[rule]]\nname = "x"\n', "rule 1: give exactly one of cn, dns, uri, email"),
        ('[[rule]]\ncn = "a"\ndns = "b"\n', "rule 1: give exactly one of"),
        ('[[rule]]\ncn = "a"\n[[rule]]\ncn = "b"\nroles = { ns = ["superuser"] }\n', "rule 2: roles of 'ns'"),
        ('[[rule]]\ncn = "a"\nroles = { ns = "reader" }\n', "must be a list of role names"),
        ('[[rule]]\ncn = "a"\ncluster_admin = "yes"\n', "cluster_admin must be true or false"),
        ('[[rule]]\ncn = "a"\nrole = "reader"\n', "unknown keys role"),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_rule(tmp_path: Path, text: str, message: str) -> None:
    rules = tmp_path / "roles.toml"
    rules.write_text(text)
    with pytest.raises(ConfigError, match=message) as refused:
        load_rules(str(rules))
    assert str(rules) in str(refused.value)


def test_a_missing_rules_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--tls-client-roles .*missing\.toml: cannot read"):
        load_rules(str(tmp_path / "missing.toml"))
