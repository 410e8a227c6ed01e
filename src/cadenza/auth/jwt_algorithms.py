"""The JWT signing algorithms Cadenza accepts, by name.

Only asymmetric ones, so a public key can never be taken for a shared secret (and never
``none``). Kept apart from the key handling so the command line can name them without
loading PyJWT and cryptography.
"""

from __future__ import annotations

RSA = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
ELLIPTIC_CURVE = ("ES256", "ES384", "ES512")
EDWARDS_CURVE = ("EdDSA",)

ALGORITHMS = RSA + ELLIPTIC_CURVE + EDWARDS_CURVE
