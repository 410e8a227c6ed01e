"""The matching role: task queues that hand tasks to long-polling workers from memory."""

from cadenza.matching.service import MatchingService

__all__ = ["MatchingService"]
