"""The search attributes and memos workflow-task commands carry, checked as Temporal checks them.

A value that does not fit its attribute fails the workflow task with
BAD_SEARCH_ATTRIBUTES; search attributes or a memo over a size limit end the
workflow, as on Temporal. The checks themselves are ``cadenza.visibility.validation``'s,
the same a start request goes through.
"""

from __future__ import annotations

from temporalio.api.command.v1 import (
    ContinueAsNewWorkflowExecutionCommandAttributes,
    ModifyWorkflowPropertiesCommandAttributes,
    StartChildWorkflowExecutionCommandAttributes,
    UpsertWorkflowSearchAttributesCommandAttributes,
)
from temporalio.api.common.v1 import Memo, SearchAttributes
from temporalio.api.enums.v1 import TaskQueueKind
from temporalio.api.enums.v1 import WorkflowTaskFailedCause as Cause

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine.rejections import CommandRejected
from cadenza.visibility import validation


def check_upsert(
    attrs: UpsertWorkflowSearchAttributesCommandAttributes, rules: validation.Rules | None
) -> None:
    if not attrs.search_attributes.indexed_fields:
        raise CommandRejected(
            Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES,
            "IndexedFields is not set on UpsertWorkflowSearchAttributesCommand.",
        )
    _check_search_attributes(attrs.search_attributes, rules)


def check_modify_properties(attrs: ModifyWorkflowPropertiesCommandAttributes, memo_limit: int) -> None:
    _check_memo(
        attrs.upserted_memo,
        memo_limit,
        Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_MODIFY_WORKFLOW_PROPERTIES_ATTRIBUTES,
        "ModifyWorkflowPropertiesCommandAttributes exceeds size limit.",
    )


def check_child(
    attrs: StartChildWorkflowExecutionCommandAttributes,
    namespace: str,
    rules: validation.Rules | None,
    memo_limit: int,
) -> None:
    """The child's search attributes, by the rules of ``namespace``, where it starts."""
    _check_search_attributes(
        attrs.search_attributes,
        rules,
        "invalid SearchAttributes on StartChildWorkflowCommand: ",
        f". WorkflowId={attrs.workflow_id} WorkflowType={attrs.workflow_type.name} Namespace={namespace}",
    )
    _check_memo(
        attrs.memo,
        memo_limit,
        Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES,
        "StartChildWorkflowExecutionCommandAttributes.Memo exceeds size limit.",
    )


def check_continue_as_new(
    attrs: ContinueAsNewWorkflowExecutionCommandAttributes, rules: validation.Rules | None, memo_limit: int
) -> None:
    queue = attrs.task_queue
    kind = TaskQueueKind.Name(queue.kind or TaskQueueKind.TASK_QUEUE_KIND_NORMAL)
    _check_search_attributes(
        attrs.search_attributes,
        rules,
        "invalid SearchAttributes on ContinueAsNewWorkflowExecutionCommand: ",
        f'. WorkflowType={attrs.workflow_type.name} TaskQueue=name:"{queue.name}"  kind:{kind}',
    )
    _check_memo(
        attrs.memo,
        memo_limit,
        Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES,
        "ContinueAsNewWorkflowExecutionCommandAttributes. Memo exceeds size limit.",
    )


def _check_search_attributes(
    given: SearchAttributes, rules: validation.Rules | None, before: str = "", after: str = ""
) -> None:
    """Temporal's messages, framed by ``before`` and ``after`` as it frames them per command.

    Without rules (a namespace that does not exist) there is nothing to check against:
    the command is refused for the namespace before it gets here.
    """
    if rules is None:
        return
    cause = Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES
    try:
        validation.check_values(given, rules)
        validation.check_sizes(given, rules.limits)
    except validation.SearchAttributeSizeError as exc:
        raise CommandRejected(cause, f"{before}{exc.message}{after}", terminate=True) from exc
    except InvalidArgumentError as exc:
        raise CommandRejected(cause, f"{before}{exc.message}{after}") from exc


def _check_memo(memo: Memo, limit: int, cause: int, message: str) -> None:
    if memo.ByteSize() > limit:
        raise CommandRejected(cause, message, terminate=True)
