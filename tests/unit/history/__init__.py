"""Unit tests of the pure history modules: no server, no database, a fake clock.

``cadenza.history.runs`` is imported first because importing ``closing`` or
``workflow_ops`` before it fails on an import cycle (closing -> children -> starts ->
runs -> closing); ``test_imports.py`` keeps that defect visible.
"""

import cadenza.history.runs  # noqa: F401
