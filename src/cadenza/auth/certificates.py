"""mTLS identity: a verified client certificate mapped to a principal and its roles.

The TLS layer has already checked the certificate against ``--tls-client-ca``; this module
only says who it names. ``--tls-client-roles`` is a TOML (or, by its ``.json`` name, JSON)
file of rules, the first that matches wins::

    [[rule]]
    cn = "orders-worker-*"          # or dns = ..., uri = ..., email = ... (a SAN); a glob or exact
    name = "orders-worker"          # the principal's name; default: the value matched
    roles = { orders = ["worker"], "*" = ["reader"] }   # per namespace; "*": every namespace
    cluster_admin = false

A certificate no rule matches is still a principal (named by its CN, else its first SAN),
with no roles: its identity is proven, only its permissions are missing, so authorization
answers PERMISSION_DENIED naming it and the audit records who was turned away, where refusing
it as UNAUTHENTICATED would record no one.
"""

from __future__ import annotations

import fnmatch
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from cadenza.auth.authenticators import AuthenticationError, Credentials
from cadenza.auth.principal import Principal, PrincipalKind, Role
from cadenza.config import ConfigError

FIELDS = ("cn", "dns", "uri", "email")
"""What a rule may match: the subject's common name, or a subject alternative name of a kind."""


@dataclass(frozen=True)
class CertificateIdentity:
    """The names a certificate carries."""

    common_names: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    uri: tuple[str, ...] = ()
    email: tuple[str, ...] = ()
    subject: str = ""
    """The whole subject, RFC 4514, for the audit."""

    def values(self, target: str) -> tuple[str, ...]:
        return {"cn": self.common_names, "dns": self.dns, "uri": self.uri, "email": self.email}[target]

    def default_name(self) -> str:
        """What names the certificate when no rule does: its CN, else its first SAN, else its subject."""
        for values in (self.common_names, self.dns, self.uri, self.email):
            if values:
                return values[0]
        return self.subject


@dataclass(frozen=True)
class CertificateRule:
    """One mapping: certificates whose ``target`` (cn, dns, uri, email) matches ``pattern`` are
    ``name`` with these roles."""

    target: str
    pattern: str
    name: str | None = None
    roles: Mapping[str, frozenset[Role]] = field(default_factory=dict)
    cluster_admin: bool = False

    def matched_value(self, identity: CertificateIdentity) -> str | None:
        """The certificate's value this rule matches (case-sensitive glob), or None."""
        for value in identity.values(self.target):
            if fnmatch.fnmatchcase(value, self.pattern):
                return value
        return None


def identity_of(pem: bytes) -> CertificateIdentity:
    """The names in a PEM certificate; ``AuthenticationError`` when it cannot be read."""
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise AuthenticationError(f"the client certificate cannot be read: {exc}") from exc
    common_names = tuple(
        str(attribute.value) for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    )
    try:
        sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return CertificateIdentity(common_names, subject=certificate.subject.rfc4514_string())
    return CertificateIdentity(
        common_names,
        dns=tuple(sans.get_values_for_type(x509.DNSName)),
        uri=tuple(sans.get_values_for_type(x509.UniformResourceIdentifier)),
        email=tuple(sans.get_values_for_type(x509.RFC822Name)),
        subject=certificate.subject.rfc4514_string(),
    )


class CertificateAuthenticator:
    """Finds the principal a verified client certificate names, by the first rule it matches."""

    def __init__(self, rules: Sequence[CertificateRule] = ()) -> None:
        self._rules = tuple(rules)

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        if credentials.client_certificate is None:
            return None
        return self.principal_of(identity_of(credentials.client_certificate))

    def principal_of(self, identity: CertificateIdentity) -> Principal:
        claims = {
            "subject": identity.subject,
            "dns": identity.dns,
            "uri": identity.uri,
            "email": identity.email,
        }
        for rule in self._rules:
            value = rule.matched_value(identity)
            if value is not None:
                return Principal(
                    PrincipalKind.CERTIFICATE, rule.name or value, rule.roles, rule.cluster_admin, claims
                )
        return Principal(PrincipalKind.CERTIFICATE, identity.default_name(), claims=claims)


def load_rules(path: str) -> list[CertificateRule]:
    """The rules of a ``--tls-client-roles`` file; ``ConfigError`` naming the file and the rule."""
    where = f"--tls-client-roles {path}"
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read: {exc.strerror or exc}") from exc
    try:
        document = json.loads(text) if path.endswith(".json") else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"{where}: not valid {'JSON' if path.endswith('.json') else 'TOML'}: {exc}"
        ) from exc
    rules = document.get("rule") if isinstance(document, dict) else None
    if not isinstance(rules, list):
        raise ConfigError(f"{where}: expected a list of rules under 'rule' ([[rule]] in TOML)")
    return [_rule(f"{where}, rule {index + 1}", entry) for index, entry in enumerate(rules)]


def _rule(where: str, entry: Any) -> CertificateRule:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a table of cn/dns/uri/email, name, roles, cluster_admin")
    unknown = set(entry) - {*FIELDS, "name", "roles", "cluster_admin"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    matched = [name for name in FIELDS if name in entry]
    if len(matched) != 1 or not isinstance(entry[matched[0]], str) or not entry[matched[0]]:
        raise ConfigError(f"{where}: give exactly one of {', '.join(FIELDS)}, a non-empty pattern")
    name = entry.get("name")
    if name is not None and (not isinstance(name, str) or not name):
        raise ConfigError(f"{where}: name must be a non-empty string")
    cluster_admin = entry.get("cluster_admin", False)
    if not isinstance(cluster_admin, bool):
        raise ConfigError(f"{where}: cluster_admin must be true or false")
    return CertificateRule(
        matched[0], entry[matched[0]], name, _roles(where, entry.get("roles", {})), cluster_admin
    )


def _roles(where: str, roles: Any) -> dict[str, frozenset[Role]]:
    if not isinstance(roles, dict):
        raise ConfigError(f"{where}: roles must map a namespace to a list of roles")
    known = ", ".join(role.value for role in Role)
    parsed = {}
    for namespace, names in roles.items():
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ConfigError(f"{where}: roles of {namespace!r} must be a list of role names ({known})")
        try:
            parsed[namespace] = frozenset(Role(name) for name in names)
        except ValueError as exc:
            raise ConfigError(f"{where}: roles of {namespace!r}: {exc}; roles are {known}") from exc
    return parsed
