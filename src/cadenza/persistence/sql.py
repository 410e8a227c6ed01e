"""Loads named SQL queries from ``.sql`` files, so SQL never lives in f-strings."""

from __future__ import annotations

from importlib import resources


def load_queries(package: str, filename: str) -> dict[str, str]:
    """Split a file of ``-- name: <query>`` sections into a name -> SQL mapping."""
    text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    queries: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("-- name:"):
            if name is not None:
                queries[name] = "\n".join(lines).strip()
            name = line.removeprefix("-- name:").strip()
            lines = []
        elif name is not None and not line.startswith("--"):
            lines.append(line)
    if name is not None:
        queries[name] = "\n".join(lines).strip()
    return queries


def load_text(package: str, filename: str) -> str:
    return resources.files(package).joinpath(filename).read_text(encoding="utf-8")
