"""Where a batch's runner stands, saved with its counts: the page of targets it works on,
the position in that page, and the token of the listing's next page."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace

from cadenza.batches.targets import Target


@dataclass(frozen=True)
class Cursor:
    """A batch's position: ``page[at]`` is the next target; once the page is done, the
    next one is listed from ``token``, unless ``listed`` says there is none."""

    page: tuple[Target, ...] = ()
    at: int = 0
    token: bytes = b""
    listed: bool = False
    started: bool = False
    """Whether the runner has begun (counted its targets and listed its first page)."""

    def next_targets(self, most: int) -> tuple[Target, ...]:
        """Up to ``most`` targets from the position on, in this page."""
        return self.page[self.at : self.at + most]

    def advanced(self, by: int = 1) -> Cursor:
        return replace(self, at=self.at + by)

    def with_page(self, page: list[Target], token: bytes) -> Cursor:
        """The next page listed: start at its first target; no token, no page after it."""
        return replace(self, page=tuple(page), at=0, token=token, listed=not token, started=True)

    def encode(self) -> bytes:
        return json.dumps(
            {
                "page": [[t.workflow_id, t.run_id] for t in self.page],
                "at": self.at,
                "token": base64.b64encode(self.token).decode(),
                "listed": self.listed,
                "started": self.started,
            }
        ).encode()

    @classmethod
    def decode(cls, data: bytes) -> Cursor:
        raw = json.loads(data or b"{}")
        return cls(
            page=tuple(Target(str(w), str(r)) for w, r in raw.get("page", [])),
            at=int(raw.get("at", 0)),
            token=base64.b64decode(raw.get("token", "")),
            listed=bool(raw.get("listed", False)),
            started=bool(raw.get("started", False)),
        )
