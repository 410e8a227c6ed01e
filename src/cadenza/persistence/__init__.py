"""Persistence: one ``Store`` interface; the backend is chosen from the database URL."""

from cadenza.persistence.store import Store, open_store

__all__ = ["Store", "open_store"]
