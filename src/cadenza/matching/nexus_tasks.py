"""Nexus task queues: requests to Nexus handler workers, each awaiting its worker's answer.

As in Temporal, a Nexus request is not stored in the queue: the caller's history keeps the
durable record (an outbox entry), and the request waits here, in memory, for a handler to
poll it and answer, or for its deadline. A request that times out is tried again by its
outbox entry, so nothing is lost when the process dies.

With other replicas on the same database (``share``), a request is also offered to them
(``cadenza.matching.nexus_shared``): whichever replica's poll hands it out claims it first,
so exactly one handler gets it, and an answer reaching any replica is stored for the one
whose caller waits, which hears of it by announcement.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from cadenza.exceptions import InvalidArgumentError
from cadenza.matching import nexus_shared
from cadenza.matching.queue import PollerSeen, Queue, Waiters
from cadenza.persistence.errors import StorageError
from cadenza.persistence.replica_link import ReplicaLink

logger = logging.getLogger(__name__)

_TOKEN_KIND = "nexus-operation"
POLLER_MEMORY = 300.0
"""How long a poller is shown after its last poll."""
DEFAULT_DISPATCH_RATE = 100_000.0
"""The dispatch rate a Nexus poller is shown with: it cannot ask for one."""
RECENTLY_POLLED = 75.0
"""A queue polled here this recently keeps other replicas' requests for its next poll."""


@dataclass
class NexusTask:
    """One request on its way to a handler, and the future its answer resolves."""

    task_id: str
    namespace_id: str
    request: Any
    """The ``temporal.api.nexus.v1.Request`` to hand out."""
    expires_at: float
    """Monotonic time after which the request is no longer delivered or answered."""
    answer: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    shared: bool = False
    """Offered to the other replicas too, so handing it out here needs the claim as well."""
    remote: bool = False
    """Another replica's request: read from its row when claimed."""


@dataclass(frozen=True)
class NexusTaskToken:
    """The task token of a Nexus operation request: which request of which queue is answered."""

    namespace_id: str
    task_queue: str
    task_id: str

    def encode(self) -> bytes:
        return json.dumps({"k": _TOKEN_KIND, **asdict(self)}, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> NexusTaskToken | None:
        """The token, or None if ``data`` is not a Nexus operation token (a control task's)."""
        try:
            raw = json.loads(data)
        except ValueError as error:
            raise InvalidArgumentError("Error deserializing task token.") from error
        if not isinstance(raw, dict) or raw.pop("k", None) != _TOKEN_KIND:
            return None
        try:
            return cls(**raw)
        except TypeError as error:
            raise InvalidArgumentError("Error deserializing task token.") from error


class NexusTaskQueues:
    """Nexus requests by namespace and queue name, handed to long-polling handler workers."""

    def __init__(self, waiters: Waiters) -> None:
        self._waiters = waiters
        self._queues: dict[tuple[str, str], Queue[NexusTask]] = {}
        self._owned: dict[str, NexusTask] = {}
        """Requests whose caller waits here, by task ID."""
        self._pollers: dict[tuple[str, str], dict[str, PollerSeen]] = {}
        """Who polled each queue lately, for DescribeTaskQueue (kept when the queue goes idle)."""
        self._last_poll: dict[tuple[str, str], float] = {}
        self._link: ReplicaLink | None = None
        self._reading: set[asyncio.Task[None]] = set()

    def share(self, link: ReplicaLink) -> None:
        """Offer requests to the other replicas on ``link``'s database, and take theirs."""
        self._link = link

    async def dispatch(self, namespace_id: str, task_queue: str, request: Any, timeout: float) -> Any:
        """Hand ``request`` to the queue's next poll (here or, shared, on any replica) and wait
        for the worker's answer: the RespondNexusTaskCompleted/Failed request. ``TimeoutError``
        if none came in time."""
        task = NexusTask(
            uuid.uuid4().hex, namespace_id, request, time.monotonic() + timeout, shared=self._link is not None
        )
        self._owned[task.task_id] = task
        try:
            async with asyncio.timeout(timeout):
                if self._link is not None:
                    offered = nexus_shared.offered(
                        task.task_id, self._link.replica_id, namespace_id, task_queue, request
                    )
                    await self._link.offer_query(offered)
                self._queue((namespace_id, task_queue)).offer(task)
                return await asyncio.shield(task.answer)
        finally:
            task.expires_at = 0.0  # a poll that finds it later skips it
            self._owned.pop(task.task_id, None)
            if task.shared:
                await asyncio.shield(self._drop(task.task_id))

    async def poll(
        self, namespace_id: str, name: str, timeout: float, worker_key: str, identity: str = ""
    ) -> NexusTask | None:
        """Wait up to ``timeout`` seconds for a live request."""
        if self._waiters.has_left(worker_key):
            return None
        key = (namespace_id, name)
        self._last_poll[key] = time.monotonic()
        if identity:
            seen = self._pollers.setdefault(key, {})
            seen[identity] = PollerSeen(time.time(), DEFAULT_DISPATCH_RATE)
            for stale in [i for i, p in seen.items() if time.time() - p.last_access_time > POLLER_MEMORY]:
                del seen[stale]
        deadline = time.monotonic() + timeout
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                task = await self._take(key, remaining, worker_key)
                if task is None:
                    return None
                if self._live(task) and await self._claimed(task):
                    return task
            return None
        finally:
            self._last_poll[key] = time.monotonic()
            left = self._queues.get(key)
            if left is not None and left.idle:
                del self._queues[key]

    @staticmethod
    def _live(task: NexusTask) -> bool:
        return task.expires_at > time.monotonic() and not task.answer.done()

    async def _claimed(self, task: NexusTask) -> bool:
        """Whether this replica may hand ``task`` out: always alone, else if it won the claim
        (and then another replica's request is read from the claimed row)."""
        if not (task.shared or task.remote) or self._link is None:
            return True
        try:
            row = await self._link.claim_query(nexus_shared.row_id(task.task_id))
        except StorageError as exc:
            logger.warning("could not claim Nexus request %s: %s", task.task_id, exc)
            return False
        if row is None:
            return False
        if task.remote:
            task.request, task.expires_at = nexus_shared.request_of(row)
        return task.expires_at > time.monotonic()

    async def _take(self, key: tuple[str, str], timeout: float, worker_key: str) -> NexusTask | None:
        queue = self._queue(key)
        if queue.items:
            return queue.items.popleft()

        def requeue(task: NexusTask) -> None:
            self._queue(key).offer(task)

        return await self._waiters.wait(queue, timeout, worker_key, requeue)

    def pollers(self, namespace_id: str, name: str) -> dict[str, PollerSeen]:
        """Identities that polled the queue recently, with their last poll."""
        return dict(self._pollers.get((namespace_id, name), {}))

    async def answer(self, namespace_id: str, task_id: str, response: Any) -> bool:
        """A worker answered a request; False if it is unknown, expired or answered already.

        The caller may wait here, or on the replica that offered it, which then reads the
        answer stored for it."""
        task = self._owned.get(task_id)
        if task is not None:
            if task.namespace_id != namespace_id or task.answer.done():
                return False
            task.answer.set_result(response)
            return True
        if self._link is None:
            return False
        row = nexus_shared.row_id(task_id)
        return await self._link.answer_nexus_request(row, namespace_id, nexus_shared.reply_of(response))

    # -- other replicas -----------------------------------------------------------------------------

    def offered_elsewhere(self, row: str, namespace_id: str, task_queue: str) -> None:
        """Another replica offered a request: keep it for the next poll if handlers poll here."""
        task_id = nexus_shared.task_id_of(row)
        key = (namespace_id, task_queue)
        if task_id in self._owned or not self._polled_lately(key):
            return
        expires = time.monotonic() + nexus_shared.DEFAULT_TIMEOUT  # until the claim says better
        self._queue(key).offer(NexusTask(task_id, namespace_id, None, expires, remote=True))

    def _polled_lately(self, key: tuple[str, str]) -> bool:
        queue = self._queues.get(key)
        if queue is not None and any(not poller.done() for poller in queue.pollers):
            return True
        return time.monotonic() - self._last_poll.get(key, float("-inf")) < RECENTLY_POLLED

    def starving_queues(self) -> list[tuple[str, str]]:
        """Queues whose polls wait with nothing to hand them."""
        self._forget_unpolled()
        return [
            key
            for key, queue in self._queues.items()
            if not queue.items and any(not poller.done() for poller in queue.pollers)
        ]

    def _forget_unpolled(self) -> None:
        """Drop what other replicas offered to queues nobody polls here any more: their
        handlers poll elsewhere, and the rows stay for those replicas to hand out."""
        for key in [k for k in self._last_poll if not self._polled_lately(k)]:
            del self._last_poll[key]
            queue = self._queues.get(key)
            if queue is None:
                continue
            kept = [task for task in queue.items if not task.remote]
            queue.items.clear()
            for task in kept:
                queue.items.append(task)
            if queue.idle:
                del self._queues[key]

    def answered_elsewhere(self, row: str) -> None:
        """Another replica stored the answer to a request made here: read it for its caller."""
        task = self._owned.get(nexus_shared.task_id_of(row))
        if task is None or task.answer.done():
            return
        reading = asyncio.create_task(self._read_answer(row, task))
        self._reading.add(reading)
        reading.add_done_callback(self._reading.discard)

    def answers_missed(self) -> None:
        """Announcements may have gone unheard: look for the answers of every shared request."""
        for task in list(self._owned.values()):
            if task.shared:
                self.answered_elsewhere(nexus_shared.row_id(task.task_id))

    async def _read_answer(self, row: str, task: NexusTask) -> None:
        assert self._link is not None
        try:
            reply = await self._link.query_reply(row)
        except StorageError as exc:
            logger.warning("could not read the answer to Nexus request %s: %s", row, exc)
            return  # the request times out and its outbox entry sends it again
        if reply is not None and not task.answer.done():
            task.answer.set_result(nexus_shared.answer_of(reply))

    async def _drop(self, task_id: str) -> None:
        """The caller is done: drop the stored request (left behind, other replicas drop it
        once this one's lease runs out)."""
        assert self._link is not None
        try:
            await self._link.drop_query(nexus_shared.row_id(task_id))
        except StorageError as exc:
            logger.warning("could not drop Nexus request %s: %s", task_id, exc)

    def _queue(self, key: tuple[str, str]) -> Queue[NexusTask]:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = Queue()
        return queue
