"""The audit log: every mutating client call and every refused call, recorded in the database.

``calls`` says which RPCs are audited, ``subjects`` reads what a request names,
``pending`` carries a call's row to the engine so it commits with the change it
records, ``log`` writes the rows of calls that changed no execution, and
``retention`` deletes rows past ``--audit-retention``.
"""
