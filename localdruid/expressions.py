"""Druid's expression language (math-expr): parsed into a small AST, compiled to DuckDB SQL over
the columns a Resolver gives; used by virtual columns, the expression filter and post-aggregator."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from localdruid import timeutil
from localdruid.errors import InvalidInput, Unsupported
from localdruid.query.columns import ColumnRef, Resolver
from localdruid.sql import utf16_length

# -- parsing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: int | float | str | None


@dataclass(frozen=True)
class Identifier:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Expr


@dataclass(frozen=True)
class Binary:
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]


Expr = Literal | Identifier | Unary | Binary | Call

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<number>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+)"
    r"|(?P<string>'(?:[^'\\]|\\.)*')"
    r"|(?P<quoted>\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<name>[A-Za-z_$][A-Za-z0-9_$.]*)"
    r"|(?P<op><=|>=|==|!=|&&|\|\||[-+*/%^<>!(),\[\]])"
    r")"
)
# Binary operators by precedence, loosest first, as in Druid's Expr.g4; ^ is right-associative.
_LEVELS: list[tuple[str, ...]] = [
    ("||",),
    ("&&",),
    ("<", "<=", ">", ">=", "==", "!="),
    ("+", "-"),
    ("*", "/", "%"),
]
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


def _unescape(body: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return chr(int(m.group(1), 16))
        return _ESCAPES.get(m.group(2), m.group(2))

    return re.sub(r"\\u([0-9a-fA-F]{4})|\\(.)", one, body)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.lastgroup is None:
            raise InvalidInput(f"Invalid expression: [{text}] at position {pos}")
        tokens.append((m.lastgroup, m.group(m.lastgroup)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def fail(self) -> InvalidInput:
        return InvalidInput(f"Invalid expression: [{self.text}]")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, op: str) -> bool:
        if self.peek() == ("op", op):
            self.pos += 1
            return True
        return False

    def expect(self, op: str) -> None:
        if not self.take(op):
            raise self.fail()

    def parse(self) -> Expr:
        expr = self.binary(0)
        if self.peek() is not None:
            raise self.fail()
        return expr

    def binary(self, level: int) -> Expr:
        if level == len(_LEVELS):
            return self.power()
        left = self.binary(level + 1)
        while (
            (token := self.peek()) is not None and token[0] == "op" and token[1] in _LEVELS[level]
        ):
            self.pos += 1
            left = Binary(token[1], left, self.binary(level + 1))
        return left

    def power(self) -> Expr:
        base = self.unary()
        if self.take("^"):
            return Binary("^", base, self.power())
        return base

    def unary(self) -> Expr:
        for op in ("-", "!"):
            if self.take(op):
                operand = self.unary()
                # Folded into the literal, so that -9223372036854775808 is a long, as in Druid.
                if (
                    op == "-"
                    and isinstance(operand, Literal)
                    and isinstance(operand.value, int | float)
                ):
                    return Literal(-operand.value)
                return Unary(op, operand)
        return self.primary()

    def primary(self) -> Expr:
        token = self.peek()
        if token is None:
            raise self.fail()
        kind, text = token
        self.pos += 1
        if kind == "number":
            if any(c in text for c in ".eE"):
                return Literal(float(text))
            # One past the largest long is allowed: it is the minimum long once negated.
            if int(text) > 2**63:
                raise self.fail()
            return Literal(int(text))
        if kind == "string":
            return Literal(_unescape(text[1:-1]))
        if kind == "quoted":
            return Identifier(_unescape(text[1:-1]))
        if kind == "name":
            if text == "null":
                return Literal(None)
            if self.take("("):
                args: list[Expr] = []
                if not self.take(")"):
                    args.append(self.binary(0))
                    while self.take(","):
                        args.append(self.binary(0))
                    self.expect(")")
                return Call(text.lower(), tuple(args))
            return Identifier(text)
        if (kind, text) == ("op", "("):
            inner = self.binary(0)
            self.expect(")")
            return inner
        raise self.fail()


def parse(text: str) -> Expr:
    """The AST of a Druid expression; a syntax error is invalid input (400), as in Druid."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"Invalid expression: [{text}]")
    return _Parser(text).parse()


def identifiers(expr: Expr) -> set[str]:
    """The column names an expression reads, so that ingestion reads them from its input."""
    if isinstance(expr, Identifier):
        return {expr.name}
    if isinstance(expr, Unary):
        return identifiers(expr.operand)
    if isinstance(expr, Binary):
        return identifiers(expr.left) | identifiers(expr.right)
    if isinstance(expr, Call):
        return set().union(*(identifiers(a) for a in expr.args))
    return set()


# -- compilation --------------------------------------------------------------------------------

_SQL_TYPE = {"LONG": "BIGINT", "DOUBLE": "DOUBLE", "STRING": "VARCHAR"}


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _typed(ref: ColumnRef) -> ColumnRef:
    """Expressions see FLOAT as DOUBLE and complex columns as unusable."""
    if ref.type == "FLOAT":
        return ColumnRef(f"CAST({ref.sql} AS DOUBLE)", "DOUBLE")
    if ref.type not in _SQL_TYPE:
        raise Unsupported(f"Expressions over {ref.type} columns are not supported by localdruid")
    return ref


def _long(ref: ColumnRef) -> str:
    if ref.type == "LONG":
        return ref.sql
    if ref.type == "DOUBLE":
        return f"CAST(trunc({ref.sql}) AS BIGINT)"
    return f"TRY_CAST(trunc(TRY_CAST({ref.sql} AS DOUBLE)) AS BIGINT)"


def truth(ref: ColumnRef) -> str:
    """Druid's truthiness: numbers are true above zero, strings when they read 'true'."""
    if ref.type == "STRING":
        return f"(lower({ref.sql}) = 'true')"
    return f"({ref.sql} > 0)"


def _bool(sql: str) -> ColumnRef:
    return ColumnRef(f"CAST({sql} AS BIGINT)", "LONG")


class Compiler:
    """Compiles an AST against the columns a resolver names (virtual or stored)."""

    def __init__(self, resolve: Resolver, text: str) -> None:
        self.resolve = resolve
        self.text = text

    def compile(self, expr: Expr) -> ColumnRef:
        if isinstance(expr, Literal):
            return _literal(expr.value)
        if isinstance(expr, Identifier):
            return _typed(self.resolve(expr.name))
        if isinstance(expr, Unary):
            operand = self.compile(expr.operand)
            if expr.op == "!":
                return _bool(f"NOT {truth(operand)}")
            if operand.type == "STRING":
                return ColumnRef(f"(-{operand.as_double})", "DOUBLE")
            return ColumnRef(f"(-{operand.sql})", operand.type)
        if isinstance(expr, Binary):
            return self.binary(expr)
        handler = FUNCTIONS.get(expr.name)
        if handler is None:
            raise Unsupported(
                f"Function [{expr.name}] in expression [{self.text}] is not supported"
            )
        return handler(self, expr.args)

    def binary(self, expr: Binary) -> ColumnRef:
        left, right, op = self.compile(expr.left), self.compile(expr.right), expr.op
        if op in ("&&", "||"):
            joiner = " AND " if op == "&&" else " OR "
            return _bool(f"({truth(left)}{joiner}{truth(right)})")
        if op in ("<", "<=", ">", ">=", "==", "!="):
            sql_op = {"==": "=", "!=": "<>"}.get(op, op)
            if left.type == right.type and left.type in ("STRING", "LONG"):
                return _bool(f"({left.sql} {sql_op} {right.sql})")
            return _bool(f"({left.as_double} {sql_op} {right.as_double})")
        if op == "+" and "STRING" in (left.type, right.type):
            return ColumnRef(f"({left.as_text} || {right.as_text})", "STRING")
        if left.type == "LONG" and right.type == "LONG":
            if op == "^":
                return ColumnRef(f"CAST(pow({left.sql}, {right.sql}) AS BIGINT)", "LONG")
            if op == "/":
                # Java's long division truncates toward zero, as DuckDB's // does. By zero (and
                # % by zero) both fail the query: Java throws, DuckDB raises (see Execution.fetch).
                return ColumnRef(f"({left.sql} // {right.sql})", "LONG")
            return ColumnRef(f"({left.sql} {op} {right.sql})", "LONG")
        lhs, rhs = left.as_double, right.as_double
        if op == "^":
            return ColumnRef(f"pow({lhs}, {rhs})", "DOUBLE")
        if op == "%":
            return ColumnRef(f"fmod({lhs}, {rhs})", "DOUBLE")
        if op == "/":
            return ColumnRef(f"({lhs} / {rhs})", "DOUBLE")
        return ColumnRef(f"({lhs} {op} {rhs})", "DOUBLE")

    def literal_string(self, expr: Expr, what: str) -> str:
        if not isinstance(expr, Literal) or not isinstance(expr.value, str):
            raise InvalidInput(f"{what} must be a string literal in expression [{self.text}]")
        return expr.value

    def arity(self, name: str, args: tuple[Expr, ...], low: int, high: int) -> None:
        if not low <= len(args) <= high:
            raise InvalidInput(f"Function [{name}] got {len(args)} arguments in [{self.text}]")


def _literal(value: int | float | str | None) -> ColumnRef:
    if value is None:
        return ColumnRef("CAST(NULL AS VARCHAR)", "STRING")
    if isinstance(value, str):
        return ColumnRef(_sql_string(value), "STRING")
    if isinstance(value, int):
        if value > 2**63 - 1:
            raise InvalidInput(f"Invalid expression: long literal [{value}] is out of range")
        return ColumnRef(f"CAST({value} AS BIGINT)", "LONG")
    return ColumnRef(f"CAST('{value!r}' AS DOUBLE)", "DOUBLE")


Function = Callable[[Compiler, tuple[Expr, ...]], ColumnRef]


def _string_fn(name: str, sql: Callable[..., str], arity: int) -> Function:
    """A function of string arguments answering a string; null in, null out (DuckDB's own rule)."""

    def fn(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
        c.arity(name, args, arity, arity)
        return ColumnRef(sql(*[c.compile(a).as_text for a in args]), "STRING")

    return fn


def _concat(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    # DuckDB's concat skips nulls; Druid's (SQL-compatible) answers null if any argument is.
    parts = [c.compile(a).as_text for a in args]
    return ColumnRef("(" + " || ".join(parts or ["''"]) + ")", "STRING")


def _side(name: str) -> Function:
    """left / right: the first or last `length` characters."""

    def fn(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
        c.arity(name, args, 2, 2)
        text, length = c.compile(args[0]).as_text, _long(c.compile(args[1]))
        return ColumnRef(f"{name}({text}, {length})", "STRING")

    return fn


def _substring(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    c.arity("substring", args, 3, 3)
    text = c.compile(args[0]).as_text
    start, length = _long(c.compile(args[1])), _long(c.compile(args[2]))
    # 0-based; a negative length means to the end of the string.
    return ColumnRef(
        f"CASE WHEN {length} < 0 THEN substr({text}, {start} + 1) "
        f"ELSE substr({text}, {start} + 1, {length}) END",
        "STRING",
    )


def _strlen(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    c.arity("strlen", args, 1, 1)
    return ColumnRef(f"CAST({utf16_length(c.compile(args[0]).as_text)} AS BIGINT)", "LONG")


def _strpos(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    c.arity("strpos", args, 2, 3)
    text, needle = c.compile(args[0]).as_text, c.compile(args[1]).as_text
    if len(args) == 3:
        start = _long(c.compile(args[2]))
        found = f"instr(substr({text}, {start} + 1), {needle})"
        return ColumnRef(
            f"CAST(CASE WHEN {found} = 0 THEN -1 ELSE {found} + {start} - 1 END AS BIGINT)", "LONG"
        )
    return ColumnRef(f"CAST(instr({text}, {needle}) - 1 AS BIGINT)", "LONG")


def _common(refs: list[ColumnRef]) -> str:
    types = {r.type for r in refs if not r.sql.startswith("CAST(NULL")}
    if "STRING" in types:
        return "STRING"
    if "DOUBLE" in types:
        return "DOUBLE"
    return "LONG" if types else "STRING"


def _as(ref: ColumnRef, kind: str) -> str:
    if kind == "STRING":
        return ref.as_text
    if kind == "DOUBLE":
        return ref.as_double
    return _long(ref)


def _nvl(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    c.arity("nvl", args, 2, 2)
    refs = [c.compile(a) for a in args]
    kind = _common(refs)
    return ColumnRef(f"coalesce({_as(refs[0], kind)}, {_as(refs[1], kind)})", kind)


def _cases(pairs: list[tuple[str, ColumnRef]], default: ColumnRef | None) -> ColumnRef:
    refs = [r for _, r in pairs] + ([default] if default else [])
    kind = _common(refs)
    whens = " ".join(f"WHEN {cond} THEN {_as(r, kind)}" for cond, r in pairs)
    other = _as(default, kind) if default else "NULL"
    return ColumnRef(f"CASE {whens} ELSE {other} END", kind)


def _if(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    c.arity("if", args, 3, 3)
    return _cases([(truth(c.compile(args[0])), c.compile(args[1]))], c.compile(args[2]))


def _case_searched(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    if len(args) < 2:
        c.arity("case_searched", args, 2, 2)
    pairs = [
        (truth(c.compile(args[i])), c.compile(args[i + 1])) for i in range(0, len(args) - 1, 2)
    ]
    default = c.compile(args[-1]) if len(args) % 2 else None
    return _cases(pairs, default)


def _case_simple(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    if len(args) < 3:
        c.arity("case_simple", args, 3, 3)
    subject = args[0]
    rest = args[1:]
    pairs = [
        (truth(c.binary(Binary("==", subject, rest[i]))), c.compile(rest[i + 1]))
        for i in range(0, len(rest) - 1, 2)
    ]
    default = c.compile(rest[-1]) if len(rest) % 2 else None
    return _cases(pairs, default)


def _cast(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    c.arity("cast", args, 2, 2)
    kind = c.literal_string(args[1], "cast's type").upper()
    if kind not in _SQL_TYPE:
        raise Unsupported(f"cast to [{kind}] is not supported by localdruid")
    return ColumnRef(_as(c.compile(args[0]), kind), kind)


def _math(name: str, sql: str) -> Function:
    """A one-argument math function keeping longs long (abs, floor, ceil) where Druid does."""

    def fn(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
        c.arity(name, args, 1, 1)
        ref = c.compile(args[0])
        if ref.type == "LONG":
            return ColumnRef(f"{sql}({ref.sql})", "LONG")
        return ColumnRef(f"{sql}({ref.as_double})", "DOUBLE")

    return fn


def _round(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    c.arity("round", args, 1, 2)
    ref = c.compile(args[0])
    scale = 0
    if len(args) == 2:
        # DuckDB needs the scale as a constant, and Druid's callers always give one.
        if not isinstance(args[1], Literal) or not isinstance(args[1].value, int):
            raise Unsupported("round's scale must be a literal in localdruid")
        scale = args[1].value
    if ref.type == "LONG":
        return ColumnRef(f"CAST(round({ref.sql}, {scale}) AS BIGINT)", "LONG")
    # Druid rounds half up (BigDecimal HALF_UP), as DuckDB's round does.
    return ColumnRef(f"round({ref.as_double}, {scale})", "DOUBLE")


def _extreme(name: str, sql: str) -> Function:
    def fn(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
        refs = [c.compile(a) for a in args]
        kind = _common(refs) if refs else "LONG"
        # Druid skips nulls, as DuckDB's greatest/least do.
        return ColumnRef(f"{sql}({', '.join(_as(r, kind) for r in refs)})", kind)

    return fn


def _null_check(negate: bool) -> Function:
    def fn(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
        c.arity("notnull" if negate else "isnull", args, 1, 1)
        return _bool(f"({c.compile(args[0]).sql} IS {'NOT ' if negate else ''}NULL)")

    return fn


def _like(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    c.arity("like", args, 2, 3)
    pattern = c.literal_string(args[1], "like's pattern")
    escape = c.literal_string(args[2], "like's escape") if len(args) == 3 else None
    clause = f" ESCAPE {_sql_string(escape)}" if escape else ""
    return _bool(f"({c.compile(args[0]).as_text} LIKE {_sql_string(pattern)}{clause})")


def _regexp_extract(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    c.arity("regexp_extract", args, 2, 3)
    text = c.compile(args[0]).as_text
    regex = c.literal_string(args[1], "regexp_extract's pattern")
    try:
        re.compile(regex)
    except re.error as exc:
        raise InvalidInput(f"regexp_extract: invalid pattern [{regex}]: {exc}") from None
    pattern = _sql_string(regex)
    group = 0
    if len(args) == 3:
        index = args[2]
        # DuckDB needs the group as a constant, and Druid's callers always give one.
        if not isinstance(index, Literal) or not isinstance(index.value, int):
            raise Unsupported("regexp_extract's group must be a literal in localdruid")
        group = index.value
    found = f"regexp_extract({text}, {pattern}, {group})"
    # Druid answers null where the pattern does not match; DuckDB answers ''.
    return ColumnRef(f"CASE WHEN regexp_matches({text}, {pattern}) THEN {found} END", "STRING")


def _trim_fn(name: str, sql: str) -> Function:
    def fn(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
        c.arity(name, args, 1, 2)
        text = c.compile(args[0]).as_text
        chars = c.compile(args[1]).as_text if len(args) == 2 else "' '"
        return ColumnRef(f"{sql}({text}, {chars})", "STRING")

    return fn


def _utc_only(c: Compiler, args: tuple[Expr, ...], index: int, name: str) -> None:
    if len(args) > index:
        zone = c.literal_string(args[index], f"{name}'s time zone")
        if zone.upper() not in ("UTC", "Z", "ETC/UTC"):
            raise Unsupported(f"{name} with time zone [{zone}] is not supported by localdruid")


def _timestamp_floor(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    c.arity("timestamp_floor", args, 2, 4)
    spec: dict[str, object] = {
        "type": "period",
        "period": c.literal_string(args[1], "timestamp_floor's period"),
    }
    if len(args) > 2 and not (isinstance(args[2], Literal) and args[2].value is None):
        origin = args[2]
        if not isinstance(origin, Literal) or not isinstance(origin.value, int | str):
            raise Unsupported("timestamp_floor's origin must be a literal in localdruid")
        spec["origin"] = origin.value
    if len(args) > 3:
        spec["timeZone"] = c.literal_string(args[3], "timestamp_floor's time zone")
    try:
        gran = timeutil.Granularity.parse(spec)
    except ValueError as exc:
        raise InvalidInput(f"timestamp_floor: {exc}") from None
    return ColumnRef(gran.sql_bucket(_long(c.compile(args[0]))), "LONG")


_EXTRACT = {
    "MILLISECOND": "millisecond({t}) % 1000",
    "SECOND": "second({t})",
    "MINUTE": "minute({t})",
    "HOUR": "hour({t})",
    "DAY": "day({t})",
    "DOW": "isodow({t})",
    "ISODOW": "isodow({t})",
    "DOY": "dayofyear({t})",
    "WEEK": "week({t})",
    "MONTH": "month({t})",
    "QUARTER": "quarter({t})",
    "YEAR": "year({t})",
    "ISOYEAR": "isoyear({t})",
    "DECADE": "year({t}) // 10",
    "CENTURY": "(year({t}) + 99) // 100",
    "MILLENNIUM": "(year({t}) + 999) // 1000",
}


def _utc(ms: str) -> str:
    return f"make_timestamp(({ms}) * 1000)"


def _timestamp_extract(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    c.arity("timestamp_extract", args, 2, 3)
    unit = c.literal_string(args[1], "timestamp_extract's unit").upper()
    _utc_only(c, args, 2, "timestamp_extract")
    ms = _long(c.compile(args[0]))
    if unit == "EPOCH":
        return ColumnRef(f"CAST(floor(({ms}) / 1000) AS BIGINT)", "LONG")
    template = _EXTRACT.get(unit)
    if template is None:
        raise InvalidInput(f"timestamp_extract: unknown unit [{unit}]")
    return ColumnRef(f"CAST({template.format(t=_utc(ms))} AS BIGINT)", "LONG")


_ISO_PATTERN = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"


def joda_to_strftime(pattern: str) -> str:
    """A Joda pattern for strftime in UTC; zone offsets answer 501, as other time zones do here."""
    pieces = timeutil.joda_strftime(pattern, "timestamp_format's pattern")
    if any(piece.startswith("\x00") for piece in pieces):
        raise Unsupported(f"Time format [Z] in [{pattern}] is not supported by localdruid")
    return "".join(pieces)


def _timestamp_format(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
    c.arity("timestamp_format", args, 1, 3)
    pattern = (
        c.literal_string(args[1], "timestamp_format's pattern") if len(args) > 1 else _ISO_PATTERN
    )
    _utc_only(c, args, 2, "timestamp_format")
    ms = _long(c.compile(args[0]))
    return ColumnRef(f"strftime({_utc(ms)}, {_sql_string(joda_to_strftime(pattern))})", "STRING")


def _timestamp(divisor: int, name: str) -> Function:
    """timestamp / unix_timestamp: text to epoch milliseconds (or seconds), ISO-8601 or a Joda
    pattern, with the timestampSpec parser; null where it cannot be parsed."""

    def fn(c: Compiler, args: tuple[Expr, ...]) -> ColumnRef:
        c.arity(name, args, 1, 2)
        text = c.compile(args[0]).as_text
        fmt = c.literal_string(args[1], f"{name}'s pattern") if len(args) == 2 else "iso"
        try:
            millis = timeutil.timestamp_sql(text, fmt)
        except ValueError as exc:
            raise Unsupported(f"{name}: {exc}") from None
        if divisor == 1:
            return ColumnRef(millis, "LONG")
        return ColumnRef(f"CAST(floor(({millis}) / {divisor}) AS BIGINT)", "LONG")

    return fn


FUNCTIONS: dict[str, Function] = {
    "concat": _concat,
    "lower": _string_fn("lower", lambda s: f"lower({s})", 1),
    "upper": _string_fn("upper", lambda s: f"upper({s})", 1),
    "reverse": _string_fn("reverse", lambda s: f"reverse({s})", 1),
    "replace": _string_fn("replace", lambda s, a, b: f"replace({s}, {a}, {b})", 3),
    "left": _side("left"),
    "right": _side("right"),
    "substring": _substring,
    "strlen": _strlen,
    "strpos": _strpos,
    "trim": _trim_fn("trim", "trim"),
    "ltrim": _trim_fn("ltrim", "ltrim"),
    "rtrim": _trim_fn("rtrim", "rtrim"),
    "like": _like,
    "regexp_extract": _regexp_extract,
    "nvl": _nvl,
    "if": _if,
    "case_searched": _case_searched,
    "case_simple": _case_simple,
    "cast": _cast,
    "abs": _math("abs", "abs"),
    "floor": _math("floor", "floor"),
    "ceil": _math("ceil", "ceil"),
    "round": _round,
    "greatest": _extreme("greatest", "greatest"),
    "least": _extreme("least", "least"),
    "isnull": _null_check(False),
    "notnull": _null_check(True),
    "timestamp_floor": _timestamp_floor,
    "timestamp_extract": _timestamp_extract,
    "timestamp_format": _timestamp_format,
    "timestamp": _timestamp(1, "timestamp"),
    "unix_timestamp": _timestamp(1000, "unix_timestamp"),
}


def compile_expression(text: str, resolve: Resolver) -> ColumnRef:
    """A Druid expression as typed SQL over the resolver's columns."""
    return Compiler(resolve, text).compile(parse(text))


def virtual_names(values: object) -> list[str]:
    """Names of a query's virtual columns, in order (virtual_resolver has checked them)."""
    if not isinstance(values, list):
        return []
    return [str(v["name"]) for v in values if isinstance(v, dict) and "name" in v]


def virtual_resolver(values: object, resolve: Resolver, path: str = "virtualColumns") -> Resolver:
    """Columns with a query's virtual columns layered over them; a virtual column may read
    another, and shadows a stored column of the same name, as in Druid."""
    if not values:
        return resolve
    if not isinstance(values, list):
        raise InvalidInput(f"{path} must be an array")
    specs: dict[str, tuple[str, str | None]] = {}
    for i, value in enumerate(values):
        if not isinstance(value, dict):
            raise InvalidInput(f"{path}[{i}] must be an object")
        if value.get("type") != "expression":
            raise Unsupported(
                f"Virtual column type [{value.get('type')}] is not supported by localdruid"
            )
        name, expression = value.get("name"), value.get("expression")
        if not isinstance(name, str) or not isinstance(expression, str):
            raise InvalidInput(f"{path}[{i}] needs a string name and expression")
        output = value.get("outputType")
        if output is not None and str(output).upper() not in ("LONG", "DOUBLE", "FLOAT", "STRING"):
            raise Unsupported(
                f"Virtual column outputType [{output}] is not supported by localdruid"
            )
        specs[name] = (expression, None if output is None else str(output).upper())
    compiling: set[str] = set()

    def layered(name: str) -> ColumnRef:
        if name not in specs:
            return resolve(name)
        if name in compiling:
            raise InvalidInput(f"Virtual column [{name}] refers to itself")
        compiling.add(name)
        try:
            expression, output = specs[name]
            ref = compile_expression(expression, layered)
        finally:
            compiling.discard(name)
        if output is None or output == ref.type:
            return ref
        kind = "DOUBLE" if output == "FLOAT" else output
        return ColumnRef(_as(ref, kind), kind)

    # Druid parses every virtual column with the query, used or not: a bad one fails it.
    for name in specs:
        layered(name)
    return layered
