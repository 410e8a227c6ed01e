"""JWT bearer tokens verified against keys made in the test, served as a JWKS over real HTTP or read
from a file: what is accepted becomes a principal with Temporal's permissions as roles, and every
way a token can be wrong is refused with its reason."""

from __future__ import annotations

import base64
import json
import re
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jwt
import pytest

from cadenza.auth.authenticators import AuthenticationError, Credentials
from cadenza.auth.jwt_keys import (
    JWKS_LIFESPAN_SECONDS,
    JWKS_REFRESH_COOLDOWN_SECONDS,
    KeySource,
    LocalKeys,
    PublicKey,
    RemoteKeys,
)
from cadenza.auth.jwt_tokens import JwtAuthenticator, algorithms_from, jwt_authenticator
from cadenza.auth.principal import PrincipalKind, Role
from cadenza.config import ConfigError, ServerConfig
from tests.helpers import free_port
from tests.jwt_issuer import AUDIENCE, ISSUER, Issuer, claims, ec_key, rsa_key, sign


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with Issuer(rsa_key("rsa-1"), ec_key("ec-1")).serving() as serving:
        yield serving


@pytest.fixture
def authenticator(issuer: Issuer) -> JwtAuthenticator:
    return JwtAuthenticator(RemoteKeys(issuer.url), issuer=ISSUER, audience=AUDIENCE)


def bearer(token: str) -> Credentials:
    return Credentials(bearer_token=token)


async def refusal(authenticator: JwtAuthenticator, token: str) -> str:
    with pytest.raises(AuthenticationError) as refused:
        await authenticator.authenticate(bearer(token))
    return str(refused.value)


async def test_a_valid_token_is_a_principal_named_by_its_subject_with_its_permissions_as_roles(
    issuer: Issuer, authenticator: JwtAuthenticator
) -> None:
    token = issuer.token("alice", ["accounts:write", "billing:read"], email="alice@example.com")
    principal = await authenticator.authenticate(bearer(token))
    assert principal is not None
    assert (principal.kind, principal.name) == (PrincipalKind.JWT, "alice")
    assert principal.roles_on("accounts") == {Role.READER, Role.WORKER, Role.WRITER, Role.OPERATOR}
    assert principal.roles_on("billing") == {Role.READER}
    assert not principal.cluster_admin
    assert principal.claims["email"] == "alice@example.com"
    assert principal.claims["iss"] == ISSUER


async def test_an_ec_signed_token_verifies_with_its_key_from_the_same_set(
    issuer: Issuer, authenticator: JwtAuthenticator
) -> None:
    token = sign(issuer.keys[1], claims("bob", ["temporal-system:admin"]))
    principal = await authenticator.authenticate(bearer(token))
    assert principal is not None
    assert principal.name == "bob"
    assert principal.cluster_admin


async def test_a_bearer_token_that_is_not_a_jwt_is_left_to_the_next_authenticator(
    authenticator: JwtAuthenticator,
) -> None:
    for token in ("cdz_0123456789abcdef_secret", "not.a.jwt", "e30.e30.e30", ""):
        assert await authenticator.authenticate(bearer(token)) is None
    assert await authenticator.authenticate(Credentials()) is None


async def test_a_jwt_with_a_damaged_part_is_refused_as_malformed(
    issuer: Issuer, authenticator: JwtAuthenticator
) -> None:
    token = issuer.token()
    assert await refusal(authenticator, token + "x") == "the token is malformed: Invalid crypto padding"
    header, _, signature = token.split(".")
    assert (await refusal(authenticator, f"{header}.%%%.{signature}")).startswith("the token is malformed")


async def test_an_expired_token_is_refused(issuer: Issuer, authenticator: JwtAuthenticator) -> None:
    long_ago = int(time.time()) - 3600
    token = sign(issuer.keys[0], claims(iat=long_ago - 600, exp=long_ago))
    assert await refusal(authenticator, token) == "the token has expired"


async def test_a_token_not_valid_yet_is_refused(issuer: Issuer, authenticator: JwtAuthenticator) -> None:
    token = sign(issuer.keys[0], claims(nbf=int(time.time()) + 3600))
    assert await refusal(authenticator, token) == "the token is not valid yet"


async def test_a_token_without_an_expiry_is_refused(issuer: Issuer, authenticator: JwtAuthenticator) -> None:
    payload = claims()
    del payload["exp"]
    assert await refusal(authenticator, sign(issuer.keys[0], payload)) == "the token has no 'exp' claim"


async def test_a_token_from_another_issuer_is_refused(
    issuer: Issuer, authenticator: JwtAuthenticator
) -> None:
    token = sign(issuer.keys[0], claims(iss="https://elsewhere.test"))
    assert await refusal(authenticator, token) == f"the token was not issued by {ISSUER}"


async def test_a_token_for_another_audience_is_refused(
    issuer: Issuer, authenticator: JwtAuthenticator
) -> None:
    token = sign(issuer.keys[0], claims(aud="another-service"))
    assert await refusal(authenticator, token) == f"the token is not meant for {AUDIENCE}"


async def test_without_a_configured_audience_the_tokens_own_is_not_checked(issuer: Issuer) -> None:
    """As Temporal's default claim mapper: an audience is checked only when one is expected."""
    authenticator = JwtAuthenticator(RemoteKeys(issuer.url))
    principal = await authenticator.authenticate(bearer(sign(issuer.keys[0], claims(aud="anyone"))))
    assert principal is not None


async def test_a_token_signed_by_another_key_under_a_known_key_id_is_refused(
    issuer: Issuer, authenticator: JwtAuthenticator
) -> None:
    forger = rsa_key("rsa-1")
    assert await refusal(authenticator, sign(forger, claims())) == "the token's signature does not verify"


async def test_a_token_with_its_payload_changed_after_signing_is_refused(
    issuer: Issuer, authenticator: JwtAuthenticator
) -> None:
    header, _, signature = issuer.token("alice", ["accounts:read"]).split(".")
    forged = base64.urlsafe_b64encode(json.dumps(claims("alice", ["accounts:admin"])).encode()).rstrip(b"=")
    token = f"{header}.{forged.decode()}.{signature}"
    assert await refusal(authenticator, token) == "the token's signature does not verify"


async def test_an_unsigned_token_is_refused(authenticator: JwtAuthenticator) -> None:
    token = jwt.encode(claims("mallory", ["temporal-system:admin"]), "", algorithm="none")
    assert "algorithm 'none' is not accepted" in await refusal(authenticator, token)


async def test_an_hmac_token_keyed_with_the_public_key_is_refused(
    issuer: Issuer, authenticator: JwtAuthenticator
) -> None:
    """The classic confusion: the public key, known to all, used as an HMAC secret."""
    token = hmac_signed(claims("mallory", ["temporal-system:admin"]), issuer.keys[0].public_pem(), "rsa-1")
    assert "algorithm 'HS256' is not accepted" in await refusal(authenticator, token)


def hmac_signed(payload: dict[str, object], secret: bytes, kid: str) -> str:
    """HS256 by hand: PyJWT itself refuses to use a PEM public key as an HMAC secret."""
    segments = [
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=")
        for part in ({"alg": "HS256", "typ": "JWT", "kid": kid}, payload)
    ]
    signing_input = b".".join(segments)
    algorithm = jwt.algorithms.HMACAlgorithm(jwt.algorithms.HMACAlgorithm.SHA256)
    signature = base64.urlsafe_b64encode(algorithm.sign(signing_input, secret)).rstrip(b"=")
    return (signing_input + b"." + signature).decode()


async def test_an_algorithm_that_does_not_fit_its_key_is_refused(
    issuer: Issuer, authenticator: JwtAuthenticator
) -> None:
    """An ES256 header naming an RSA key: the key's kind decides, not the header alone."""
    token = jwt.encode(claims(), issuer.keys[1].private, algorithm="ES256", headers={"kid": "rsa-1"})
    assert await refusal(authenticator, token) == "the token's algorithm ES256 does not fit its key"


async def test_only_the_configured_algorithms_are_accepted(issuer: Issuer) -> None:
    authenticator = JwtAuthenticator(RemoteKeys(issuer.url), algorithms=["ES256"])
    assert "algorithm 'RS256' is not accepted (accepted: ES256)" in await refusal(
        authenticator, issuer.token()
    )


async def test_a_token_without_a_subject_is_refused(issuer: Issuer, authenticator: JwtAuthenticator) -> None:
    payload = claims()
    del payload["sub"]
    assert "no 'sub' claim" in await refusal(authenticator, sign(issuer.keys[0], payload))


async def test_the_subject_and_permissions_claims_can_be_named(issuer: Issuer) -> None:
    authenticator = JwtAuthenticator(
        RemoteKeys(issuer.url), permissions_claim="https://temporal.test/perms", subject_claim="email"
    )
    payload = {**claims(email="carol@example.com"), "https://temporal.test/perms": ["accounts:admin"]}
    token = sign(issuer.keys[0], payload)
    principal = await authenticator.authenticate(bearer(token))
    assert principal is not None
    assert principal.name == "carol@example.com"
    assert principal.roles_on("accounts") == frozenset(Role)


async def test_a_key_too_short_to_be_safe_is_refused(issuer: Issuer) -> None:
    short = rsa_key("short", bits=1024)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        token = sign(short, claims())
    authenticator = JwtAuthenticator(LocalKeys({}, short.private.public_key()))
    assert "the token's key cannot be used" in await refusal(authenticator, token)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_token_naming_an_unknown_key_fetches_the_keys_again_so_rotated_keys_work() -> None:
    clock = Clock()
    with Issuer(rsa_key("old")).serving() as issuer:
        authenticator = JwtAuthenticator(RemoteKeys(issuer.url, refresh_cooldown=10, clock=clock))
        assert await authenticator.authenticate(bearer(issuer.token("alice"))) is not None
        assert await authenticator.authenticate(bearer(issuer.token("bob"))) is not None
        assert issuer.fetches == 1, "a fetched key is used again without fetching"

        issuer.rotate(rsa_key("new"))
        clock.now += 10
        principal = await authenticator.authenticate(bearer(issuer.token("carol")))
        assert principal is not None
        assert principal.name == "carol"
        assert issuer.fetches == 2


async def test_fetches_for_unknown_keys_are_a_cooldown_apart() -> None:
    clock = Clock()
    with Issuer(rsa_key("known")).serving() as issuer:
        authenticator = JwtAuthenticator(RemoteKeys(issuer.url, refresh_cooldown=10, clock=clock))
        assert await authenticator.authenticate(bearer(issuer.token())) is not None
        for subject in ("mallory", "trudy"):
            stranger = sign(rsa_key("made-up"), claims(subject))
            assert "key 'made-up' is not among the keys" in await refusal(authenticator, stranger)
        assert issuer.fetches == 1
        clock.now += 10
        assert "is not among the keys" in await refusal(authenticator, sign(rsa_key("made-up"), claims()))
        assert issuer.fetches == 2


async def test_the_keys_are_fetched_again_once_their_lifespan_is_over() -> None:
    clock = Clock()
    with Issuer(rsa_key("k")).serving() as issuer:
        authenticator = JwtAuthenticator(RemoteKeys(issuer.url, clock=clock))
        assert await authenticator.authenticate(bearer(issuer.token("alice"))) is not None
        clock.now += JWKS_LIFESPAN_SECONDS
        assert await authenticator.authenticate(bearer(issuer.token("bob"))) is not None
        assert issuer.fetches == 2


async def test_while_the_issuer_is_unreachable_the_keys_fetched_last_stay_in_use() -> None:
    clock = Clock()
    with Issuer(rsa_key("k")).serving() as issuer:
        authenticator = JwtAuthenticator(RemoteKeys(issuer.url, clock=clock))
        assert await authenticator.authenticate(bearer(issuer.token("alice"))) is not None
    clock.now += JWKS_LIFESPAN_SECONDS
    assert await authenticator.authenticate(bearer(issuer.token("bob"))) is not None
    clock.now += JWKS_REFRESH_COOLDOWN_SECONDS
    unknown = sign(rsa_key("other"), claims())
    assert await refusal(authenticator, unknown) == f"the signing keys could not be fetched from {issuer.url}"


async def test_a_token_without_a_key_id_is_refused_when_keys_come_from_a_url(issuer: Issuer) -> None:
    token = jwt.encode(claims(), issuer.keys[0].private, algorithm="RS256")
    authenticator = JwtAuthenticator(RemoteKeys(issuer.url))
    assert await refusal(authenticator, token) == "the token names no key (no 'kid' header)"


async def test_an_unreachable_key_url_refuses_tokens_and_says_so(issuer: Issuer) -> None:
    url = f"http://127.0.0.1:{free_port()}/jwks.json"
    authenticator = JwtAuthenticator(RemoteKeys(url))
    assert await refusal(authenticator, issuer.token()) == f"the signing keys could not be fetched from {url}"


async def test_keys_from_a_pem_file_verify_tokens_with_or_without_a_key_id(tmp_path: Path) -> None:
    key = ec_key("ec")
    path = tmp_path / "public.pem"
    path.write_bytes(key.public_pem())
    authenticator = JwtAuthenticator(LocalKeys.from_file(str(path)))
    for token in (sign(key, claims()), jwt.encode(claims(), key.private, algorithm="ES256")):
        assert await authenticator.authenticate(bearer(token)) is not None
    assert (
        await refusal(authenticator, sign(ec_key("ec"), claims())) == "the token's signature does not verify"
    )


async def test_keys_from_a_jwks_file_are_found_by_key_id(tmp_path: Path) -> None:
    issuer = Issuer(rsa_key("a"), rsa_key("b"))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(issuer.jwks()))
    authenticator = JwtAuthenticator(LocalKeys.from_file(str(path)))
    for key in issuer.keys:
        principal = await authenticator.authenticate(bearer(sign(key, claims(key.kid))))
        assert principal is not None
        assert principal.name == key.kid
    assert "key 'c' is not in the key file" in await refusal(authenticator, sign(rsa_key("c"), claims()))
    unnamed = jwt.encode(claims(), issuer.keys[0].private, algorithm="RS256")
    assert "names no key" in await refusal(authenticator, unnamed)


async def test_a_jwks_file_of_one_key_verifies_tokens_naming_no_key_and_refuses_other_names(
    tmp_path: Path,
) -> None:
    key = ec_key("only")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(Issuer(key).jwks()))
    authenticator = JwtAuthenticator(LocalKeys.from_file(str(path)))
    assert (
        await authenticator.authenticate(bearer(jwt.encode(claims(), key.private, algorithm="ES256")))
        is not None
    )
    renamed = jwt.encode(claims(), key.private, algorithm="ES256", headers={"kid": "other"})
    assert await refusal(authenticator, renamed) == "the token's key 'other' is not in the key file"


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (b"", "neither a JWKS document nor a PEM public key"),
        (b"{not json", "not a usable JWKS document"),
        (json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}).encode(), "holds no public signing key"),
        (
            b"-----BEGIN PRIVATE KEY-----\nMII=\n-----END PRIVATE KEY-----\n",
            "a private key; give the issuer's",
        ),
    ],
)
def test_a_key_file_without_a_usable_public_key_is_a_configuration_error(
    tmp_path: Path, content: bytes, complaint: str
) -> None:
    path = tmp_path / "keys"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=complaint):
        LocalKeys.from_file(str(path))


def test_a_missing_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--jwt-key-file .*missing\.pem: cannot be read"):
        jwt_authenticator(ServerConfig(jwt_key_file=str(tmp_path / "missing.pem")))


@pytest.mark.parametrize("names", ["HS256", "none", "RS256,HS512", "XX999"])
def test_shared_secret_and_unknown_algorithms_are_configuration_errors(names: str) -> None:
    with pytest.raises(ConfigError, match="--jwt-algorithms"):
        algorithms_from(names)


def test_algorithms_are_read_in_any_case_and_default_to_every_asymmetric_one() -> None:
    assert algorithms_from("rs256, ES256 eddsa") == ("RS256", "ES256", "EdDSA")
    assert "PS512" in algorithms_from("")
    assert not any(name.startswith("HS") or name == "none" for name in algorithms_from(""))


def test_without_keys_configured_there_is_no_jwt_authenticator_and_checks_need_keys() -> None:
    assert jwt_authenticator(ServerConfig()) is None
    with pytest.raises(ConfigError, match="need --jwt-jwks-url or --jwt-key-file"):
        jwt_authenticator(ServerConfig(jwt_issuer=ISSUER))
    with pytest.raises(ConfigError, match="not both"):
        jwt_authenticator(ServerConfig(jwt_jwks_url="https://a.test/jwks", jwt_key_file="keys.pem"))
    with pytest.raises(ConfigError, match=re.escape("--jwt-jwks-url ftp://a.test/jwks")):
        jwt_authenticator(ServerConfig(jwt_jwks_url="ftp://a.test/jwks"))


class CountingKeys:
    """A key source that counts how often a token's key is looked up, i.e. a signature checked."""

    def __init__(self, keys: KeySource) -> None:
        self.keys = keys
        self.lookups = 0

    async def key_for(self, header: Mapping[str, Any]) -> PublicKey:
        self.lookups += 1
        return await self.keys.key_for(header)


async def test_a_verified_token_is_remembered_until_it_expires(issuer: Issuer) -> None:
    now = [time.time()]
    keys = CountingKeys(RemoteKeys(issuer.url))
    authenticator = JwtAuthenticator(keys, clock=lambda: now[0])
    token = sign(issuer.keys[0], claims(exp=int(now[0]) + 60))
    first = await authenticator.authenticate(bearer(token))
    assert await authenticator.authenticate(bearer(token)) == first
    assert keys.lookups == 1

    now[0] += 61  # past the token's expiry by the authenticator's clock: verified again
    await authenticator.authenticate(bearer(token))
    assert keys.lookups == 2
