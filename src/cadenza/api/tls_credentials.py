"""gRPC's TLS credentials from the server's TLS files, re-read for new connections when they change."""

from __future__ import annotations

import grpc

from cadenza.tls import CertificateWatcher, TlsFiles, TlsMaterial


def server_credentials(files: TlsFiles) -> grpc.ServerCredentials:
    """Credentials serving ``files``, requiring a client certificate under mTLS.

    gRPC asks the fetcher at each new connection's handshake; it answers None (keep the current
    configuration) until the files change and are whole again.
    """
    watcher = CertificateWatcher(files)

    def fetch() -> grpc.ServerCertificateConfiguration | None:
        material = watcher.changed()
        return None if material is None else _configuration(material)

    return grpc.dynamic_ssl_server_credentials(
        _configuration(files.check()),
        fetch,  # type: ignore[arg-type]  # grpc documents None as "unchanged"; its stubs omit it
        require_client_authentication=files.mutual,
    )


def _configuration(material: TlsMaterial) -> grpc.ServerCertificateConfiguration:
    return grpc.ssl_server_certificate_configuration(
        [(material.private_key, material.certificate_chain)], root_certificates=material.client_ca
    )
