"""Persistence: the ``Store`` (``store``) and its narrow roles (``roles``), one module per backend
(``sqlite/``, ``postgres/``) chosen from the database URL (``backends``), and the records they
exchange (``records``).

Nothing is imported here, so the pure state machine can use ``records`` without loading a store.
"""
