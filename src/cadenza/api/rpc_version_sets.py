"""Worker versioning v0.1's data API, served as Temporal 1.32 serves it when its dynamic config
sets ``frontend.workerVersioningDataAPIs``: a task queue's compatible version sets are changed
and read, and each build ID's reachability is told from them.

Only the data is served: task dispatch does not follow version sets (see the README's
versioning section). So reachability is what the sets alone decide — a set's default build ID
takes new workflows — and never reports existing, open or closed workflows.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio.api.enums.v1 import TaskReachability
from temporalio.api.taskqueue.v1 import BuildIdReachability, CompatibleVersionSet, TaskQueueReachability
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.exceptions import InvalidArgumentError
from cadenza.matching import version_sets as vs
from cadenza.matching.version_set_book import VersionSetBook
from cadenza.validation import check_length, length_of

MAX_BUILD_ID = 255
"""Temporal's ``limit.workerBuildIdSize``."""
MAX_REACHABILITY_BUILD_IDS = 5
"""Temporal's ``limit.reachabilityQueryBuildIds``."""
MAX_REACHABILITY_QUEUES = 20
"""Temporal's ``limit.reachabilityTaskQueueScan``: queues past it are reported unchecked."""

UPDATE_REQUIRES = "request to update worker build ID compatability requires: "
BUILD_ID_TOO_LONG = f" Worker build IDs to be no larger than {MAX_BUILD_ID} characters"

Request = wsv1.UpdateWorkerBuildIdCompatibilityRequest


async def update(book: VersionSetBook, namespace_id: str, request: Request) -> None:
    """Apply the one operation a request names to its queue's sets."""
    _check_update(request)
    check_length(request.task_queue, "taskQueue length exceeds limit")
    await book.update(namespace_id, request.task_queue, _change(request))


def _change(request: Request) -> Callable[[vs.VersionSets], None]:
    operation = request.WhichOneof("operation")
    if operation == "add_new_build_id_in_new_default_set":
        return lambda state: vs.add_new_default(state, request.add_new_build_id_in_new_default_set)
    if operation == "add_new_compatible_build_id":
        add = request.add_new_compatible_build_id
        return lambda state: vs.add_compatible(
            state, add.new_build_id, add.existing_compatible_build_id, add.make_set_default
        )
    if operation == "promote_set_by_build_id":
        return lambda state: vs.promote_set(state, request.promote_set_by_build_id)
    if operation == "promote_build_id_within_set":
        return lambda state: vs.promote_within_set(state, request.promote_build_id_within_set)
    merge = request.merge_sets
    return lambda state: vs.merge_sets(state, merge.primary_set_build_id, merge.secondary_set_build_id)


def _check_update(request: Request) -> None:
    """Every missing or oversized field, named in one refusal as the real server does."""
    problems = []
    if not request.task_queue:
        problems.append("`task_queue` to be set")
    operation = request.WhichOneof("operation")
    if operation is None:
        problems.append("an operation to be specified")
    elif operation == "add_new_build_id_in_new_default_set":
        _check_new_id(
            request.add_new_build_id_in_new_default_set, "add_new_version_id_in_new_default_set", problems
        )
    elif operation == "add_new_compatible_build_id":
        add = request.add_new_compatible_build_id
        _check_new_id(add.new_build_id, "add_new_compatible_version", problems)
        if not add.existing_compatible_build_id:
            problems.append("`existing_compatible_version` to be set")
    elif operation == "promote_set_by_build_id":
        _check_new_id(request.promote_set_by_build_id, "promote_set_by_version_id", problems)
    elif operation == "promote_build_id_within_set":
        _check_new_id(request.promote_build_id_within_set, "promote_version_id_within_set", problems)
    if problems:
        raise InvalidArgumentError(UPDATE_REQUIRES + "".join(f", {problem}" for problem in problems))


def _check_new_id(build_id: str, field: str, problems: list[str]) -> None:
    """A build ID the operation names first: given, and short enough."""
    if not build_id:
        problems.append(f"`{field}` to be set")
    elif length_of(build_id) > MAX_BUILD_ID:
        problems.append(BUILD_ID_TOO_LONG)


async def get(
    book: VersionSetBook, namespace_id: str, request: wsv1.GetWorkerBuildIdCompatibilityRequest
) -> wsv1.GetWorkerBuildIdCompatibilityResponse:
    """The queue's sets, oldest first; with ``max_sets``, only that many of the newest."""
    if not request.task_queue:
        raise InvalidArgumentError("missing task queue name")
    check_length(request.task_queue, "taskQueue length exceeds limit")
    names = (await book.get(namespace_id, request.task_queue)).names()
    if request.max_sets > 0:
        names = names[-request.max_sets :]
    sets = [CompatibleVersionSet(build_ids=members) for members in names]
    return wsv1.GetWorkerBuildIdCompatibilityResponse(major_version_sets=sets)


async def reachability(
    book: VersionSetBook, namespace_id: str, request: wsv1.GetWorkerTaskReachabilityRequest
) -> wsv1.GetWorkerTaskReachabilityResponse:
    """For each build ID, each queue asked about (or else each queue whose sets hold it); only
    the first ``MAX_REACHABILITY_QUEUES`` are checked, so one request reads a bounded number."""
    _check_reachability(request)
    response = wsv1.GetWorkerTaskReachabilityResponse()
    known: dict[str, vs.VersionSets] = {}
    budget = MAX_REACHABILITY_QUEUES
    for build_id in request.build_ids:
        entry = BuildIdReachability(build_id=build_id)
        queues = list(request.task_queues) or await book.queues_holding(namespace_id, build_id)
        for queue in queues:
            if budget <= 0:  # over the scan limit: listed, not checked
                unchecked = [TaskReachability.TASK_REACHABILITY_UNSPECIFIED]
                entry.task_queue_reachability.append(
                    TaskQueueReachability(task_queue=queue, reachability=unchecked)
                )
                continue
            budget -= 1
            if queue not in known:
                known[queue] = await book.get(namespace_id, queue)
            reachable = _reachable(build_id, known[queue])
            entry.task_queue_reachability.append(
                TaskQueueReachability(task_queue=queue, reachability=reachable)
            )
        response.build_id_reachability.append(entry)
    return response


def _reachable(build_id: str, state: vs.VersionSets) -> list[TaskReachability.ValueType]:
    """A set's default build ID may take new workflows (the queue's default takes new ones, a
    set's default those started compatible with it: children and continue-as-new); unversioned
    workers (build ID "") are reported as taking them too, as the real server does while a
    queue has no versioning rules."""
    if build_id == "" or build_id in state.set_defaults():
        return [TaskReachability.TASK_REACHABILITY_NEW_WORKFLOWS]
    return []


def _check_reachability(request: wsv1.GetWorkerTaskReachabilityRequest) -> None:
    """The real server's checks, in its order: build IDs, then task queues, then the type."""
    if not request.build_ids:
        raise InvalidArgumentError(
            "Must query at least one build ID (or empty string for unversioned worker)"
        )
    if len(request.build_ids) > MAX_REACHABILITY_BUILD_IDS:
        raise InvalidArgumentError(f"Too many build ids queried at once, limit: {MAX_REACHABILITY_BUILD_IDS}")
    if any(length_of(build_id) > MAX_BUILD_ID for build_id in request.build_ids):
        raise InvalidArgumentError(
            "Build ID exceeds configured limit.workerBuildIdSize, use a shorter build ID."
        )
    if "" in request.build_ids and not request.task_queues:
        raise InvalidArgumentError(
            "Cannot get reachability of an unversioned worker without specifying at least one task "
            "queue (empty build ID is interpereted as unversioned)"
        )
    for queue in request.task_queues:
        if not queue:
            raise InvalidArgumentError("missing task queue name")
        check_length(queue, "taskQueue length exceeds limit")
    if request.reachability not in TaskReachability.values():
        raise InvalidArgumentError(f"Unsupported reachability type: {request.reachability}")
