"""Auth over HTTP: Temporal's HTTP API answers 401 and 403 with its error JSON, the probes stay
open, and the UI signs a browser in with an API key kept in an HttpOnly cookie."""

from __future__ import annotations

import html
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from cadenza.auth.api_keys import issue_key, new_key
from cadenza.auth.principal import Role
from cadenza.persistence.audit_records import AuditFilter
from tests.helpers import eventually
from tests.servers import InProcessServer, in_process

PAGE = {"accept": "text/html"}
WORKFLOWS = "/api/v1/namespaces/default/workflows"
SIGNAL = "/api/v1/namespaces/default/workflows/absent/signal/poke"


@dataclass
class AuthedHttp:
    http: httpx.AsyncClient
    keys: dict[Role, str]
    server: InProcessServer

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
            yield AuthedHttp(http, keys, server)


@pytest.fixture(autouse=True)
def no_stored_cookies(authed: AuthedHttp) -> None:
    """Each test sends the cookies it means to: the client keeps none from earlier answers."""
    authed.http.cookies.clear()


def signed_in_as(response: httpx.Response) -> dict[str, str]:
    return {**PAGE, "cookie": f"cadenza_api_key={response.cookies['cadenza_api_key']}"}


async def browser_of(authed: AuthedHttp, role: Role) -> dict[str, str]:
    """The headers of a browser signed in with ``role``'s key."""
    signed_in = await authed.http.post("/login", data={"key": authed.keys[role], "next": "/namespaces"})
    authed.http.cookies.clear()
    return signed_in_as(signed_in)


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


KEYS = "/api/v1/cadenza/auth/keys"


async def test_admins_manage_their_namespaces_keys_over_http(authed: AuthedHttp) -> None:
    admin = authed.bearer(Role.ADMIN)
    made = await authed.http.post(
        KEYS, json={"namespace": "default", "role": "reader", "name": "ci"}, headers=admin
    )
    assert made.status_code == 200, made.text
    key, key_id = made.json()["key"], made.json()["id"]
    assert made.json()["state"] == "active" and key.startswith(f"cdz_{key_id}_")
    used = await authed.http.get(WORKFLOWS, headers={"authorization": f"Bearer {key}"})
    assert used.status_code == 200

    listed = await authed.http.get(KEYS, params={"namespace": "default"}, headers=admin)
    shown = {entry["id"]: entry for entry in listed.json()["keys"]}
    assert shown[key_id]["name"] == "ci" and key.split("_", 2)[2] not in listed.text
    assert "secret" not in listed.text.lower() and "hash" not in listed.text.lower()

    revoked = await authed.http.post(f"{KEYS}/{key_id}/revoke", headers=admin)
    assert revoked.json() == {"id": key_id, "state": "revoked"}
    refused = await authed.http.get(WORKFLOWS, headers={"authorization": f"Bearer {key}"})
    assert refused.status_code == 401 and "revoked" in refused.json()["message"]
    again = await authed.http.post(f"{KEYS}/{key_id}/revoke", headers=admin)
    assert (again.status_code, again.json()["code"]) == (400, 9)


async def test_key_management_is_refused_to_others_and_bad_options_are_named(authed: AuthedHttp) -> None:
    writer, admin = authed.bearer(Role.WRITER), authed.bearer(Role.ADMIN)
    assert (await authed.http.get(KEYS)).status_code == 401
    for headers, body in [
        (writer, {"namespace": "default", "role": "reader"}),
        (admin, {"namespace": "billing", "role": "reader"}),
        (admin, {"namespace": "*", "role": "reader"}),
        (admin, {"clusterAdmin": True}),
    ]:
        refused = await authed.http.post(KEYS, json=body, headers=headers)
        assert (refused.status_code, refused.json()["message"]) == (403, "Request unauthorized."), body
    assert (await authed.http.get(KEYS, headers=admin)).status_code == 403
    for body, why in [
        ({"namespace": "default", "role": "boss"}, "role 'boss'"),
        ({"namespace": "default", "role": "reader", "expires": "2001-01-01"}, "in the past"),
        ({"namespace": "default", "role": 3}, "role is not a string"),
    ]:
        bad = await authed.http.post(KEYS, json=body, headers=admin)
        assert bad.status_code == 400 and why in bad.json()["message"], bad.text
    assert (await authed.http.post(f"{KEYS}/0000000000000000/revoke", headers=admin)).status_code == 404


async def test_saved_views_are_changed_by_writers_named_as_their_creator_and_audited(
    authed: AuthedHttp,
) -> None:
    """A saved view is shared by the namespace's users: a reader sees views but may not change
    them, as it may change nothing else."""
    reader, writer = await browser_of(authed, Role.READER), await browser_of(authed, Role.WRITER)
    name = f"running-{uuid.uuid4().hex[:8]}"
    save = {"name": name, "view": "status=Running", "confirm": "yes"}
    delete = f"/namespaces/default/saved-views/{name}/delete"

    refused = await authed.http.post("/namespaces/default/saved-views", data=save, headers=reader)
    assert refused.status_code == 403 and "Request unauthorized." in refused.text
    saved = await authed.http.post("/namespaces/default/saved-views", data=save, headers=writer)
    assert saved.status_code == 303, saved.text
    page = html.unescape((await authed.http.get("/namespaces/default/workflows", headers=reader)).text)
    writer_id = authed.keys[Role.WRITER].split("_")[1]
    assert f'<li data-view="{name}">' in page and f"saved by api-key:{writer_id}" in page
    taken = await authed.http.post("/namespaces/default/saved-views", data=save, headers=writer)
    assert taken.status_code == 409 and "already exists" in taken.text

    assert (await authed.http.post(delete, data={"confirm": "yes"}, headers=reader)).status_code == 403
    assert (await authed.http.post(delete, data={"confirm": "yes"}, headers=writer)).status_code == 303
    assert (await authed.http.post(delete, data={"confirm": "yes"}, headers=writer)).status_code == 404

    reader_id = authed.keys[Role.READER].split("_")[1]
    expected = [
        ("SaveView", reader_id, "PERMISSION_DENIED"),
        ("SaveView", writer_id, "ok"),
        ("SaveView", writer_id, "ALREADY_EXISTS"),
        ("DeleteView", reader_id, "PERMISSION_DENIED"),
        ("DeleteView", writer_id, "ok"),
        ("DeleteView", writer_id, "NOT_FOUND"),
    ]

    async def audited() -> None:
        rows = await authed.server.server.audit.log.list(AuditFilter(namespace="default"))
        views = [(r.method, r.principal_name, r.outcome) for r in reversed(rows) if r.method.endswith("View")]
        assert views == expected

    await eventually(audited)
