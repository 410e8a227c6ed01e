"""A token issuer for tests: keys made in the test, tokens signed with PyJWT, a JWKS served over HTTP.

It stands in for an identity provider: ``Issuer.serving()`` publishes the
public half of its current keys at a local URL (stdlib ``http.server`` in a
thread), counting the fetches, and ``rotate()`` replaces them as a provider
rotating its keys would.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://issuer.test"
AUDIENCE = "cadenza-test"
TOKEN_SECONDS = 600


@dataclass(frozen=True)
class SigningKey:
    """One private key, its key ID and the algorithm it signs with."""

    kid: str
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    algorithm: str

    def public_jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk: dict[str, Any] = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": self.algorithm}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def rsa_key(kid: str, bits: int = 2048) -> SigningKey:
    return SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=bits), "RS256")


def ec_key(kid: str) -> SigningKey:
    return SigningKey(kid, ec.generate_private_key(ec.SECP256R1()), "ES256")


def claims(subject: str = "alice", permissions: list[str] | None = None, **more: Any) -> dict[str, Any]:
    """A token's claims as an identity provider would set them, valid for ten minutes."""
    now = int(time.time())
    return {
        "sub": subject,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + TOKEN_SECONDS,
        "permissions": permissions if permissions is not None else ["default:read"],
        **more,
    }


def sign(key: SigningKey, payload: Mapping[str, Any], **headers: Any) -> str:
    return jwt.encode(
        dict(payload), key.private, algorithm=key.algorithm, headers={"kid": key.kid, **headers}
    )


class Issuer:
    """Signing keys, the JWKS publishing them, and a count of how often it was fetched."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)
        self.fetches = 0
        self.url = ""

    def token(self, subject: str = "alice", permissions: list[str] | None = None, **more: Any) -> str:
        """A token signed with the issuer's first key."""
        return sign(self.keys[0], claims(subject, permissions, **more))

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk() for key in self.keys]}

    def rotate(self, key: SigningKey) -> None:
        """Publish ``key`` alone from now on, as a provider that rotated its keys."""
        self.keys = [key]

    @contextmanager
    def serving(self) -> Iterator[Issuer]:
        """Serve the JWKS at ``self.url`` until the block ends."""
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.fetches += 1
                body = json.dumps(issuer.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the test's output is for the test

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
