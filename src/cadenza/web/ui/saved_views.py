"""Saved views of the workflow list: a name for the list's query string (filters, columns,
order), stored on the server and shared by everyone on the namespace.

They are the UI's own state, not workflows', so they are kept through ``SavedViews``, a seam
the server hands the UI, whose changes are authorized and audited as calls of their own
(``cadenza.api.saved_view_calls``). The namespace is found through DescribeNamespace, so a
caller who may not see it cannot see its views.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from cadenza.api.saved_view_calls import ViewChange
from cadenza.web.tls_protocol import connection_certificate
from cadenza.web.ui.actions import confirmed_form
from cadenza.web.ui.rpc import CallFailed
from cadenza.web.ui.site import Site
from cadenza.web.ui.view_store import list_url, namespace_id
from cadenza.web.ui.workflows import Filters

MAX_NAME = 200
MAX_QUERY_STRING = 8192


async def save(site: Site, request: Request) -> Response:
    """``POST /namespaces/{namespace}/saved-views``: name the list as ``view`` (its query string) shows it."""
    form = await confirmed_form(site, request)
    if isinstance(form, Response):
        return form
    namespace = request.path_params["namespace"]
    name = form.get("name", "").strip()
    problem = _bad_name(name) or _bad_view(form.get("view", ""))
    if problem:
        return site.refused(request, 400, "Bad Request", problem)
    query_string = urlencode(Filters.of_params(QueryParams(form.get("view", ""))).params())
    try:
        owner = await namespace_id(site.rpc, namespace)
        change = ViewChange(namespace, owner, name, query_string, time.time())
        await site.saved_views.save_view(change, connection_certificate.get())
    except CallFailed as failure:
        return site.failed(request, failure)
    return RedirectResponse(list_url(namespace, query_string), status_code=303)


async def delete(site: Site, request: Request) -> Response:
    """``POST /namespaces/{namespace}/saved-views/{name}/delete``."""
    form = await confirmed_form(site, request)
    if isinstance(form, Response):
        return form
    namespace, name = request.path_params["namespace"], request.path_params["name"]
    try:
        owner = await namespace_id(site.rpc, namespace)
        await site.saved_views.delete_view(ViewChange(namespace, owner, name), connection_certificate.get())
    except CallFailed as failure:
        return site.failed(request, failure)
    return RedirectResponse(list_url(namespace, ""), status_code=303)


def _bad_name(name: str) -> str:
    if not name:
        return "give the view a name"
    if len(name) > MAX_NAME:
        return f"a view's name is at most {MAX_NAME} characters"
    if any(not character.isprintable() for character in name):
        return "a view's name is printable text"
    return ""


def _bad_view(view: str) -> str:
    if len(view) > MAX_QUERY_STRING:
        return f"the view's filters are over {MAX_QUERY_STRING} characters"
    return ""
