"""The next-page token of the listings paged by offset: ``{"offset": n}`` as JSON bytes."""

from __future__ import annotations

import json

from cadenza.exceptions import InvalidArgumentError

_INVALID = "Invalid NextPageToken."


def offset_of(token: bytes) -> int:
    """The offset a token names: 0 for no token; a malformed one is InvalidArgument."""
    if not token:
        return 0
    try:
        offset = json.loads(token)["offset"]
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidArgumentError(_INVALID) from exc
    # bool is an int to Python, but `true` is no offset a token of ours ever held.
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidArgumentError(_INVALID)
    return offset


def token_for(offset: int) -> bytes:
    """The token that resumes a listing at ``offset``."""
    return json.dumps({"offset": offset}).encode()
