"""Signing the browser in with an API key: a form that keeps the key in an HttpOnly cookie, and
the middleware that makes every call a page makes carry it as the bearer token.

The key goes through the same check as any client's (``cadenza.api.authorization``): a page
shows what its reads may read, an action runs if its RPC may run. The cookie is HttpOnly (no
script reads it), SameSite=Strict (no other site's page sends it) and Secure over HTTPS. Only
the UI's pages honour it; Temporal's HTTP API takes the ``Authorization`` header alone.
"""

from __future__ import annotations

from urllib.parse import quote

from google.rpc import code_pb2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.workflowservice.v1 import ListNamespacesRequest, ListNamespacesResponse

from cadenza.api.http_calls import browser_credentials
from cadenza.web.ui.actions import _form, _same_origin
from cadenza.web.ui.rpc import CallFailed
from cadenza.web.ui.site import Site

COOKIE = "cadenza_api_key"
COOKIE_SECONDS = 7 * 24 * 3600
"""How long the browser keeps the key (the key's own expiry still applies)."""


class BrowserCredentials:
    """ASGI middleware: a request's ``Authorization`` header, else its sign-in cookie, is what
    the calls made for its page present."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request = Request(scope)
        authorization = request.headers.get("authorization")
        key = request.cookies.get(COOKIE)
        if authorization is None and key:
            authorization = f"Bearer {key}"
        token = browser_credentials.set((("authorization", authorization),) if authorization else ())
        try:
            await self._app(scope, receive, send)
        finally:
            browser_credentials.reset(token)


def _next_page(value: str | None) -> str:
    """Where to go after signing in: a path of this server only."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    return value


def sign_in_page(
    site: Site, request: Request, next_page: str | None, status_code: int = 200, error: str = ""
) -> Response:
    return site.page(
        request,
        "login.html",
        status_code=status_code,
        title="Sign in",
        next=_next_page(next_page),
        error=error,
    )


async def show_sign_in(site: Site, request: Request) -> Response:
    return sign_in_page(site, request, request.query_params.get("next"))


async def sign_in(site: Site, request: Request) -> Response:
    """Check the posted key as any call would check it; keep it in the cookie if it holds."""
    if not _same_origin(request):
        return site.refused(request, 403, "Forbidden", "sign in from this server's pages")
    form = await _form(request) or {}
    key = form.get("key", "").strip()
    if not key:
        return sign_in_page(site, request, form.get("next"), 400, "paste an API key")
    token = browser_credentials.set((("authorization", f"Bearer {key}"),))
    try:
        await site.rpc("ListNamespaces", ListNamespacesRequest(page_size=1), ListNamespacesResponse)
    except CallFailed as failure:
        if failure.status.code == code_pb2.UNAUTHENTICATED:
            return sign_in_page(site, request, form.get("next"), 401, failure.status.message)
        return site.failed(request, failure)
    finally:
        browser_credentials.reset(token)
    response = RedirectResponse(_next_page(form.get("next")), status_code=303)
    response.set_cookie(
        COOKIE,
        key,
        max_age=COOKIE_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def sign_out(site: Site, request: Request) -> Response:
    response = RedirectResponse(f"/login?next={quote('/')}", status_code=303)
    response.delete_cookie(COOKIE, httponly=True, samesite="strict")
    return response
