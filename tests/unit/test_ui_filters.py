"""The workflow list's quick filters become one filter in Temporal's list-filter language."""

from __future__ import annotations

from cadenza.web.ui.workflows import Filters


def test_quick_filters_are_joined_to_the_query_with_and() -> None:
    filters = Filters(query='StartTime > "2024-01-01T00:00:00Z"', status="Failed", workflow_type="Order")
    assert filters.full() == (
        '(StartTime > "2024-01-01T00:00:00Z") AND WorkflowType = "Order" AND ExecutionStatus = "Failed"'
    )
    assert filters.without_status() == '(StartTime > "2024-01-01T00:00:00Z") AND WorkflowType = "Order"'
    assert Filters().full() == ""


def test_quotes_and_backslashes_in_a_value_stay_inside_its_string() -> None:
    assert Filters(workflow_id='a"b\\c').full() == 'WorkflowId = "a\\"b\\\\c"'


def test_the_url_keeps_only_the_filters_set() -> None:
    filters = Filters(status="Running", workflow_id="order-1")
    assert filters.params() == {"status": "Running", "id": "order-1"}
    assert filters.params(status="") == {"id": "order-1"}
