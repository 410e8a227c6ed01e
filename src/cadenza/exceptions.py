"""One exception tree for every error a client can be told about.

The engine raises these; ``cadenza.api.errors`` is the only place that turns
them into gRPC statuses with Temporal's error details.
"""

from __future__ import annotations


class CadenzaError(Exception):
    """Base of every error Cadenza reports to a client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgumentError(CadenzaError):
    """The request is malformed; nothing was changed."""


class NotFoundError(CadenzaError):
    """The execution, task or other entity the request names does not exist."""


class NamespaceNotFoundError(CadenzaError):
    """The namespace the request names is not registered."""

    def __init__(self, namespace: str) -> None:
        super().__init__(f"Namespace {namespace} is not found.")
        self.namespace = namespace


class NamespaceAlreadyExistsError(CadenzaError):
    """RegisterNamespace named a namespace that is already registered."""


class WorkflowAlreadyStartedError(CadenzaError):
    """A running execution already holds the requested workflow ID."""

    def __init__(self, message: str, start_request_id: str, run_id: str) -> None:
        super().__init__(message)
        self.start_request_id = start_request_id
        self.run_id = run_id


class ActivityAlreadyStartedError(CadenzaError):
    """A standalone activity's ID is taken, and its ID policies allow neither a new run nor
    the running one."""

    def __init__(self, message: str, start_request_id: str, run_id: str) -> None:
        super().__init__(message)
        self.start_request_id = start_request_id
        self.run_id = run_id


class NexusOperationAlreadyStartedError(ActivityAlreadyStartedError):
    """A standalone Nexus operation's ID is taken, and its ID policies allow neither a new run
    nor the running one."""


class QueryFailedError(CadenzaError):
    """The workflow's query handler failed or does not exist."""

    def __init__(self, message: str, failure: object = None) -> None:
        super().__init__(message)
        self.failure = failure


class DeadlineExceededError(CadenzaError):
    """The call's deadline passed before it could be answered."""


class FailedPreconditionError(CadenzaError):
    """The request is well formed but the execution's state does not allow it."""


class ResourceExhaustedError(CadenzaError):
    """A safety limit was hit; ``cause`` and ``scope`` (Temporal's enum values), when set,
    travel in a ``ResourceExhaustedFailure`` detail."""

    def __init__(self, message: str, cause: int = 0, scope: int = 0) -> None:
        super().__init__(message)
        self.cause = cause
        self.scope = scope


class PermissionDeniedError(CadenzaError):
    """The namespace does not allow what the request asks (a feature it has disabled)."""


class UnimplementedError(CadenzaError):
    """The API exists in Temporal but Cadenza does not serve it yet."""


class MultiOperationError(CadenzaError):
    """One operation of an ExecuteMultiOperation failed, so none of them ran.

    `errors` holds one entry per operation: the error of the one that failed,
    None for those aborted because of it.
    """

    def __init__(self, errors: list[CadenzaError | None]) -> None:
        super().__init__("Update-with-Start could not be executed.")
        self.errors = errors

    @property
    def cause(self) -> CadenzaError:
        """The error of the operation that failed."""
        return next(error for error in self.errors if error is not None)


class ConcurrentUpdateError(Exception):
    """A conditional write lost to another writer; the caller reloads and retries.

    Internal: never reaches a client.
    """


class ScheduleAlreadyExistsError(WorkflowAlreadyStartedError):
    """CreateSchedule named a schedule ID that is taken (Temporal's details say so too)."""

    def __init__(self, schedule_id: str, request_id: str) -> None:
        super().__init__(f'schedule "{schedule_id}" is already registered', request_id, "")


class AlreadyExistsError(CadenzaError):
    """Something other than a namespace or workflow already holds the name asked for."""
