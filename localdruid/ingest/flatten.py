"""The JSON inputFormat's flattenSpec: root, path (JsonPath), tree and plain-path jq fields compiled
to DuckDB JSON SQL over each input record, so that flattening streams through DuckDB like the rest
of a read; no Python runs per row."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localdruid.errors import InvalidInput, Unsupported
from localdruid.jsonspec import Spec

DOC = "json"  # the column holding each input record, as read_json_objects names it
_NUMBER_TYPES = "('BIGINT', 'UBIGINT', 'DOUBLE')"
_AGGREGATIONS = ("min", "max", "avg", "stddev", "sum")
# Functions of Jayway JsonPath that Druid does not support for JSON (keys) or that came after
# the set Druid documents; every other name is not a JsonPath function at all.
_UNSUPPORTED_FUNCTIONS = ("keys", "first", "last", "index")
_INDEX = re.compile(r"-?\d+")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def json_text(value_sql: str) -> str:
    """A JSON value as the text the loader reads: strings unquoted, JSON null as NULL, arrays and
    objects as their JSON text (a string dimension reads arrays with json_list instead)."""
    return f"json_extract_string({value_sql}, '$')"


# What DuckDB reports when a list read as a multi-value row holds an object or array: Druid
# would store Java's text of it ({k=1}), which localdruid does not write.
NESTED_IN_LIST = "localdruid: a list holding an object or array"


def json_list(value_sql: str) -> str:
    """A JSON array as the values of a multi-value dimension (each as text, JSON null as NULL);
    NULL for anything else. An object or array inside it stops the statement (NESTED_IN_LIST)."""
    value = (
        f"CASE WHEN json_type(v) IN ('OBJECT', 'ARRAY') THEN error('{NESTED_IN_LIST}') "
        "ELSE json_extract_string(v, '$') END"
    )
    return (
        f"(CASE WHEN json_type({value_sql}) = 'ARRAY' THEN list_transform("
        f"json_extract({value_sql}, '$[*]'), lambda v: {value}) END)"
    )


@dataclass(frozen=True)
class FlattenSpec:
    """A parsed flattenSpec: which fields it defines and whether root fields are discovered."""

    discover: bool = True  # useFieldDiscovery
    fields: dict[str, str] = field(default_factory=dict)  # name -> SQL of its JSON value

    def value(self, name: str) -> str:
        """SQL of an input field's JSON value. A name no field defines reads the root field of that
        name, even without discovery, as Druid's flattened record does for any key asked for."""
        return self.fields.get(name) or _extract(DOC, [("key", name)])


def parse_flatten_spec(value: Any, where: str, input_format: str = "json") -> FlattenSpec:
    """A flattenSpec of a JSON or Parquet inputFormat (Parquet rows are flattened in their JSON
    form), or the default (discovery, no fields) when there is none. Invalid specs raise
    InvalidInput, and parts localdruid (or, for Parquet, Druid) cannot read raise Unsupported."""
    if value is None:
        return FlattenSpec()
    spec = Spec(value, where)
    fields: dict[str, str] = {}
    for i, item in enumerate(spec.list("fields", [])):
        at = f"{spec.at('fields')}[{i}]"
        name, sql = _field(item, at, input_format)
        if name in fields:
            raise InvalidInput(f"{at}: Cannot have duplicate field definition: {name}")
        fields[name] = sql
    return FlattenSpec(spec.bool("useFieldDiscovery", True), fields)


def _field(item: Any, where: str, input_format: str) -> tuple[str, str]:
    if isinstance(item, str):  # a bare name is a root field
        return item, _extract(DOC, [("key", item)])
    spec = Spec(item, where)
    kind = spec.type().lower()
    name = spec.str("name")
    if kind == "root":
        return name, _extract(DOC, [("key", spec.str("expr", name))])
    if kind == "path":
        return name, _Compiler(spec.str("expr"), spec.at("expr"), input_format).compile()
    if kind in ("tree", "jq") and input_format != "json":
        raise Unsupported(
            f"{spec.at('type')}: flattenSpec field type [{kind}] is not supported for "
            f"{input_format} input, as in Druid; use path fields"
        )
    if kind == "tree":
        nodes = spec.list("nodes", [])
        if not nodes or not all(isinstance(n, str) for n in nodes):
            raise InvalidInput(f"{spec.at('nodes')}: Missing 'nodes' for field[{name}]")
        return name, _extract(DOC, [("key", n) for n in nodes])
    if kind == "jq":
        return name, _extract(DOC, _jq_steps(spec.str("expr"), spec.at("expr")))
    raise InvalidInput(f"{spec.at('type')}: unknown flattenSpec field type [{spec.type()}]")


Step = tuple[str, Any]  # ("key", name), ("index", n) or ("wild", None)

_JQ_STEP = re.compile(
    r'\.([A-Za-z_][A-Za-z0-9_]*)|\.?"((?:[^"\\]|\\.)*)"'
    r'|\.?\[\s*"((?:[^"\\]|\\.)*)"\s*\]|\.?\[\s*(-?\d+)\s*\]'
)


def _jq_steps(expr: str, where: str) -> list[Step]:
    """A jq field that is a plain path (`.a.b`, `.a[0]`, `."x y"`, `.["x"]`, `.`), read like the
    same JsonPath. Where jq itself would fail (indexing a string, say) the value is null.
    Anything beyond plain paths (pipes, iteration, functions) answers Unsupported."""
    text = expr.strip()
    if text == ".":
        return []
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        match = _JQ_STEP.match(text, pos) if text.startswith(".") else None
        if match is None:
            raise Unsupported(
                f"{where}: the jq expression [{expr}] is not supported by localdruid, which reads "
                'only plain jq paths (.a.b, .a[0], ."x y"); use a path field (JsonPath)'
            )
        name, quoted, bracketed, index = match.groups()
        if index is not None:
            steps.append(("index", int(index)))
        else:
            key = name if name is not None else quoted if quoted is not None else bracketed
            steps.append(("key", key if name is not None else json.loads(f'"{key}"')))
        pos = match.end()
    return steps


def _extract(value: str, steps: list[Step]) -> str:
    """A definite path: consecutive keys as one JSON pointer (any key text is safe in one), each
    index as a JSONPath index, negative ones counting from the end as in Jayway."""
    for is_key, group in itertools.groupby(steps, key=lambda s: s[0] == "key"):
        if is_key:
            pointer = "".join("/" + str(k).replace("~", "~0").replace("/", "~1") for _, k in group)
            value = f"json_extract({value}, {_literal(pointer)})"
        else:
            for _, index in group:
                path = f"$[{index}]" if index >= 0 else f"$[#{index}]"
                value = f"json_extract({value}, {_literal(path)})"
    return value


class _Compiler:
    """Jayway JsonPath (the subset Druid's JSON flattening meets in practice) to DuckDB SQL."""

    def __init__(self, expr: str, where: str, input_format: str = "json") -> None:
        self.expr = expr
        self.where = where
        self.input_format = input_format
        self.names = (f"v{i}" for i in itertools.count())  # lambda variables, never shadowed

    def fail(self, message: str) -> InvalidInput:
        return InvalidInput(f"{self.where}: invalid JsonPath [{self.expr}]: {message}")

    def unsupported(self, what: str) -> Unsupported:
        return Unsupported(
            f"{self.where}: JsonPath {what} in [{self.expr}] is not supported by localdruid"
        )

    def compile(self, path: str | None = None) -> str:
        """SQL of the JSON value the path (by default the whole expression) reads."""
        path = (self.expr if path is None else path).strip()
        if path.startswith("@"):
            raise self.unsupported("current-node paths (@)")
        if not path.startswith("$"):
            path = "$." + path  # as Jayway reads a path without its root
        steps, function = self.parse(path)
        split = next((i for i, s in enumerate(steps) if s[0] == "wild"), len(steps))
        value = _extract(DOC, steps[:split])
        if split < len(steps):
            if function is not None:
                raise self.unsupported(f"function {function[0]}() after a wildcard")
            return self.indefinite(value, steps[split + 1 :])
        if function is None:
            return value
        return self.function(value, *function)

    def parse(self, path: str) -> tuple[list[Step], tuple[str, list[str]] | None]:
        steps: list[Step] = []
        i = 1
        while i < len(path):
            char = path[i]
            if char == ".":
                if path.startswith("..", i):
                    raise self.unsupported("deep scan (..)")
                if path.startswith(".*", i):
                    steps.append(("wild", None))
                    i += 2
                    continue
                end = i + 1
                while end < len(path) and path[end] not in ".[( ":
                    end += 1
                name = path[i + 1 : end]
                if not name:
                    raise self.fail(f"empty property name at position {i}")
                if end < len(path) and path[end] == "(":
                    close = _closing(path, end, "(", ")")
                    if close is None:
                        raise self.fail("unclosed function parameters")
                    if path[close + 1 :].strip():
                        raise self.fail(f"function {name}() must end the path")
                    return steps, (name, _split_params(path[end + 1 : close]))
                steps.append(("key", name))
                i = end
            elif char == "[":
                close = _closing(path, i, "[", "]")
                if close is None:
                    raise self.fail(f"unclosed [ at position {i}")
                steps.append(self.bracket(path[i + 1 : close].strip()))
                i = close + 1
            else:
                raise self.fail(f"unexpected character [{char}] at position {i}")
        return steps, None

    def bracket(self, inner: str) -> Step:
        if inner == "*":
            return ("wild", None)
        if inner.startswith("?"):
            raise self.unsupported("filters ([?(...)])")
        if inner[:1] in ("'", '"'):
            keys = _split_params(inner)
            if len(keys) > 1:
                raise self.unsupported("multiple properties in one bracket")
            key = keys[0]
            if len(key) < 2 or key[-1] != key[0]:
                raise self.fail(f"unclosed quote in [{inner}]")
            return ("key", key[1:-1])
        if ":" in inner:
            raise self.unsupported("array slices ([a:b])")
        if "," in inner:
            raise self.unsupported("multiple array indexes")
        if not _INDEX.fullmatch(inner):
            raise self.fail(f"cannot read [{inner}]")
        return ("index", int(inner))

    def indefinite(self, value: str, steps: list[Step]) -> str:
        """The steps after the first wildcard: Jayway's list of every match, missing ones
        skipped."""
        items = self.children(value)
        for is_wild, group in itertools.groupby(steps, key=lambda s: s[0] == "wild"):
            if is_wild:
                for _ in group:
                    x = next(self.names)
                    items = f"flatten(list_transform({items}, lambda {x}: {self.children(x)}))"
            else:
                x, y = next(self.names), next(self.names)
                items = (
                    f"list_filter(list_transform({items}, lambda {x}: {_extract(x, list(group))}),"
                    f" lambda {y}: {y} IS NOT NULL)"
                )
        return f"to_json({items})"

    @staticmethod
    def children(value: str) -> str:
        """A wildcard: an array's elements or an object's values, none for anything else."""
        return (
            f"(CASE json_type({value}) WHEN 'ARRAY' THEN json_extract({value}, '$[*]') "
            f"WHEN 'OBJECT' THEN json_extract({value}, '$.*') ELSE []::JSON[] END)"
        )

    def function(self, value: str, name: str, params: list[str]) -> str:
        """Jayway's path functions over the value the path reached (null when it reached none)."""
        return self.let(
            value, lambda m: f"CASE WHEN {m} IS NOT NULL THEN {self.call(m, name, params)} END"
        )

    def call(self, model: str, name: str, params: list[str]) -> str:
        if name in _UNSUPPORTED_FUNCTIONS:
            raise self.unsupported(f"function {name}()")
        if name in ("concat", "append") and self.input_format != "json":
            raise self.unsupported(f"function {name}() for {self.input_format} input (as in Druid)")
        if name == "length":
            if params:
                raise self.unsupported("length() with parameters")
            body = (
                f"CASE json_type({model}) WHEN 'ARRAY' THEN to_json(json_array_length({model})) "
                f"WHEN 'OBJECT' THEN to_json(len(json_keys({model}))) END"
            )
        elif name in _AGGREGATIONS:
            numbers = " || ".join(
                [self.numbers(model, array_only=True)] + [self.param_numbers(p) for p in params]
            )
            body = self.let(numbers, lambda n: _aggregate(name, n))
        elif name == "concat":
            parts = " || ".join(
                [self.strings(model, array_only=True)] + [self.param_strings(p) for p in params]
            )
            body = f"to_json(array_to_string({parts}, ''))"
        elif name == "append":
            added = ", ".join(self.param_json(p) for p in params)
            body = (
                f"CASE json_type({model}) WHEN 'ARRAY' THEN "
                f"to_json(json_extract({model}, '$[*]') || [{added}]::JSON[]) ELSE {model} END"
            )
        else:
            raise self.fail(f"Function with name: {name} does not exist")
        return body

    def let(self, value: str, body: Callable[[str], str]) -> str:
        """`body` over `value` computed once: DuckDB has no let, a one-element list binds it."""
        n = next(self.names)
        return f"list_transform([{value}], lambda {n}: {body(n)})[1]"

    def numbers(self, value: str, *, array_only: bool) -> str:
        """The numbers of an array as DOUBLE[] (other elements skipped); a number itself counts
        only as a parameter, as in Jayway's aggregations."""
        x, y = next(self.names), next(self.names)
        array = (
            f"list_transform(list_filter(json_extract({value}, '$[*]'), "
            f"lambda {x}: json_type({x}) IN {_NUMBER_TYPES}), lambda {y}: CAST({y} AS DOUBLE))"
        )
        scalar = (
            ""
            if array_only
            else f"WHEN json_type({value}) IN {_NUMBER_TYPES} THEN [CAST({value} AS DOUBLE)] "
        )
        return (
            f"(CASE WHEN json_type({value}) = 'ARRAY' THEN {array} {scalar}ELSE []::DOUBLE[] END)"
        )

    def strings(self, value: str, *, array_only: bool) -> str:
        """Text for Jayway's concat: an array's strings (every element when a parameter, as
        Jayway's parameter lists take any value's text), or a string parameter itself."""
        x, y = next(self.names), next(self.names)
        keep = f"json_type({x}) = 'VARCHAR'" if array_only else f"json_type({x}) <> 'NULL'"
        array = (
            f"list_transform(list_filter(json_extract({value}, '$[*]'), lambda {x}: {keep}), "
            f"lambda {y}: json_extract_string({y}, '$'))"
        )
        scalar = (
            ""
            if array_only
            else f"WHEN json_type({value}) = 'VARCHAR' THEN [json_extract_string({value}, '$')] "
        )
        return (
            f"(CASE WHEN json_type({value}) = 'ARRAY' THEN {array} {scalar}ELSE []::VARCHAR[] END)"
        )

    def param_value(self, param: str) -> str:
        """A function parameter as JSON SQL: a path from the document root, or a JSON literal."""
        if param.startswith("$"):
            return self.compile(param)
        if param.startswith("@"):
            raise self.unsupported("current-node parameters (@)")
        if len(param) > 1 and param[0] == param[-1] == "'":
            param = json.dumps(param[1:-1])  # Jayway reads single-quoted text too
        try:
            literal = json.loads(param)
        except ValueError:
            raise self.fail(f"cannot read the parameter [{param}]") from None
        return f"CAST({_literal(json.dumps(literal))} AS JSON)"

    def param_numbers(self, param: str) -> str:
        return self.numbers(self.param_value(param), array_only=False)

    def param_strings(self, param: str) -> str:
        return self.strings(self.param_value(param), array_only=False)

    def param_json(self, param: str) -> str:
        return f"COALESCE({self.param_value(param)}, CAST('null' AS JSON))"


def _aggregate(name: str, numbers: str) -> str:
    """Jayway's numeric aggregations in its own arithmetic (a running double sum; stddev is the
    population one, from the sums of values and squares); null over no numbers."""
    count = f"len({numbers})"
    total = f"list_sum({numbers})"
    value = {
        "min": f"list_min({numbers})",
        "max": f"list_max({numbers})",
        "sum": total,
        "avg": f"{total} / {count}",
        "stddev": (
            f"sqrt(list_sum(list_transform({numbers}, lambda sq: sq * sq)) / {count}"
            f" - {total} * {total} / {count} / {count})"
        ),
    }[name]
    return f"CASE WHEN {count} > 0 THEN to_json(CAST({value} AS DOUBLE)) END"


def compile_path(expr: str, where: str) -> str:
    """SQL giving the JSON value a Jayway JsonPath expression reads from the record: a value for a
    definite path (NULL when missing), a JSON array of every match for one with wildcards."""
    return _Compiler(expr, where).compile()


def _closing(text: str, start: int, opening: str, closing: str) -> int | None:
    """Index of the bracket closing the one at `start`, skipping quoted text and nested pairs."""
    depth, quote = 0, ""
    for i in range(start, len(text)):
        char = text[i]
        if quote:
            if char == quote and text[i - 1] != "\\":
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return i
    return None


def _split_params(text: str) -> list[str]:
    """Comma-separated parameters, commas inside quotes, brackets or parentheses kept."""
    params: list[str] = []
    depth, quote, current = 0, "", ""
    for i, char in enumerate(text):
        if quote:
            if char == quote and text[i - 1] != "\\":
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            params.append(current.strip())
            current = ""
            continue
        current += char
    if current.strip() or params:
        params.append(current.strip())
    return params
