"""A schedule's actions, each confirmed on its page and each an ordinary RPC: pause and unpause
with a note, trigger now, backfill a time range, delete. Refused (403) in read-only mode and
from pages of other sites, as the workflow page's actions are."""

from __future__ import annotations

import datetime
import uuid
from urllib.parse import quote, urlencode

from google.protobuf.timestamp_pb2 import Timestamp
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from temporalio.api.enums.v1 import ScheduleOverlapPolicy
from temporalio.api.schedule.v1 import BackfillRequest, SchedulePatch, TriggerImmediatelyRequest
from temporalio.api.workflowservice.v1 import (
    DeleteScheduleRequest,
    DeleteScheduleResponse,
    PatchScheduleRequest,
    PatchScheduleResponse,
)

from cadenza.web.ui import schedule_specs
from cadenza.web.ui.actions import IDENTITY, BadForm, confirmed_form
from cadenza.web.ui.rpc import CallFailed
from cadenza.web.ui.schedules import schedule_path
from cadenza.web.ui.site import Site

PAUSED_NOTE = "Paused from the web UI"
UNPAUSED_NOTE = "Unpaused from the web UI"
"""Notes when none is given: an empty note would leave the schedule as it is."""


async def act_on_schedule(site: Site, request: Request) -> Response:
    action = request.path_params["action"]
    namespace = request.path_params["namespace"]
    schedule_id = request.path_params["schedule_id"]
    form = await confirmed_form(site, request)
    if isinstance(form, Response):
        return form
    try:
        if action == "delete":
            await site.rpc(
                "DeleteSchedule",
                DeleteScheduleRequest(namespace=namespace, schedule_id=schedule_id, identity=IDENTITY),
                DeleteScheduleResponse,
            )
            done = urlencode({"done": f"schedule {schedule_id} deleted"})
            return RedirectResponse(
                f"/namespaces/{quote(namespace, safe='')}/schedules?{done}", status_code=303
            )
        patch, done_text = _patch(action, form)
        await site.rpc(
            "PatchSchedule",
            PatchScheduleRequest(
                namespace=namespace,
                schedule_id=schedule_id,
                patch=patch,
                identity=IDENTITY,
                request_id=str(uuid.uuid4()),
            ),
            PatchScheduleResponse,
        )
    except BadForm as error:
        return site.refused(request, 400, "Bad Request", str(error))
    except CallFailed as failure:
        return site.failed(request, failure)
    done = urlencode({"done": done_text})
    return RedirectResponse(f"{schedule_path(namespace, schedule_id)}?{done}", status_code=303)


def _patch(action: str, form: dict[str, str]) -> tuple[SchedulePatch, str]:
    """The patch an action makes, and what the page says once it is made."""
    note = form.get("note", "").strip()
    if action == "pause":
        return SchedulePatch(pause=note or PAUSED_NOTE), "paused"
    if action == "unpause":
        return SchedulePatch(unpause=note or UNPAUSED_NOTE), "unpaused"
    if action == "trigger":
        trigger = TriggerImmediatelyRequest(overlap_policy=_overlap(form))
        return SchedulePatch(trigger_immediately=trigger), "triggered"
    if action == "backfill":
        start, end = _time(form, "start"), _time(form, "end")
        if end.ToDatetime() <= start.ToDatetime():
            raise BadForm("the backfill's end must come after its start")
        backfill = BackfillRequest(start_time=start, end_time=end, overlap_policy=_overlap(form))
        return SchedulePatch(backfill_request=[backfill]), "backfill requested"
    raise BadForm(f"no action {action!r}: expected pause, unpause, trigger, backfill or delete")


def _overlap(form: dict[str, str]) -> ScheduleOverlapPolicy.ValueType:
    """The form's overlap policy; none given means the schedule's own."""
    name = form.get("overlap", "").strip()
    if not name:
        return ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED
    policy = schedule_specs.overlap_policy(name)
    if policy is None:
        raise BadForm(
            f"overlap: no policy {name!r}, expected one of {', '.join(schedule_specs.OVERLAP_POLICIES)}"
        )
    return policy


def _time(form: dict[str, str], name: str) -> Timestamp:
    """A time the form gives (``2024-05-01T09:30``, as a datetime-local field sends it), read as
    UTC unless it names its offset."""
    text = form.get(name, "").strip()
    if not text:
        raise BadForm(f"{name}: give a time")
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise BadForm(f"{name}: not a time: {error}") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(datetime.UTC))
    return stamp
