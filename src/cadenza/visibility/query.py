"""Temporal's list-filter language, parsed into a small tree the store compiles to SQL.

Grammar (case-insensitive keywords)::

    query      := [expr] [GROUP BY name] [ORDER BY name [ASC|DESC] {, name [ASC|DESC]}]
    expr       := and_expr {OR and_expr}
    and_expr   := unary {AND unary}
    unary      := NOT unary | '(' expr ')' | predicate
    predicate  := name op value
                | name [NOT] IN '(' value {, value} ')'
                | name [NOT] BETWEEN value AND value
                | name STARTS_WITH value
                | name IS [NOT] NULL
    op         := = | != | <> | > | >= | < | <=
    value      := 'string' | "string" | number | true | false
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cadenza.exceptions import InvalidArgumentError


@dataclass(frozen=True)
class Comparison:
    name: str
    op: str
    value: object


@dataclass(frozen=True)
class InList:
    name: str
    values: tuple[object, ...]
    negated: bool = False


@dataclass(frozen=True)
class Between:
    name: str
    low: object
    high: object
    negated: bool = False


@dataclass(frozen=True)
class StartsWith:
    name: str
    prefix: str


@dataclass(frozen=True)
class IsNull:
    name: str
    negated: bool = False


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class BoolOp:
    op: str  # "AND" or "OR"
    operands: tuple[Expr, ...]


Expr = Comparison | InList | Between | StartsWith | IsNull | Not | BoolOp


@dataclass(frozen=True)
class Query:
    where: Expr | None = None
    order_by: tuple[tuple[str, bool], ...] = field(default_factory=tuple)
    """(attribute, descending) pairs."""
    group_by: str = ""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>!=|<>|>=|<=|=|>|<|\(|\)|,)
      | (?P<word>`[^`]+`|[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {
    "AND",
    "OR",
    "NOT",
    "IN",
    "BETWEEN",
    "STARTS_WITH",
    "IS",
    "NULL",
    "ORDER",
    "BY",
    "GROUP",
    "ASC",
    "DESC",
    "TRUE",
    "FALSE",
    "LIMIT",
    "LIKE",
}
NOT_SUPPORTED = "invalid query: operation is not supported"


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    value: object = None
    end: int = 0
    """Offset just past the token in the filter text."""


MAX_NESTING = 200
"""Parentheses and NOTs open at once that Temporal's parser refuses (199 pass)."""
MAX_TREE_DEPTH = 996
"""Deepest syntax tree Temporal's parser takes, counted as it builds the tree: a chain of
``a OR b OR c`` nests one level per operator, a comparison is two levels, parentheses and
NOT one each (measured against the real server: 995 ORed comparisons pass, 996 do not)."""
MAX_TOKENS = 100_000
"""Longest filter read, so one request's parsing stays short. Each comparison takes three
or more; a filter this long compares with more values than a store binds anyway."""
_SQL_PREFIX_LENGTH = len("select * from table1 where ")
"""Temporal parses a filter inside this statement, so its error positions count it too."""
_INT64 = 2**63


def parse(text: str) -> Query:
    """Parse a list filter; a malformed one raises InvalidArgumentError naming the problem."""
    parser = _Parser(_tokenize(text), text)
    return parser.query()


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = _SPACE.match(text).end()  # type: ignore[union-attr]
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise InvalidArgumentError(f"invalid query: unexpected character at {_shown(text[pos:])!r}")
        pos = match.end()
        tokens.append(_token(match, pos))
        if len(tokens) > MAX_TOKENS:
            raise InvalidArgumentError(
                f"invalid query: the filter is too long (more than {MAX_TOKENS} words, values and symbols)"
            )
        pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
    return tokens


_SPACE = re.compile(r"\s*")
_SHOWN_CHARS = 100
"""A filter is quoted in its error this far at most, so errors stay small."""


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def _token(match: re.Match[str], end: int) -> _Tok:
    if match.group("string") is not None:
        raw = match.group("string")
        return _Tok("value", raw, _unquote(raw), end)
    if match.group("number") is not None:
        raw = match.group("number")
        return _Tok("value", raw, _number(raw), end)
    if match.group("op") is not None:
        return _Tok("op", match.group("op"), end=end)
    word = match.group("word").strip("`")
    upper = word.upper()
    if upper in ("TRUE", "FALSE"):
        return _Tok("value", word, upper == "TRUE", end)
    if upper in _KEYWORDS:
        return _Tok("kw", upper, end=end)
    return _Tok("name", word, end=end)


def _number(raw: str) -> int | float:
    """A number literal; whole numbers past 64 bits are read as floats, as Temporal reads them."""
    if "." in raw:
        return float(raw)
    value = int(raw)
    return value if -_INT64 <= value < _INT64 else float(value)


def _unquote(raw: str) -> str:
    body = raw[1:-1]
    if raw[0] == "'":
        body = body.replace("''", "'")
    return re.sub(r"\\(.)", r"\1", body)


def _chain(op: str, operands: list[tuple[Expr, int]]) -> tuple[Expr, int]:
    """Operands joined by ``op``, with the depth of the left-deep tree Temporal builds of them.

    In ``a OR b OR c`` the first operand sits one level under each operator, and every
    later one a level less deep than the one before it.
    """
    if len(operands) == 1:
        return operands[0]
    count = len(operands)
    depth = max(operand_depth + count - max(index, 1) for index, (_, operand_depth) in enumerate(operands))
    return BoolOp(op, tuple(expr for expr, _ in operands)), depth


class _Parser:
    def __init__(self, tokens: list[_Tok], text: str) -> None:
        self._tokens = tokens
        self._pos = 0
        self._text = text
        self._nesting = 0

    def query(self) -> Query:
        where = None
        if self._peek() is not None and not self._at_kw("ORDER", "GROUP", "LIMIT"):
            where, depth = self._expr()
            if depth > MAX_TREE_DEPTH:
                raise InvalidArgumentError("invalid query: malformed SQL query: max ast depth reached")
        group_by = ""
        order_by: list[tuple[str, bool]] = []
        while self._peek() is not None:
            if self._accept_kw("GROUP"):
                self._expect_kw("BY")
                group_by = self._name()
                if self._accept_op(","):
                    raise InvalidArgumentError(
                        f"{NOT_SUPPORTED}: 'GROUP BY' clause supports only a single field"
                    )
            elif self._accept_kw("LIMIT"):
                raise InvalidArgumentError(f"{NOT_SUPPORTED}: 'LIMIT' clause")
            elif self._accept_kw("ORDER"):
                self._expect_kw("BY")
                order_by.append(self._order_term())
                while self._accept_op(","):
                    order_by.append(self._order_term())
            else:
                raise self._error("unexpected")
        return Query(where, tuple(order_by), group_by)

    def _order_term(self) -> tuple[str, bool]:
        name = self._name()
        if self._accept_kw("DESC"):
            return name, True
        self._accept_kw("ASC")
        return name, False

    # Each parsing method answers the node and the depth of its tree as Temporal counts it.

    def _expr(self) -> tuple[Expr, int]:
        operands = [self._and()]
        while self._accept_kw("OR"):
            operands.append(self._and())
        return _chain("OR", operands)

    def _and(self) -> tuple[Expr, int]:
        operands = [self._unary()]
        while self._accept_kw("AND"):
            operands.append(self._unary())
        return _chain("AND", operands)

    def _unary(self) -> tuple[Expr, int]:
        if self._accept_kw("NOT"):
            self._open()
            operand, depth = self._unary()
            self._nesting -= 1
            return Not(operand), depth + 1
        if self._accept_op("("):
            self._open()
            inner, depth = self._expr()
            self._expect_op(")")
            self._nesting -= 1
            return inner, depth + 1
        predicate = self._predicate()
        return predicate, 3 if isinstance(predicate, InList) else 2

    def _open(self) -> None:
        """Enter a parenthesis or NOT; refuse nesting as deep as Temporal refuses it."""
        self._nesting += 1
        if self._nesting >= MAX_NESTING:
            tok = self._tokens[self._pos - 1]
            near = f" near '{tok.text.lower()}'" if tok.kind == "kw" else ""
            raise InvalidArgumentError(
                f"invalid query: malformed SQL query: max nesting level reached at position "
                f"{_SQL_PREFIX_LENGTH + tok.end + 1}{near}"
            )

    def _predicate(self) -> Expr:
        name = self._name()
        negated = self._accept_kw("NOT")
        if self._accept_kw("IN"):
            self._expect_op("(")
            values = [self._value()]
            while self._accept_op(","):
                values.append(self._value())
            self._expect_op(")")
            return InList(name, tuple(values), negated)
        if self._accept_kw("BETWEEN"):
            low = self._value()
            self._expect_kw("AND")
            return Between(name, low, self._value(), negated)
        if negated:
            raise self._error("expected IN or BETWEEN after NOT")
        if self._accept_kw("LIKE"):
            raise InvalidArgumentError(f"{NOT_SUPPORTED}: operator 'LIKE' on {name}")
        if self._accept_kw("STARTS_WITH"):
            prefix = self._value()
            if not isinstance(prefix, str):
                raise self._error("STARTS_WITH takes a string")
            return StartsWith(name, prefix)
        if self._accept_kw("IS"):
            is_not = self._accept_kw("NOT")
            self._expect_kw("NULL")
            return IsNull(name, is_not)
        tok = self._next("a comparison operator")
        if tok.kind != "op" or tok.text not in ("=", "!=", "<>", ">", ">=", "<", "<="):
            raise self._error(f"expected a comparison operator after {name}, got {tok.text!r}")
        op = "!=" if tok.text == "<>" else tok.text
        return Comparison(name, op, self._value())

    # -- token helpers ----------------------------------------------------------------

    def _peek(self) -> _Tok | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _next(self, wanted: str) -> _Tok:
        tok = self._peek()
        if tok is None:
            raise InvalidArgumentError(f"invalid query {_shown(self._text)!r}: expected {wanted} at the end")
        self._pos += 1
        return tok

    def _name(self) -> str:
        tok = self._next("an attribute name")
        if tok.kind != "name":
            raise self._error(f"expected an attribute name, got {tok.text!r}", back=True)
        return tok.text

    def _value(self) -> object:
        tok = self._next("a value")
        if tok.kind != "value":
            raise self._error(f"expected a value, got {tok.text!r}", back=True)
        return tok.value

    def _at_kw(self, *words: str) -> bool:
        tok = self._peek()
        return tok is not None and tok.kind == "kw" and tok.text in words

    def _accept_kw(self, word: str) -> bool:
        if self._at_kw(word):
            self._pos += 1
            return True
        return False

    def _expect_kw(self, word: str) -> None:
        if not self._accept_kw(word):
            raise self._error(f"expected {word}")

    def _accept_op(self, op: str) -> bool:
        tok = self._peek()
        if tok is not None and tok.kind == "op" and tok.text == op:
            self._pos += 1
            return True
        return False

    def _expect_op(self, op: str) -> None:
        if not self._accept_op(op):
            raise self._error(f"expected {op!r}")

    def _error(self, message: str, back: bool = False) -> InvalidArgumentError:
        index = self._pos - 1 if back else self._pos
        if 0 <= index < len(self._tokens):
            where = f" near {self._tokens[index].text!r}"
        else:
            where = " at the end"
        return InvalidArgumentError(f"invalid query {_shown(self._text)!r}: {message}{where}")
