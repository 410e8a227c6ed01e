"""How PostgreSQL reads custom search attributes: operators on a JSONB column.

Values are compared as JSONB, which orders numbers numerically and strings as
text, and never equates a number with a string: the same outcomes SQLite's
``json_extract`` gives.
"""

from __future__ import annotations

import json

from cadenza.persistence.visibility_sql import Params


class PostgresDialect:
    """``$n`` markers; attribute values bound as JSONB."""

    def placeholder(self, position: int) -> str:
        return f"${position}"

    def attribute(self, name: str) -> str:
        return f"(search_attributes -> '{name}')"

    def attribute_text(self, name: str) -> str:
        return f"(search_attributes ->> '{name}')"

    def bind_attribute(self, params: Params, value: object) -> str:
        return f"{params.add(json.dumps(value))}::jsonb"

    def list_contains(self, name: str, params: Params, value: object) -> str:
        # A JSONB array contains a scalar element, and a lone scalar contains itself,
        # so a single keyword matches like a one-item list; an unset attribute never matches.
        return f"COALESCE({self.attribute(name)} @> {self.bind_attribute(params, value)}, FALSE)"

    def contains_text(self, text: str, marker: str) -> str:
        return f"strpos({text}, {marker}) > 0"

    def any_of(self, column: str, params: Params, values: list[object], attribute: bool) -> str:
        if attribute:
            return f"{column} = ANY({params.add([json.dumps(v) for v in values])}::jsonb[])"
        return f"{column} = ANY({params.add(values)})"


DIALECT = PostgresDialect()
