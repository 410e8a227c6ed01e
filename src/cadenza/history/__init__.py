"""The history role: each execution's event history and mutable state.

``machine`` is the pure state machine (no I/O: testable without a database);
``service`` loads executions, applies one operation, commits and hands off.
"""
