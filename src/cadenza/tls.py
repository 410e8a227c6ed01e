"""The server's TLS files: checked whole before anything listens, and re-read when they change.

``--tls-cert`` and ``--tls-key`` turn TLS on for the gRPC and the HTTP port alike;
``--tls-client-ca`` turns on mTLS (a client certificate signed by one of its CAs is
required). ``TlsFiles.check`` refuses a missing, unreadable or mismatched file in one line
naming it, so the server never starts half-configured. Each listener keeps a
``CertificateWatcher``: every new connection asks it whether the files changed (their
modification time, size and inode), so a renewed certificate is served to the next
connection without a restart, and a half-written renewal (a certificate whose key is not
written yet) is ignored until it is whole, while the old certificate goes on being served.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
from dataclasses import dataclass
from typing import NoReturn

from cadenza.config import ConfigError, ServerConfig

logger = logging.getLogger(__name__)


class TlsError(ConfigError):
    """A TLS file cannot be used; the message names the flag and the file."""


@dataclass(frozen=True)
class TlsMaterial:
    """The contents of the TLS files at one moment, each PEM."""

    certificate_chain: bytes
    private_key: bytes
    client_ca: bytes | None
    """The CAs a client certificate must be signed by; None: no client certificate asked for."""


@dataclass(frozen=True)
class TlsFiles:
    """Where the server's certificate, its key and the client CAs are."""

    certificate: str
    private_key: str
    client_ca: str | None = None

    @classmethod
    def of(cls, config: ServerConfig) -> TlsFiles | None:
        """The files ``config`` names; None when TLS is off."""
        if not config.tls_cert:
            return None
        return cls(config.tls_cert, config.tls_key, config.tls_client_ca or None)

    @property
    def mutual(self) -> bool:
        """Whether clients must present a certificate (mTLS)."""
        return self.client_ca is not None

    def check(self) -> TlsMaterial:
        """Read every file and prove they form a usable TLS setup; ``TlsError`` saying which
        does not."""
        material = TlsMaterial(
            _read("--tls-cert", self.certificate, b"CERTIFICATE-----"),
            _read("--tls-key", self.private_key, b"PRIVATE KEY-----"),
            None if self.client_ca is None else _read("--tls-client-ca", self.client_ca, b"CERTIFICATE-----"),
        )
        self.server_context()  # OpenSSL's own check: the key is the certificate's, the CAs parse
        return material

    def server_context(self) -> ssl.SSLContext:
        """A TLS server context holding these files (a fresh one each call)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.load_into(context)
        return context

    def load_into(self, context: ssl.SSLContext) -> None:
        """Put the certificate and key (and the client CAs, requiring client certificates) into
        ``context``; connections made afterwards use them."""
        try:
            context.load_cert_chain(self.certificate, self.private_key, password=_no_password)
        except ssl.SSLError as exc:
            raise TlsError(
                f"--tls-cert {self.certificate} and --tls-key {self.private_key} are not a certificate "
                f"and its private key: {exc.reason or exc}"
            ) from exc
        except OSError as exc:
            raise TlsError(f"--tls-cert/--tls-key: cannot read: {exc.strerror or exc}") from exc
        if self.client_ca is None:
            return
        try:
            context.load_verify_locations(cafile=self.client_ca)
        except (ssl.SSLError, OSError) as exc:
            raise TlsError(
                f"--tls-client-ca {self.client_ca}: not a PEM bundle of CA certificates: {exc}"
            ) from exc
        context.verify_mode = ssl.CERT_REQUIRED

    def signature(self) -> tuple[tuple[int, int, int], ...]:
        """What changes when any file is rewritten or replaced; unreadable files count as changed."""
        paths = [self.certificate, self.private_key, *([self.client_ca] if self.client_ca else [])]
        stamps = []
        for path in paths:
            try:
                stat = os.stat(path)
            except OSError:
                stamps.append((-1, -1, -1))
            else:
                stamps.append((stat.st_mtime_ns, stat.st_size, stat.st_ino))
        return tuple(stamps)


def _no_password() -> NoReturn:
    # Without a callback OpenSSL would ask for the password on the terminal.
    raise TlsError(
        "--tls-key: the private key is encrypted; give it unencrypted (readable only by the server)"
    )


def _read(flag: str, path: str, marker: bytes) -> bytes:
    try:
        with open(path, "rb") as file:
            content = file.read()
    except OSError as exc:
        raise TlsError(f"{flag} {path}: cannot read: {exc.strerror or exc}") from exc
    if marker not in content:
        kind = "certificate" if marker.startswith(b"CERT") else "private key"
        raise TlsError(f"{flag} {path}: no PEM {kind} in the file")
    return content


class CertificateWatcher:
    """Tells a listener when the TLS files changed, with their new contents once they are whole.

    Safe to ask from several threads (gRPC asks from its own).
    """

    def __init__(self, files: TlsFiles) -> None:
        self.files = files
        self._lock = threading.Lock()
        self._served = files.signature()
        self._refused: tuple[tuple[int, int, int], ...] | None = None

    def changed(self) -> TlsMaterial | None:
        """The files' new contents when they changed since last served and are usable; else None."""
        signature = self.files.signature()
        with self._lock:
            if signature in (self._served, self._refused):
                return None
            try:
                material = self.files.check()
            except TlsError as exc:
                # Half-written, or wrong: the old certificate goes on until the files are whole.
                self._refused = signature
                logger.warning(
                    "TLS files changed but cannot be used yet, still serving the old ones: %s", exc
                )
                return None
            self._served, self._refused = signature, None
        logger.info("TLS files changed: new connections get the new certificate")
        return material
