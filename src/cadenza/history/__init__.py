"""The history role: each execution's event history and mutable state."""
