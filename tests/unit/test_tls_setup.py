"""The TLS flags refused whole before anything listens (missing, unreadable, mismatched or
lonely files), and the credentials read alike from a gRPC-style and an HTTP call context."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from cadenza.api.credentials import bearer_token, credentials_of
from cadenza.api.http_calls import HttpCallContext
from cadenza.config import ConfigError, ServerConfig, from_env
from cadenza.server import Server
from cadenza.tls import CertificateWatcher, TlsFiles
from tests.certificates import CertificateAuthority


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority("setup CA")


@pytest.fixture
def files(ca: CertificateAuthority, tmp_path: Path) -> dict[str, str]:
    cert, key = ca.server().write(tmp_path, "server")
    client_ca = tmp_path / "ca.pem"
    client_ca.write_bytes(ca.pem)
    return {"tls_cert": str(cert), "tls_key": str(key), "tls_client_ca": str(client_ca)}


def config(
    tls_cert: str = "", tls_key: str = "", tls_client_ca: str = "", tls_client_roles: str = ""
) -> ServerConfig:
    return ServerConfig(
        port=0,
        http_port=0,
        db=":memory:",
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_client_ca=tls_client_ca,
        tls_client_roles=tls_client_roles,
    )


def test_good_files_check(files: dict[str, str]) -> None:
    tls = TlsFiles.of(config(**files))
    assert tls is not None and tls.mutual
    material = tls.check()
    assert material.client_ca is not None and b"PRIVATE KEY" in material.private_key


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"tls_cert": "c.pem"}, "--tls-cert needs --tls-key"),
        ({"tls_key": "k.pem"}, "--tls-key needs --tls-cert"),
        ({"tls_client_ca": "ca.pem"}, "--tls-client-ca needs --tls-cert"),
        (
            {"tls_cert": "c", "tls_key": "k", "tls_client_roles": "r.toml"},
            "--tls-client-roles needs --tls-client-ca",
        ),
    ],
)
def test_flags_that_need_each_other_are_refused(given: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config(**given)


def test_the_variables_set_the_tls_files() -> None:
    env = {"CADENZA_TLS_CERT": "c.pem", "CADENZA_TLS_KEY": "k.pem", "CADENZA_TLS_CLIENT_CA": "ca.pem"}
    loaded = from_env(env)
    assert (loaded.tls_cert, loaded.tls_key, loaded.tls_client_ca) == ("c.pem", "k.pem", "ca.pem")


def test_a_missing_file_is_refused_naming_it(files: dict[str, str], tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.pem")
    with pytest.raises(ConfigError, match=f"--tls-client-ca {missing}: cannot read: No such file"):
        Server(config(**{**files, "tls_client_ca": missing}))


def test_a_file_that_is_not_pem_is_refused(files: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "junk.pem").write_text("hello")
    with pytest.raises(ConfigError, match=r"--tls-key .*junk\.pem: no PEM private key"):
        Server(config(**{**files, "tls_key": str(tmp_path / "junk.pem")}))


def test_a_key_of_another_certificate_is_refused(
    ca: CertificateAuthority, files: dict[str, str], tmp_path: Path
) -> None:
    _, other_key = ca.server().write(tmp_path, "other")
    with pytest.raises(ConfigError, match="are not a certificate and its private key: KEY_VALUES_MISMATCH"):
        Server(config(**{**files, "tls_key": str(other_key)}))


def test_a_broken_ca_bundle_is_refused(files: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "broken-ca.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match=r"--tls-client-ca .*broken-ca\.pem: not a PEM bundle"):
        Server(config(**{**files, "tls_client_ca": str(broken)}))


def test_an_encrypted_key_is_refused_without_asking_for_a_password(
    files: dict[str, str], tmp_path: Path
) -> None:
    key = serialization.load_pem_private_key(Path(files["tls_key"]).read_bytes(), None)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(ConfigError, match="--tls-key: the private key is encrypted"):
        Server(config(**{**files, "tls_key": str(encrypted)}))


def test_the_watcher_reports_a_change_once_and_only_when_whole(
    ca: CertificateAuthority, files: dict[str, str], tmp_path: Path
) -> None:
    tls = TlsFiles.of(config(**files))
    assert tls is not None
    watcher = CertificateWatcher(tls)
    assert watcher.changed() is None
    renewed = ca.server("renewed")
    Path(files["tls_cert"]).write_bytes(renewed.certificate + b"\n")
    assert watcher.changed() is None  # the old key does not fit the new certificate
    Path(files["tls_key"]).write_bytes(renewed.private_key + b"\n")
    material = watcher.changed()
    assert material is not None and material.certificate_chain.strip() == renewed.certificate.strip()
    assert watcher.changed() is None


class GrpcLikeContext:
    """The two methods of grpc's servicer context the credentials are read from."""

    def __init__(self, metadata: Iterable[tuple[str, str | bytes]], auth: Mapping[str, list[bytes]]) -> None:
        self._metadata, self._auth = tuple(metadata), auth

    def invocation_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        return self._metadata

    def auth_context(self) -> Mapping[str, list[bytes]]:
        return self._auth


def test_grpc_and_http_contexts_give_the_same_credentials() -> None:
    pem = b"-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"
    metadata = [("authorization", "Bearer tok-123"), ("temporal-namespace", "orders")]
    over_grpc = credentials_of(
        GrpcLikeContext(
            [*metadata, ("trace-bin", b"\x00")], {"x509_pem_cert": [pem], "transport_security_type": [b"ssl"]}
        )
    )
    over_http = credentials_of(HttpCallContext(metadata, client_certificate=pem))
    assert over_grpc == over_http
    assert (over_http.bearer_token, over_http.client_certificate) == ("tok-123", pem)
    assert over_http.metadata == {"temporal-namespace": "orders"}


def test_a_call_without_credentials_presents_none() -> None:
    assert credentials_of(HttpCallContext()).bearer_token is None
    assert credentials_of(HttpCallContext()).client_certificate is None


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("BEARER abc", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("", None),
    ],
)
def test_the_bearer_token_is_read_from_its_header(header: str, token: str | None) -> None:
    assert bearer_token(header) == token


def test_another_authorization_scheme_stays_in_the_metadata() -> None:
    credentials = credentials_of(HttpCallContext([("authorization", "Basic abc")]))
    assert credentials.bearer_token is None and credentials.metadata == {"authorization": "Basic abc"}
