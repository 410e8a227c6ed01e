"""Persistence: one ``Store`` interface; the backend is chosen from the database URL."""

from cadenza.persistence.backends import open_store
from cadenza.persistence.store import Store

__all__ = ["Store", "open_store"]
