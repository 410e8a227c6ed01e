"""What every page shares: the templates, the RPCs, read-only mode, and the error page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.rpc import code_pb2
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from cadenza.web.temporal_api.statuses import HTTP_STATUS
from cadenza.web.ui import present
from cadenza.web.ui.rpc import CallFailed, Rpc
from cadenza.web.ui.view_store import SavedViews

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"


@dataclass(frozen=True)
class UiOptions:
    """How the UI is served."""

    default_namespace: str = "default"
    read_only: bool = False
    """Actions (signal, cancel...) hidden from the pages and refused (403) by the server."""
    audit_log: bool = False
    """The server records the audit log: the pages link to it."""


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = present.when
    environment.filters["status_name"] = present.status_name
    environment.filters["namespace_state"] = present.namespace_state
    environment.filters["event_type_name"] = present.event_type_name
    environment.filters["activity_state"] = present.activity_state
    return environment


class Site:
    """Renders pages; each page's handler asks it for the RPCs, the saved views and the options."""

    def __init__(self, rpc: Rpc, options: UiOptions, saved_views: SavedViews) -> None:
        self.rpc = rpc
        self.options = options
        self.saved_views = saved_views
        self._environment = _environment()

    def page(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = self._environment.get_template(template).render(
            request=request, read_only=self.options.read_only, audit_log=self.options.audit_log, **context
        )
        return HTMLResponse(html, status_code=status_code)

    def failed(self, request: Request, failure: CallFailed) -> HTMLResponse:
        """The page for a call the server refused: its status and message, as a client hears them;
        the sign-in form when the call lacked credentials."""
        if failure.status.code == code_pb2.UNAUTHENTICATED:
            return self.page(
                request,
                "login.html",
                status_code=401,
                title="Sign in",
                next=request.url.path if request.method == "GET" else "/",
                error="" if "no credentials" in failure.status.message else failure.status.message,
            )
        code = code_pb2.Code.Name(failure.status.code)
        return self.page(
            request,
            "error.html",
            status_code=HTTP_STATUS.get(failure.status.code, 500),
            title=code.replace("_", " ").title(),
            message=failure.status.message,
        )

    def refused(self, request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
        return self.page(request, "error.html", status_code=status_code, title=title, message=message)
