"""Each pure history module can be imported on its own, whatever was imported before."""

from __future__ import annotations

import importlib
import sys

import pytest

PACKAGE = "cadenza.history.machine"

MODULES = [
    "activities",
    "change",
    "children",
    "closing",
    "command_checks",
    "commands",
    "reset",
    "retry",
    "runs",
    "signals",
    "size_limits",
    "starts",
    "updates",
    "user_timers",
    "workflow_ops",
    "workflow_task_events",
    "workflow_tasks",
]


def import_alone(module: str) -> None:
    """Import ``cadenza.history.machine.<module>`` as the first state machine module, then put
    back the modules the other tests use."""
    package = importlib.import_module(PACKAGE)
    saved = {name: mod for name, mod in sys.modules.items() if name.startswith(f"{PACKAGE}.")}
    attributes = dict(vars(package))
    for name in saved:
        del sys.modules[name]
        vars(package).pop(name.rsplit(".", 1)[1], None)  # else `from package import x` finds it
    try:
        importlib.import_module(f"{PACKAGE}.{module}")
    finally:
        for name in [n for n in sys.modules if n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
        sys.modules.update(saved)
        vars(package).update(attributes)


@pytest.mark.parametrize("module", MODULES)
def test_a_pure_module_imports_first(module: str) -> None:
    import_alone(module)
