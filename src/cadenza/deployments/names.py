"""Version names and the internal queues a version's pollers wait on (pure, no I/O).

A version is named as Temporal names it, ``<deployment>.<build ID>``. The pollers of one
version poll a queue of their own, named under ``/_sys/``, a prefix no user's task queue
may take, so matching keeps a version's tasks apart from the unversioned queue's.
"""

from __future__ import annotations

import zlib

from cadenza.exceptions import InvalidArgumentError

DELIMITER = "."
UNVERSIONED = "__unversioned__"
"""How Temporal's version strings name the unversioned workers."""
INTERNAL_PREFIX = "/_sys/"
VERSION_MARK = "/@"


def version_name(deployment: str, build_id: str) -> str:
    return f"{deployment}{DELIMITER}{build_id}"


def split_version(version: str) -> tuple[str, str]:
    """(deployment, build ID) of ``<deployment>.<build ID>``; ValueError if it has no dot."""
    deployment, dot, build_id = version.partition(DELIMITER)
    if not dot or not deployment or not build_id:
        raise ValueError(version)
    return deployment, build_id


def parsed_version(version: str) -> tuple[str, str]:
    """(deployment, build ID) of a version string a request gave; InvalidArgumentError, in
    Temporal's words, when it is not ``<deployment>.<build ID>``."""
    try:
        return split_version(version)
    except ValueError:
        raise InvalidArgumentError(
            f'invalid version string "{version}", expected format is "<deployment_name>.<build_id>"'
        ) from None


def versioned_queue(task_queue: str, version: str) -> str:
    """The queue where the pollers of ``version`` wait for the work of ``task_queue``."""
    return f"{INTERNAL_PREFIX}{task_queue}{VERSION_MARK}{version}"


def is_internal(task_queue: str) -> bool:
    return task_queue.startswith(INTERNAL_PREFIX)


def user_queue(task_queue: str) -> str:
    """The user's task queue behind a version's queue (itself if it is one already)."""
    if not is_internal(task_queue) or VERSION_MARK not in task_queue:
        return task_queue
    return task_queue[len(INTERNAL_PREFIX) :].rpartition(VERSION_MARK)[0]


def in_ramp(workflow_id: str, percentage: float) -> bool:
    """Whether a workflow falls in a ramp of ``percentage``: the same answer for one
    workflow ID every time, so a ramping workflow does not move back and forth."""
    return zlib.crc32(workflow_id.encode()) % 10000 < percentage * 100
