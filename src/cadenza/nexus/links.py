"""Links between a caller's and a handler's events, as Nexus carries them: ``temporal://`` URLs.

A Nexus request carries links as URLs; Temporal's histories hold them as
``temporal.api.common.v1.Link`` messages. The URL form is the one the real server and the SDKs
read and write: ``temporal:///namespaces/{ns}/workflows/{id}/{run}/history?eventID=..&
eventType=..&referenceType=EventReference``.
"""

from __future__ import annotations

import re
import urllib.parse

from temporalio.api.common.v1 import Link
from temporalio.api.enums.v1 import EventType
from temporalio.api.nexus.v1 import Link as NexusLink

WORKFLOW_EVENT_TYPE = "temporal.api.common.v1.Link.WorkflowEvent"
_PATH = re.compile(r"^/namespaces/(?P<ns>[^/]+)/workflows/(?P<wid>[^/]+)/(?P<rid>[^/]+)/history$")


def _short_name(event_type: int) -> str:
    """``EVENT_TYPE_NEXUS_OPERATION_SCHEDULED`` as a link names it: ``NexusOperationScheduled``."""
    words = EventType.Name(event_type).removeprefix("EVENT_TYPE_").split("_")  # type: ignore[arg-type]
    return "".join(word.capitalize() for word in words)


def _event_type(short_name: str) -> int:
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", short_name).upper()
    try:
        return EventType.Value(f"EVENT_TYPE_{snake}")
    except ValueError:
        return EventType.EVENT_TYPE_UNSPECIFIED


def event_url(namespace: str, workflow_id: str, run_id: str, event_id: int, event_type: int) -> str:
    def quote(value: str) -> str:
        return urllib.parse.quote(value, safe="")

    query = urllib.parse.urlencode(
        {"eventID": event_id, "eventType": _short_name(event_type), "referenceType": "EventReference"}
    )
    return f"temporal:///namespaces/{quote(namespace)}/workflows/{quote(workflow_id)}/{quote(run_id)}/history?{query}"


def event_link(namespace: str, workflow_id: str, run_id: str, event_id: int, event_type: int) -> Link:
    link = Link()
    event = link.workflow_event
    event.namespace, event.workflow_id, event.run_id = namespace, workflow_id, run_id
    event.event_ref.event_id = event_id
    event.event_ref.event_type = event_type  # type: ignore[assignment]
    return link


def to_nexus(link: Link) -> NexusLink | None:
    """A workflow-event link as a Nexus link; None for any other kind."""
    if not link.HasField("workflow_event"):
        return None
    event = link.workflow_event
    url = event_url(
        event.namespace, event.workflow_id, event.run_id, event.event_ref.event_id, event.event_ref.event_type
    )
    return NexusLink(url=url, type=WORKFLOW_EVENT_TYPE)


def from_nexus(link: NexusLink) -> Link | None:
    """A Nexus link to a workflow event as a Temporal link; None for one it cannot read."""
    if link.type != WORKFLOW_EVENT_TYPE:
        return None
    url = urllib.parse.urlsplit(link.url)
    match = _PATH.match(url.path)
    if url.scheme != "temporal" or match is None:
        return None
    query = dict(urllib.parse.parse_qsl(url.query))
    unquoted = {name: urllib.parse.unquote(value) for name, value in match.groupdict().items()}
    result = Link()
    event = result.workflow_event
    event.namespace, event.workflow_id, event.run_id = unquoted["ns"], unquoted["wid"], unquoted["rid"]
    event_type = _event_type(query.get("eventType", ""))
    if query.get("referenceType") == "RequestIdReference":
        event.request_id_ref.request_id = query.get("requestID", "")
        event.request_id_ref.event_type = event_type  # type: ignore[assignment]
    else:
        event.event_ref.event_id = int(query.get("eventID", "0") or 0)
        event.event_ref.event_type = event_type  # type: ignore[assignment]
    return result
