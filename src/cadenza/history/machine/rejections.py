"""A command the server refuses: the workflow task fails with Temporal's cause."""

from __future__ import annotations

from temporalio.api.enums.v1 import WorkflowTaskFailedCause as Cause


class CommandRejected(Exception):
    """A command cannot be applied; the workflow task fails with ``cause``.

    With ``terminate`` the workflow cannot go on at all (a payload over the limit).
    """

    def __init__(self, cause: int, message: str, *, terminate: bool = False) -> None:
        super().__init__(message)
        self.cause = cause
        self.message = message
        self.terminate = terminate

    @property
    def full_message(self) -> str:
        """Temporal's form: the cause in CamelCase, then the message."""
        name = Cause.Name(self.cause).removeprefix("WORKFLOW_TASK_FAILED_CAUSE_")  # type: ignore[arg-type]
        camel = "".join(part.capitalize() for part in name.split("_"))
        return f"{camel}: {self.message}" if self.message else camel
