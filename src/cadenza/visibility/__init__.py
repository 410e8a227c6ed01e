"""The visibility role: finding executions with Temporal's list-filter language."""
