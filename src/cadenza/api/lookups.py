"""What a request names, looked up the same way by every RPC group.

The run a request names, the namespace a task token belongs to, and the rules
a namespace's search attributes are checked against: each found here once, so
the same request refused anywhere is refused in the same words.
"""

from __future__ import annotations

from typing import Protocol

from cadenza.config import Limits
from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine.tokens import TaskToken
from cadenza.history.service import HistoryService
from cadenza.namespaces import NamespaceRegistry
from cadenza.observability.hooks import about_run
from cadenza.persistence.records import ExecutionKey, NamespaceRecord
from cadenza.visibility import validation


class RunReference(Protocol):
    """A message naming a run: a WorkflowExecution, or a request with the same two fields."""

    @property
    def workflow_id(self) -> str: ...

    @property
    def run_id(self) -> str: ...


class TokenRequest(Protocol):
    """A request answering a task: the task's token and the namespace it is made in."""

    @property
    def task_token(self) -> bytes: ...

    @property
    def namespace(self) -> str: ...


class Runs:
    """Finds the run a request names, in the namespace it names."""

    def __init__(self, namespaces: NamespaceRegistry, history: HistoryService) -> None:
        self._namespaces = namespaces
        self._history = history

    async def key(
        self, namespace_name: str, execution: RunReference, first_execution_run_id: str = ""
    ) -> ExecutionKey:
        """The run a request names; with ``first_execution_run_id``, only within that chain."""
        namespace = await self._namespaces.get(namespace_name)
        if not execution.workflow_id:
            raise InvalidArgumentError("WorkflowId is not set on request.")
        key = await self._history.resolve_run(namespace.id, execution.workflow_id, execution.run_id)
        about_run(key.workflow_id, key.run_id)
        if first_execution_run_id:
            await self._history.check_chain(key, first_execution_run_id)
        return key


async def task_token(namespaces: NamespaceRegistry, request: TokenRequest) -> TaskToken:
    """The workflow, activity or query task token a request answers."""
    if not request.task_token:
        raise InvalidArgumentError("Task token not set on request.")
    token = TaskToken.decode(request.task_token)
    await check_token_namespace(namespaces, request.namespace, token.namespace_id)
    return token


async def check_token_namespace(
    namespaces: NamespaceRegistry, namespace_name: str, token_namespace_id: str
) -> None:
    """Refuse a token handed out in another namespace than the request names."""
    namespace = await namespaces.get(namespace_name)
    if namespace.id != token_namespace_id:
        raise InvalidArgumentError("Operation requested with a token from a different namespace.")


def search_attribute_rules(namespace: NamespaceRecord, limits: Limits) -> validation.Rules:
    """What search attributes given in ``namespace`` are checked against."""
    return validation.Rules(
        namespace.name,
        NamespaceRegistry.search_attribute_types(namespace),
        validation.SearchAttributeLimits(
            limits.search_attributes_number_of_keys,
            limits.search_attributes_size_of_value,
            limits.search_attributes_total_size,
        ),
    )
