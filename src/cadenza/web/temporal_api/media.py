"""Which JSON style a request is read and answered in, chosen as the real server chooses.

The real server registers its marshalers with grpc-gateway by media type: the
default one (``*``: payload shorthand, compact) and ``application/json+pretty``,
``application/json+no-payload-shorthand`` and
``application/json+pretty+no-payload-shorthand``. ``?pretty`` and
``?noPayloadShorthand`` (by presence) replace the request's Accept header with
the matching type. The answer's style is the one the Accept header names
exactly, else the request's; the request's is the one its Content-Type names,
else the default. Each answer says its style's media type as Content-Type, the
default's being ``*`` as on the real server.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import Message as MimeHeader

from cadenza.web.temporal_api.json_encode import Style

JSON = "application/json"

DEFAULT = Style("*", shorthand=True)
"""The style of a request that names none of the others (plain ``application/json`` included)."""

STYLES = {
    f"{JSON}+pretty+no-payload-shorthand": Style(
        f"{JSON}+pretty+no-payload-shorthand", shorthand=False, pretty=True
    ),
    f"{JSON}+no-payload-shorthand": Style(f"{JSON}+no-payload-shorthand", shorthand=False),
    f"{JSON}+pretty": Style(f"{JSON}+pretty", shorthand=True, pretty=True),
}


def accept_override(query_names: Sequence[str]) -> str | None:
    """The Accept value ``?pretty`` and ``?noPayloadShorthand`` stand for, if either is given."""
    suffix = ""
    if "pretty" in query_names:
        suffix += "+pretty"
    if "noPayloadShorthand" in query_names:
        suffix += "+no-payload-shorthand"
    return JSON + suffix if suffix else None


def media_type(header: str) -> str:
    """A Content-Type's media type without its parameters (``application/json; charset=utf-8``)."""
    parsed = MimeHeader()
    parsed["content-type"] = header
    return parsed.get_content_type() if "/" in header else header.strip().lower()


def styles_for(
    accepts: Sequence[str], content_types: Sequence[str], query_names: Sequence[str]
) -> tuple[Style, Style]:
    """The (request, answer) styles for these headers (each a list of the header's lines)."""
    override = accept_override(query_names)
    if override is not None:
        accepts = [override]
    inbound = next(
        (STYLES[kind] for kind in (media_type(c) for c in content_types) if kind in STYLES), DEFAULT
    )
    outbound = next((STYLES[accept] for accept in accepts if accept in STYLES), inbound)
    return inbound, outbound
