"""Batch operations: one operation (terminate, cancel, signal, delete, reset, an action on
activities, new workflow options) applied to every workflow a list filter matches, or to a
list of executions.

Temporal runs each batch as a system workflow; Cadenza keeps a durable record per batch
(``persistence`` table ``batches``) and works through it in a background runner, paced,
resuming from its last saved position after a restart. ``requests`` checks a request as
Temporal does (pure), ``targets`` acts on one execution through the same engine calls as
the RPCs, ``runner`` works through one batch, and ``service`` holds them all.
"""
