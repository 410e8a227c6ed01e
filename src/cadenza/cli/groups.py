"""Command groups: ``cadenza``, ``cadenza server`` and ``cadenza db`` each list their commands."""

from __future__ import annotations

import argparse


def commands_of(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """The commands under ``parser``. Each command sets ``handler``; a command line that
    stops at the group leaves it ``None`` and names the group, whose help is then shown."""
    parser.set_defaults(handler=None, incomplete=parser)
    return parser.add_subparsers(title="commands", metavar="COMMAND")
