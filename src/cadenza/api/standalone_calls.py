"""What the standalone activity and standalone Nexus operation RPCs share: run IDs, long-poll
waits, search attributes as stored, pages of the standalone runs' table and count groups.

Both kinds of run live in the same table (``persistence/standalone_sql``), so they page,
filter and count alike; each RPC module keeps what is its own.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

from temporalio.api.common.v1 import SearchAttributes

from cadenza.api.requests import deadline_of
from cadenza.exceptions import InvalidArgumentError
from cadenza.protoutil import keyword_payload
from cadenza.visibility import attributes as attrs

DESCRIBE_LONG_POLL_SECONDS = 20.0
"""How long a describe with a long-poll token waits for a change."""
MAX_PAGE_SIZE = 1000

PageKey = tuple[float, str, str]
"""Where a page of standalone runs ends: a run's start time, its (activity or operation) ID
and its run ID."""


def check_run_id(run_id: str) -> None:
    """A run ID a request gives must be a UUID; none at all means the latest run."""
    if run_id:
        try:
            uuid.UUID(run_id)
        except ValueError as exc:
            raise InvalidArgumentError("invalid run id: must be a valid UUID") from exc


def wait_seconds(context: Any, longest: float) -> float:
    """How long a long poll may wait: the server's longest, and short of the caller's deadline."""
    return max(0.0, min(longest, deadline_of(context) - time.monotonic()))


def search_json(search_attributes: SearchAttributes, types: dict[str, int]) -> str:
    """A new run's search attributes as its row stores them for filtering."""
    values: dict[str, object] = {}
    for name, payload in search_attributes.indexed_fields.items():
        kind = types.get(name, attrs.SYSTEM_CUSTOM.get(name, attrs.KEYWORD))
        try:
            values[name] = attrs.stored_value(kind, attrs.decode(payload))
        except Exception:  # an unreadable value is shown but cannot be filtered on
            continue
    return json.dumps(values)


def page_limit(page_size: int) -> int:
    return page_size if 0 < page_size <= MAX_PAGE_SIZE else MAX_PAGE_SIZE


def page_after(token: bytes) -> PageKey | None:
    """Where the page a token continues ended; None for no token."""
    if not token:
        return None
    try:
        start, run_key, run_id = json.loads(token)
    except (ValueError, TypeError) as exc:
        raise InvalidArgumentError("invalid page token") from exc
    if not (isinstance(start, int | float) and isinstance(run_key, str) and isinstance(run_id, str)):
        raise InvalidArgumentError("invalid page token")
    return float(start), run_key, run_id


def page_token(last: PageKey) -> bytes:
    """The token of the page that starts after the run ``last`` names."""
    return json.dumps(list(last)).encode()


def copy_set_fields(source: Any, target: Any, names: Iterable[str]) -> None:
    """Copy each of the message fields ``names`` that ``source`` has set onto ``target``."""
    for name in names:
        if source.HasField(name):
            getattr(target, name).CopyFrom(getattr(source, name))


def status_counts(rows: Iterable[tuple[Any, int]], names: dict[int, str]) -> list[tuple[str, int]]:
    """Counts grouped by status number, each named (``Unspecified`` for a number not named)."""
    return [(names.get(int(status or 0), "Unspecified"), count) for status, count in rows]


def add_groups(groups: Any, named: Iterable[tuple[str, int]]) -> None:
    """A count's groups, one a status name, its value a Keyword payload as Temporal's are."""
    for name, count in named:
        groups.add(count=count).group_values.append(keyword_payload(name))
