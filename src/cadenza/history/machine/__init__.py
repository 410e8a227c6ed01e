"""The workflow state machine: pure functions over a run's mutable state.

Nothing here does I/O. A ``Change`` gathers what one transaction will write
(events, tasks, timers, the new state); the modules apply commands, timeouts,
retries and updates to it. ``cadenza.history.service`` loads, locks and
commits; everything in this package can be unit-tested without a database.
"""
