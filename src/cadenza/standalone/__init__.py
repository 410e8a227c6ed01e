"""Standalone activities: activities started by a client, without a workflow (Temporal's
StartActivityExecution). ``machine`` is the pure state of one run; ``service`` loads,
changes and stores it, and hands its tasks and timers to matching and the timer queue."""
