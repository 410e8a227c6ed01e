"""The schedules role: Temporal's Schedule API served natively (no scheduler workflow)."""
