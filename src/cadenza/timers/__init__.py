"""The timers role: one durable timer queue for every deadline."""

from cadenza.timers.queue import TimerQueue

__all__ = ["TimerQueue"]
