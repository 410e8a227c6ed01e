"""How SQLite reads custom search attributes: ``json_extract`` and ``json_each`` on a JSON text column."""

from __future__ import annotations

import json

from cadenza.persistence.visibility_sql import Params


class SqliteDialect:
    """``?`` markers; ``json_extract`` already yields SQL integers, reals and text to compare with."""

    def placeholder(self, position: int) -> str:
        return "?"

    def attribute(self, name: str) -> str:
        return f"json_extract(search_attributes, {_path(name)})"

    def attribute_text(self, name: str) -> str:
        return self.attribute(name)

    def bind_attribute(self, params: Params, value: object) -> str:
        return params.add(value)

    def list_contains(self, name: str, params: Params, value: object) -> str:
        # json_each also yields a lone scalar, so a single keyword matches like a one-item list.
        return (
            f"EXISTS (SELECT 1 FROM json_each(search_attributes, {_path(name)}) "
            f"WHERE value = {params.add(value)})"
        )

    def contains_text(self, text: str, marker: str) -> str:
        return f"instr({text}, {marker}) > 0"

    def any_of(self, column: str, params: Params, values: list[object], attribute: bool) -> str:
        # json_each yields the same SQL values json_extract does, for either kind of column.
        return f"{column} IN (SELECT value FROM json_each({params.add(json.dumps(values))}))"


def _path(name: str) -> str:
    return f"'$.\"{name}\"'"


DIALECT = SqliteDialect()
