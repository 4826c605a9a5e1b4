"""Filters: Druid filter JSON compiled to a parameterized SQL predicate (three-valued logic)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localdruid import expressions, timeutil
from localdruid.errors import InvalidInput, Unsupported
from localdruid.jsonspec import Spec, text_of, to_double, to_number
from localdruid.query import orderings
from localdruid.query.columns import ELEMENT, ColumnRef, MultiValueRef, Resolver
from localdruid.query.extraction import extract
from localdruid.sql import FALSE, TRUE, Sql

Handler = Callable[[Spec, Resolver], Sql]


def compile_filter(value: Any, resolve: Resolver, path: str = "filter") -> Sql:
    """The SQL predicate for a filter object; a null filter matches every row."""
    if value is None:
        return TRUE
    if isinstance(value, dict) and value.get("type") == "extraction":
        # Druid's deprecated extraction filter is a selector filter with an extractionFn.
        value = {**value, "type": "selector"}
    spec = Spec(value, path)
    kind = spec.type()
    handler = _HANDLERS.get(kind)
    if handler is None:
        if kind in _UNSUPPORTED:
            raise Unsupported(f"Filter type [{kind}] is not supported by localdruid")
        raise InvalidInput(
            f"Could not resolve type id '{kind}' as a subtype of filter at {path}: "
            f"known type ids = {sorted(_HANDLERS)}"
        )
    multi = _multi_value(spec, kind, resolve)
    if multi is not None:
        resolve = _element(resolve, multi.name)
    fn = spec.data.get("extractionFn")
    if fn is not None:
        if kind not in _EXTRACTING:
            raise Unsupported(f"extractionFn on a [{kind}] filter is not supported by localdruid")
        resolve = _extracted(resolve, spec.str("dimension"), fn, spec.at("extractionFn"))
    predicate = handler(spec, resolve)
    if multi is not None:
        predicate = _any_value(multi, predicate)
    return predicate.wrap("(", ")")


def _multi_value(spec: Spec, kind: str, resolve: Resolver) -> MultiValueRef | None:
    """The multi-value column a value filter reads, if it reads one."""
    key = _PER_VALUE.get(kind)
    name = spec.data.get(key) if key else None
    column = resolve(name) if isinstance(name, str) else None
    return column if isinstance(column, MultiValueRef) else None


def _element(resolve: Resolver, name: str) -> Resolver:
    """The filter then reads one value of the multi-value column at a time."""
    element = ColumnRef(ELEMENT, "STRING")
    return lambda column: element if column == name else resolve(column)


def _any_value(multi: MultiValueRef, predicate: Sql) -> Sql:
    """Druid's value filters on a multi-value column: a row matches if any of its values does
    (an empty or null row is one null value). Under `not`, a row with no match but an unknown
    (null) comparison stays unknown, as Druid's matchers report it."""
    values = multi.row_values(empty_is_null=True)
    each = f"list_bool_or(list_transform({values}, lambda {ELEMENT}: "
    return (
        predicate.wrap("CASE WHEN " + each, "))")
        + " THEN TRUE WHEN "
        + predicate.wrap(each + "(", ") IS NULL))")
        + " THEN NULL ELSE FALSE END"
    )


def _extracted(resolve: Resolver, dimension: str, fn: Any, path: str) -> Resolver:
    """The filter then reads the dimension's extracted (string) values instead of the column."""
    column = extract(fn, resolve(dimension), path)
    return lambda name: column if name == dimension else resolve(name)


def _column(spec: Spec, resolve: Resolver, key: str = "dimension") -> ColumnRef:
    return resolve(spec.str(key))


def _number_or_none(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _number_equal(col: ColumnRef, number: float) -> Sql:
    """A numeric column equal to a number. Druid reads the number as the column's type, so a
    FLOAT column compares floats: 10.1 matches the stored 10.1f, which as a double it does not."""
    if col.type == "FLOAT":
        return Sql(f"CAST({col.sql} AS FLOAT) = CAST(? AS FLOAT)", [number])
    return Sql(f"{col.as_double} = ?", [number])


def _equal(col: ColumnRef, value: Any) -> Sql:
    """Druid selector semantics: numeric columns compare numbers, string columns compare text."""
    text = text_of(value)
    if text is None:
        return Sql(f"{col.sql} IS NULL")
    if col.numeric:
        number = _number_or_none(text)
        if number is None:
            return FALSE
        return _number_equal(col, number)
    return Sql(f"{col.as_text} = ?", [text])


def _selector(spec: Spec, resolve: Resolver) -> Sql:
    return _equal(_column(spec, resolve), spec.data.get("value"))


def _in(spec: Spec, resolve: Resolver) -> Sql:
    col = _column(spec, resolve)
    values = spec.list("values")
    texts = [text_of(v) for v in values]
    parts: list[Sql] = []
    if any(t is None for t in texts):
        parts.append(Sql(f"{col.sql} IS NULL"))
    present = sorted({t for t in texts if t is not None})
    if col.numeric:
        numbers = sorted({n for n in (_number_or_none(t) for t in present) if n is not None})
        if numbers and col.type == "FLOAT":
            value = f"CAST({col.sql} AS FLOAT)"
            parts.append(Sql(f"list_contains(?::DOUBLE[]::FLOAT[], {value})", [numbers]))
        elif numbers:
            parts.append(Sql(f"list_contains(?::DOUBLE[], {col.as_double})", [numbers]))
    elif present:
        parts.append(Sql(f"list_contains(?::VARCHAR[], {col.as_text})", [present]))
    if not parts:
        return FALSE
    return Sql.join(" OR ", parts)


def _match_type(spec: Spec) -> str:
    kind = spec.str("matchValueType").upper()
    if kind not in ("STRING", "LONG", "DOUBLE", "FLOAT"):
        if kind.startswith(("ARRAY", "COMPLEX")):
            raise Unsupported(f"matchValueType [{kind}] is not supported by localdruid")
        raise InvalidInput(f"{spec.at('matchValueType')}: unknown type [{kind}]")
    return kind


def _equals(spec: Spec, resolve: Resolver) -> Sql:
    col = _column(spec, resolve, "column")
    kind = _match_type(spec)
    value = spec.require("matchValue")
    if kind == "STRING":
        text = text_of(value)
        if col.numeric:
            number = _number_or_none(text)
            return FALSE if number is None else _number_equal(col, number)
        return Sql(f"{col.as_text} = ?", [text])
    number = to_number(value, spec.at("matchValue"))
    if kind == "LONG":
        if isinstance(number, float) and not number.is_integer():
            raise InvalidInput(f"{spec.at('matchValue')}: [{value}] is not a LONG")
        number = int(number)
    else:
        number = to_double(number, spec.at("matchValue"))
    if not col.numeric:
        # A number matched against a string column compares with the number's text ("1.0").
        return Sql(f"{col.as_text} = ?", [str(number) if kind == "LONG" else repr(number)])
    return _number_equal(col, float(number))


def _null(spec: Spec, resolve: Resolver) -> Sql:
    return Sql(f"{_column(spec, resolve, 'column').sql} IS NULL")


def _array_contains(spec: Spec, resolve: Resolver) -> Sql:
    """Druid's arrayContainsElement. localdruid has no ARRAY columns, and Druid reads any other
    column as a one-element array (a multi-value row as its values): an `equals` filter, or a
    `null` filter for a null element."""
    if "elementMatchValue" not in spec.data:
        raise InvalidInput(f"Missing required field [elementMatchValue] in {spec.describe()}")
    column = spec.str("column")
    element = spec.raw("elementMatchValue")
    if element is None:
        return _null(Spec({"type": "null", "column": column}, spec.path), resolve)
    equals = {
        "type": "equals",
        "column": column,
        "matchValueType": spec.str("elementMatchValueType"),
        "matchValue": element,
    }
    return _equals(Spec(equals, spec.path), resolve)


def _bound_sides(
    value_sql: str,
    lower: Any,
    upper: Any,
    lower_strict: bool,
    upper_strict: bool,
    *,
    null_matches: bool = False,
) -> Sql:
    parts: list[Sql] = [] if null_matches else [Sql(f"{value_sql} IS NOT NULL")]
    if lower is not None:
        parts.append(Sql(f"{value_sql} {'>' if lower_strict else '>='} ?", [lower]))
    if upper is not None:
        parts.append(Sql(f"{value_sql} {'<' if upper_strict else '<='} ?", [upper]))
    condition = Sql.join(" AND ", parts)
    if null_matches:
        # Druid's bound filter: a null value sorts below everything, so it matches when
        # there is no lower bound.
        return condition.wrap(f"{value_sql} IS NULL OR (", ")")
    return condition


def _bound(spec: Spec, resolve: Resolver) -> Sql:
    col = _column(spec, resolve)
    ordering = spec.raw("ordering", "lexicographic")
    if isinstance(ordering, dict):
        ordering = Spec(ordering, spec.at("ordering")).type()
    if spec.bool("alphaNumeric"):
        ordering = "alphanumeric"
    ordering = orderings.normalize(ordering, spec.at("ordering"))
    lower, upper = text_of(spec.data.get("lower")), text_of(spec.data.get("upper"))
    if lower is None and upper is None:
        raise InvalidInput(f"{spec.path}: lower and upper can not both be null")
    if ordering == "numeric":
        low, high = _number_or_none(lower), _number_or_none(upper)
        if upper is not None and high is None:
            return FALSE  # an unparseable upper bound matches nothing
        # An unparseable lower bound is below every number; unparseable values act as null.
        return _bound_sides(
            col.as_double,
            low,
            high,
            spec.bool("lowerStrict"),
            spec.bool("upperStrict"),
            null_matches=low is None,
        )
    value = orderings.comparable(col.as_text, ordering)
    parts: list[Sql] = []
    if lower is not None:
        op = ">" if spec.bool("lowerStrict") else ">="
        parts.append(Sql(f"{value} {op} ") + orderings.comparable_param(lower, ordering))
    if upper is not None:
        op = "<" if spec.bool("upperStrict") else "<="
        parts.append(Sql(f"{value} {op} ") + orderings.comparable_param(upper, ordering))
    condition = Sql.join(" AND ", parts)
    if lower is None:
        # Druid's bound filter: a null value sorts below everything, so it matches when
        # there is no lower bound.
        return condition.wrap(f"{col.sql} IS NULL OR (", ")")
    return condition


def _range(spec: Spec, resolve: Resolver) -> Sql:
    col = _column(spec, resolve, "column")
    kind = _match_type(spec)
    lower, upper = spec.data.get("lower"), spec.data.get("upper")
    low: str | float | None
    high: str | float | None
    if kind == "STRING":
        value_sql, low, high = col.as_text, text_of(lower), text_of(upper)
    else:
        value_sql = col.as_double
        low = None if lower is None else to_double(lower, spec.at("lower"))
        high = None if upper is None else to_double(upper, spec.at("upper"))
    condition = _bound_sides(value_sql, low, high, spec.bool("lowerOpen"), spec.bool("upperOpen"))
    # Druid's range filter is three-valued: a null value is unknown, so `not` does not match it
    # either (SQL's NOT (x > 7) skips null x).
    return condition.wrap(f"CASE WHEN {value_sql} IS NULL THEN NULL ELSE (", ") END")


def _like(spec: Spec, resolve: Resolver) -> Sql:
    col = _column(spec, resolve)
    pattern = spec.str("pattern")
    escape = spec.raw("escape")
    if escape is None:
        return Sql(f"{col.as_text} LIKE ? ESCAPE ''", [pattern])
    escape = str(escape)
    if len(escape) != 1:
        raise InvalidInput(f"{spec.at('escape')}: escape must be a single character")
    return Sql(f"{col.as_text} LIKE ? ESCAPE ?", [pattern, escape])


def _regex(spec: Spec, resolve: Resolver) -> Sql:
    col = _column(spec, resolve)
    pattern = spec.str("pattern")
    _check_regex(pattern, spec.at("pattern"))
    return Sql(f"regexp_matches({col.as_text}, ?)", [pattern])


def _check_regex(pattern: str, where: str) -> None:
    import re

    try:
        re.compile(pattern)
    except re.error as exc:
        raise InvalidInput(f"{where}: invalid regular expression [{pattern}]: {exc}") from None


def search_predicate(value_sql: str, query: Spec) -> Sql:
    """Druid's SearchQuerySpec.accept for a non-null text value. A null search value accepts
    nothing. Druid reads `caseSensitive` (the docs' `case_sensitive` is an unknown property,
    which it ignores)."""
    kind = query.type()
    if kind == "all":
        return TRUE
    if kind in ("contains", "insensitive_contains"):
        needle = text_of(query.data.get("value"))
        if needle is None:
            return FALSE
        sensitive = kind == "contains" and query.bool("caseSensitive", False)
        return _contains(value_sql, [needle], sensitive)
    if kind == "fragment":
        values = query.data.get("values")
        if values is None:
            return FALSE
        if not isinstance(values, list):
            raise InvalidInput(f"{query.at('values')} must be an array")
        needles = sorted({text_of(v) or "" for v in values})
        return _contains(value_sql, needles, query.bool("caseSensitive", False))
    if kind == "regex":
        pattern = query.str("pattern")
        _check_regex(pattern, query.at("pattern"))
        return Sql(f"regexp_matches({value_sql}, ?)", [pattern])
    raise InvalidInput(
        f"Could not resolve type id '{kind}' as a subtype of SearchQuerySpec at {query.path}: "
        "known type ids = ['all', 'contains', 'fragment', 'insensitive_contains', 'regex']"
    )


def _contains(value_sql: str, needles: list[str], case_sensitive: bool) -> Sql:
    """The value contains every needle (TRUE for none, as Druid's empty fragment)."""
    if case_sensitive:
        return Sql.all([Sql(f"contains({value_sql}, ?)", [n]) for n in needles])
    return Sql.all([Sql(f"contains(lower({value_sql}), lower(?))", [n]) for n in needles])


def _search(spec: Spec, resolve: Resolver) -> Sql:
    col = _column(spec, resolve)
    # As a filter, a null value is unknown whatever the spec (three-valued logic under `not`).
    return search_predicate(col.as_text, spec.obj("query")).wrap(
        f"CASE WHEN {col.as_text} IS NULL THEN NULL ELSE ", " END"
    )


def _interval(spec: Spec, resolve: Resolver) -> Sql:
    col = _column(spec, resolve)
    try:
        intervals = timeutil.parse_intervals(spec.require("intervals"))
    except ValueError as exc:
        raise InvalidInput(f"{spec.at('intervals')}: {exc}") from None
    value_sql = col.sql if col.type == "LONG" else f"TRY_CAST({col.sql} AS BIGINT)"
    parts = [Sql(f"({value_sql} >= {int(s)} AND {value_sql} < {int(e)})") for s, e in intervals]
    return Sql.join(" OR ", parts) if parts else FALSE


def _children(spec: Spec, resolve: Resolver) -> list[Sql]:
    fields = spec.list("fields")
    return [compile_filter(f, resolve, f"{spec.at('fields')}[{i}]") for i, f in enumerate(fields)]


def _and(spec: Spec, resolve: Resolver) -> Sql:
    return Sql.all(_children(spec, resolve))


def _or(spec: Spec, resolve: Resolver) -> Sql:
    return Sql.any(_children(spec, resolve))


def _not(spec: Spec, resolve: Resolver) -> Sql:
    return compile_filter(spec.require("field"), resolve, spec.at("field")).wrap("NOT ", "")


def _expression(spec: Spec, resolve: Resolver) -> Sql:
    """Rows where the expression is true by Druid's truthiness; a null result never matches."""
    ref = expressions.compile_expression(spec.str("expression"), resolve)
    return Sql(expressions.truth(ref))


def _compared_text(value: Any, resolve: Resolver, path: str) -> str:
    """A columnComparison dimension's values as the strings Druid compares (Long.toString for
    longs). Doubles and floats would need Java's Double.toString, which localdruid lacks."""
    if isinstance(value, str):
        col = resolve(value)
    else:
        spec = Spec(value, path)
        kind = spec.raw("type", "default")
        if kind == "extraction":
            col = extract(
                spec.require("extractionFn"),
                resolve(spec.str("dimension")),
                spec.at("extractionFn"),
            )
        elif kind == "default":
            col = resolve(spec.str("dimension"))
            # Druid compares text: the outputType a column already has changes nothing.
            if str(spec.raw("outputType", "STRING")).upper() not in ("STRING", col.type):
                raise Unsupported(f"{spec.at('outputType')}: columnComparison compares strings")
        else:
            raise Unsupported(f"Dimension spec type [{kind}] is not supported here ({path})")
    if col.type in ("DOUBLE", "FLOAT"):
        raise Unsupported(
            f"columnComparison over a {col.type} column is not supported by localdruid ({path})"
        )
    if col.type not in ("STRING", "LONG"):
        raise Unsupported(f"columnComparison over a {col.type} column is not supported ({path})")
    return col.as_text


def _column_comparison(spec: Spec, resolve: Resolver) -> Sql:
    """Rows where every dimension has the same value as text; null equals only null ("is not
    distinct from", so never unknown, even under `not`)."""
    dimensions = spec.list("dimensions")
    if len(dimensions) < 2:
        raise InvalidInput(f"{spec.at('dimensions')}: dimensions must have a least 2 dimensions")
    where = spec.at("dimensions")
    texts = [_compared_text(d, resolve, f"{where}[{i}]") for i, d in enumerate(dimensions)]
    return Sql.all([Sql(f"{texts[0]} IS NOT DISTINCT FROM {t}") for t in texts[1:]])


_HANDLERS: dict[str, Handler] = {
    "selector": _selector,
    "equals": _equals,
    "null": _null,
    "arrayContainsElement": _array_contains,
    "in": _in,
    "bound": _bound,
    "range": _range,
    "like": _like,
    "regex": _regex,
    "search": _search,
    "interval": _interval,
    "and": _and,
    "or": _or,
    "not": _not,
    "expression": _expression,
    "columnComparison": _column_comparison,
    "true": lambda spec, resolve: TRUE,
    "false": lambda spec, resolve: FALSE,
}

# Value filters, which match a multi-value row when any value matches, and the key naming
# their column.
_PER_VALUE = {
    "selector": "dimension",
    "in": "dimension",
    "bound": "dimension",
    "like": "dimension",
    "regex": "dimension",
    "search": "dimension",
    "equals": "column",
    "null": "column",
    "range": "column",
    "arrayContainsElement": "column",
}

# Filters that take an extractionFn in Druid (and that localdruid compiles with one).
_EXTRACTING = {"selector", "in", "bound", "like", "regex", "search"}

_UNSUPPORTED = {
    "javascript",
    "spatial",
}
