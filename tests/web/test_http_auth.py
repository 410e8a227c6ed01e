"""Auth over HTTP: Temporal's HTTP API answers 401 and 403 with its error JSON, the probes stay
open, and the UI signs a browser in with an API key kept in an HttpOnly cookie."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from cadenza.auth.api_keys import issue_key, new_key
from cadenza.auth.principal import Role
from tests.servers import in_process

PAGE = {"accept": "text/html"}
WORKFLOWS = "/api/v1/namespaces/default/workflows"
SIGNAL = "/api/v1/namespaces/default/workflows/absent/signal/poke"


@dataclass
class AuthedHttp:
    http: httpx.AsyncClient
    keys: dict[Role, str]

    def bearer(self, role: Role) -> dict[str, str]:
        return {"authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture(scope="module")
async def authed() -> AsyncIterator[AuthedHttp]:
    async with in_process(auth=True, http_port=0) as server:
        store = server.server._store
        keys = {role: await issue_key(store, new_key("default", role, time.time())) for role in Role}
        assert server.server.addresses is not None
        base = f"http://{server.server.addresses.http}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            yield AuthedHttp(http, keys)


@pytest.fixture(autouse=True)
def no_stored_cookies(authed: AuthedHttp) -> None:
    """Each test sends the cookies it means to: the client keeps none from earlier answers."""
    authed.http.cookies.clear()


def signed_in_as(response: httpx.Response) -> dict[str, str]:
    return {**PAGE, "cookie": f"cadenza_api_key={response.cookies['cadenza_api_key']}"}


async def test_the_api_answers_401_without_credentials_and_403_without_the_permission(
    authed: AuthedHttp,
) -> None:
    missing = await authed.http.get(WORKFLOWS)
    assert missing.status_code == 401 and missing.json()["code"] == 16
    wrong = await authed.http.get(WORKFLOWS, headers={"authorization": "Bearer cdz_0000000000000000_nope"})
    assert (wrong.status_code, wrong.json()) == (401, {"code": 16, "message": "API key not valid"})

    assert (await authed.http.get(WORKFLOWS, headers=authed.bearer(Role.READER))).status_code == 200
    denied = await authed.http.post(SIGNAL, json={}, headers=authed.bearer(Role.READER))
    assert denied.status_code == 403
    body = denied.json()
    assert (body["code"], body["message"]) == (7, "Request unauthorized.")
    assert (
        body["details"][0]["@type"]
        == "type.googleapis.com/temporal.api.errordetails.v1.PermissionDeniedFailure"
    )
    allowed = await authed.http.post(SIGNAL, json={}, headers=authed.bearer(Role.WRITER))
    assert allowed.status_code == 404  # reached its handler: there is no such workflow


async def test_probes_metrics_and_system_info_stay_open(authed: AuthedHttp) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/api/v1/system-info"):
        assert (await authed.http.get(path)).status_code == 200, path


async def test_the_api_takes_the_header_only_never_the_browser_cookie(authed: AuthedHttp) -> None:
    cookie = {"cookie": f"cadenza_api_key={authed.keys[Role.ADMIN]}"}
    assert (await authed.http.get(WORKFLOWS, headers=cookie)).status_code == 401


async def test_a_page_asks_to_sign_in_and_then_shows_what_the_key_may_read(authed: AuthedHttp) -> None:
    asked = await authed.http.get("/namespaces/default/workflows", headers=PAGE)
    assert asked.status_code == 401 and 'action="/login"' in asked.text
    assert 'name="next" value="/namespaces/default/workflows"' in asked.text

    bad = await authed.http.post("/login", data={"key": "cdz_0000000000000000_nope", "next": "/namespaces"})
    assert bad.status_code == 401 and "API key not valid" in bad.text and "set-cookie" not in bad.headers

    signed_in = await authed.http.post(
        "/login", data={"key": authed.keys[Role.READER], "next": "/namespaces"}
    )
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/namespaces")
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    authed.http.cookies.clear()
    page = await authed.http.get("/namespaces/default/workflows", headers=signed_in_as(signed_in))
    assert page.status_code == 200 and "Sign out" in page.text

    terminate = await authed.http.post(
        "/namespaces/default/workflows/absent/run/actions/terminate",
        data={"confirm": "yes", "reason": "test"},
        headers={"cookie": signed_in_as(signed_in)["cookie"]},
    )
    assert terminate.status_code == 403 and "Request unauthorized." in terminate.text


async def test_signing_in_goes_only_to_this_servers_pages_and_signing_out_forgets_the_key(
    authed: AuthedHttp,
) -> None:
    away = await authed.http.post("/login", data={"key": authed.keys[Role.ADMIN], "next": "//evil.example/"})
    assert away.headers["location"] == "/"
    out = await authed.http.post("/logout", headers={"cookie": signed_in_as(away)["cookie"]})
    assert out.status_code == 303 and 'cadenza_api_key=""' in out.headers["set-cookie"]
