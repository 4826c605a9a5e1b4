"""Aggregators and post-aggregators: Druid JSON compiled to SQL expressions with Druid's types."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from localdruid import expressions, sketches
from localdruid.errors import InvalidInput, Unsupported
from localdruid.jsonspec import Spec, to_number
from localdruid.query import dimensions
from localdruid.query.columns import ORDER_KEY, ColumnRef, MultiValueRef, Resolver
from localdruid.query.filters import compile_filter
from localdruid.sql import Sql
from localdruid.storage import PAIR_TYPES

# Where a filtered aggregator's FILTER clause goes: right after each aggregate call.
SLOT = "\x00"


@dataclass(frozen=True)
class Aggregate:
    """One output of the aggregation step: its name, SQL, and Druid output type."""

    name: str
    template: str  # SQL with SLOT after every aggregate call; no parameters of its own
    type: str  # LONG, DOUBLE, FLOAT; finalized complex aggregators report DOUBLE or LONG
    kind: str  # the Druid aggregator type, for finalization and post-aggregator checks
    conditions: tuple[Sql, ...] = ()  # filters of enclosing filtered aggregators
    # A sketch aggregates to a state of this SQL type, which `final` turns into the result.
    state: str | None = None
    final: Callable[[str], str] | None = None
    groupings: tuple[str, ...] = ()  # a grouping aggregator's dimensions
    initial: str | None = None  # an expression aggregator's value over no rows (SQL)

    @property
    def sql(self) -> Sql:
        pieces = self.template.split(SLOT)
        if not self.conditions:
            return Sql("".join(pieces))
        condition = Sql.join(" AND ", self.conditions)
        clause = Sql(" FILTER (WHERE ") + condition + ")"
        out = Sql(pieces[0])
        for piece in pieces[1:]:
            out = out + clause + piece
        return out

    @property
    def empty(self) -> str:
        """The value over no rows: 0 for counting aggregators, null for the nullable rest."""
        if self.initial is not None:
            return self.initial
        if self.kind == "doubleMean":
            return "0.0"  # Druid's mean of no values
        if self.state is not None:
            return (
                sketches.EMPTY_QUANTILES
                if self.state == sketches.QUANTILES_STATE
                else (sketches.EMPTY_DISTINCT)
            )
        return "0" if self.kind in ("count", "hyperUnique", "cardinality") else "NULL"


@dataclass(frozen=True)
class PostAggregate:
    name: str
    sql: str  # references aggregate and earlier post-aggregate aliases only; no parameters
    type: str


def float32(value: float) -> float:
    """A float aggregator's value as Java prints the float: the shortest text that round-trips."""
    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        candidate = float(f"{single:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == single:
            return candidate
    return single


def _long_of(col: ColumnRef) -> str:
    """Druid's long view of a column: doubles truncate toward zero; a string that does not parse
    counts as 0 (it still makes the aggregate non-null), a null string is skipped."""
    if col.type == "LONG":
        return col.sql
    if col.type in ("DOUBLE", "FLOAT"):
        return f"CAST(trunc({col.sql}) AS BIGINT)"
    return f"CAST(trunc({_double_of(col)}) AS BIGINT)"


def _double_of(col: ColumnRef) -> str:
    if col.numeric:
        return f"CAST({col.sql} AS DOUBLE)"
    parsed = f"COALESCE(TRY_CAST({col.sql} AS DOUBLE), 0)"
    return f"(CASE WHEN {col.sql} IS NULL THEN NULL ELSE {parsed} END)"


def _field(spec: Spec, resolve: Resolver, pairs: bool = False) -> ColumnRef:
    """The aggregator's input column; stored first/last pairs only for `pairs`."""
    if spec.has("expression"):
        if spec.has("fieldName"):
            raise InvalidInput(f"{spec.path}: only one of fieldName and expression may be set")
        if pairs:
            raise Unsupported(f"{spec.path}: aggregator expressions are not supported here")
        return expressions.compile_expression(spec.str("expression"), resolve)
    col = resolve(spec.str("fieldName"))
    if col.type in PAIR_TYPES.values() and not pairs:
        raise Unsupported(
            f"Aggregator type [{spec.type()}] over the first/last column "
            f"[{spec.str('fieldName')}] is not supported by localdruid ({spec.path})"
        )
    return col


def _sum(kind: str) -> Callable[[Spec, Resolver], tuple[str, str]]:
    def build(spec: Spec, resolve: Resolver) -> tuple[str, str]:
        col = _field(spec, resolve)
        if kind == "LONG":
            return f"CAST(sum({_long_of(col)}){SLOT} AS BIGINT)", "LONG"
        return f"sum({_double_of(col)}){SLOT}", kind

    return build


def _extreme(fn: str, kind: str) -> Callable[[Spec, Resolver], tuple[str, str]]:
    def build(spec: Spec, resolve: Resolver) -> tuple[str, str]:
        col = _field(spec, resolve)
        value = _long_of(col) if kind == "LONG" else _double_of(col)
        return f"{fn}({value}){SLOT}", kind

    return build


def _mean(spec: Spec, resolve: Resolver) -> tuple[str, str]:
    """Druid's doubleMean: every row counts, a null or unparseable value as 0; no rows give 0."""
    col = _field(spec, resolve)
    if not (col.numeric or col.type == "STRING"):
        raise Unsupported(
            f"Aggregator type [doubleMean] over the column [{spec.str('fieldName', None)}] "
            f"of type [{col.type}] is not supported by localdruid ({spec.path})"
        )
    value = f"COALESCE({_double_of(col)}, 0.0)"
    return f"COALESCE(sum({value}){SLOT} / NULLIF(count(*){SLOT}, 0), 0.0)", "DOUBLE"


def _count(spec: Spec, resolve: Resolver) -> tuple[str, str]:
    return f"count(*){SLOT}", "LONG"


def _distinct_values(col: ColumnRef) -> str:
    """A list of the column's values for distinct counting; hyperUnique metrics store hash lists."""
    if col.type == "COMPLEX<hyperUnique>":
        return f"flatten(list({col.sql}){SLOT})"
    return f"list({col.as_text}){SLOT}"


def _hyper_unique(spec: Spec, resolve: Resolver) -> tuple[str, str]:
    col = resolve(spec.str("fieldName"))
    kind = "LONG" if spec.bool("round") else "DOUBLE"
    return (
        f"CAST(COALESCE(len(list_distinct({_distinct_values(col)})), 0) AS {_sql_type(kind)})",
        kind,
    )


def _cardinality(spec: Spec, resolve: Resolver) -> tuple[str, str]:
    fields = spec.list("fields", None) or spec.list("fieldNames", None)
    if not fields:
        raise InvalidInput(f"Missing required field [fields] in {spec.describe()}")
    cols: list[ColumnRef] = []
    for i, f in enumerate(fields):
        dim = dimensions.parse_dimension(f, resolve, f"{spec.at('fields')}[{i}]")
        if dim.explode is not None:
            raise Unsupported(
                f"{spec.at('fields')}[{i}]: cardinality over a multi-value dimension is not "
                "supported by localdruid"
            )
        if isinstance(f, str):
            col = resolve(f)  # a stored hyperUnique column merges its hashes
            cols.append(col if col.type == "COMPLEX<hyperUnique>" else ColumnRef(dim.sql, dim.type))
        else:
            cols.append(ColumnRef(dim.sql, dim.type))
    kind = "LONG" if spec.bool("round") else "DOUBLE"
    if spec.bool("byRow") and len(cols) > 1:
        # Druid hashes each row's values together; a row of all nulls still counts once.
        row = "row(" + ", ".join(c.as_text for c in cols) + ")"
        return f"CAST(count(DISTINCT {row}){SLOT} AS {_sql_type(kind)})", kind
    values = ", ".join(_distinct_values(c) for c in cols)
    distinct = f"COALESCE(len(list_distinct(flatten([{values}]))), 0)"
    return f"CAST({distinct} AS {_sql_type(kind)})", kind


def _first_last(fn: str, kind: str) -> Callable[[Spec, Resolver], tuple[str, str]]:
    """The value at the earliest (or latest) __time; rows with a null value still count. Among
    rows of the same time Druid's first keeps the first row in segment order (it replaces only on
    an earlier time) and last the last one (it replaces on a later or equal time)."""

    def build(spec: Spec, resolve: Resolver) -> tuple[str, str]:
        col = _field(spec, resolve, pairs=True)
        order = resolve(ORDER_KEY).sql
        time_column = spec.str("timeColumn", "__time")
        if time_column != "__time":
            # Another long column as the time: rows compare its values (a null skips the
            # row), ties keep segment order as with __time.
            if col.type in PAIR_TYPES.values():
                raise Unsupported(
                    f"{spec.path}: a timeColumn over a stored first/last column is not supported"
                )
            time = resolve(time_column)
            if time.type != "LONG":
                raise Unsupported(
                    f"{spec.path}: timeColumn [{time_column}] of type [{time.type}] is not "
                    "supported by localdruid; use a LONG column"
                )
            keyed = f"{{'p': {time.sql}, 'o': {order}}}"
            order = f"(CASE WHEN {time.sql} IS NULL THEN NULL ELSE {keyed} END)"
        elif col.type in PAIR_TYPES.values():
            # A stored (time, value) pair: Druid compares the stored times, not __time.
            if (kind == "STRING") != (col.type == PAIR_TYPES["STRING"]):
                raise Unsupported(
                    f"Aggregator type [{spec.type()}] over the column [{spec.str('fieldName')}] "
                    f"of type [{col.type}] is not supported by localdruid ({spec.path})"
                )
            order = (
                f"(CASE WHEN {col.sql} IS NULL THEN NULL "
                f"ELSE {{'p': ({col.sql}).t, 'o': {order}}} END)"
            )
            held = next(k for k, pair in PAIR_TYPES.items() if pair == col.type)
            col = ColumnRef(f"({col.sql}).v", held)
        if kind == "STRING":
            limit = spec.int("maxStringBytes", 1024, minimum=1)
            value = f"left({col.as_text}, {int(limit)})"
        elif kind == "LONG":
            value = _long_of(col)
        else:
            value = f"CAST({_double_of(col)} AS {_sql_type(kind)})"
        return f"{fn}({value}, {order}){SLOT}", kind

    return build


def _sql_type(kind: str) -> str:
    return {"LONG": "BIGINT", "DOUBLE": "DOUBLE", "FLOAT": "FLOAT", "STRING": "VARCHAR"}[kind]


def _sketch_input(spec: Spec, resolve: Resolver, stored: str) -> ColumnRef | None:
    """The column a sketch aggregator reads: None for raw values, which it builds a sketch of,
    or the column itself when it holds `stored` sketches, which it merges."""
    col = _field(spec, resolve)
    if col.type == stored:
        return col
    if col.type.startswith("COMPLEX"):
        raise InvalidInput(
            f"Aggregator type [{spec.type()}] cannot read the column "
            f"[{spec.str('fieldName')}] of type [{col.type}] ({spec.path})"
        )
    return None


def _hashable(col: ColumnRef) -> str:
    """The values a distinct-count sketch hashes: DataSketches skips nulls and empty strings."""
    return f"NULLIF({col.sql}, '')" if col.type == "STRING" else col.sql


def _distinct_build(spec: Spec, resolve: Resolver, size: int) -> str:
    """A distinct-count sketch of a column's values; a multi-value row adds each of its values."""
    col = _field(spec, resolve)
    if isinstance(col, MultiValueRef):
        return sketches.distinct_build_lists(col.values, size, SLOT)
    return sketches.distinct_build(_hashable(col), size, SLOT)


def _must_finalize(spec: Spec, key: str) -> None:
    if spec.raw(key) is False:
        raise Unsupported(
            f"Aggregator type [{spec.type()}] with {key} false (a serialized sketch as the "
            f"result) is not supported by localdruid ({spec.path})"
        )


def _theta(spec: Spec, resolve: Resolver, name: str) -> Aggregate:
    size = sketches.theta_size(spec.raw("size"), spec.at("size"))
    _must_finalize(spec, "shouldFinalize")
    if spec.bool("isInputThetaSketch"):
        raise Unsupported(
            f"thetaSketch over serialized input sketches (isInputThetaSketch) is not supported by "
            f"localdruid ({spec.path})"
        )
    stored = _sketch_input(spec, resolve, sketches.THETA)
    if stored is not None:
        template = sketches.distinct_merge(stored.sql, size, SLOT)
    else:
        template = _distinct_build(spec, resolve, size)
    return Aggregate(
        name,
        template,
        "DOUBLE",
        "thetaSketch",
        state=sketches.DISTINCT_STATE,
        final=sketches.distinct_estimate,
    )


def _hll(spec: Spec, resolve: Resolver, name: str) -> Aggregate:
    size = sketches.hll_size(spec.raw("lgK"), spec.at("lgK"))
    if spec.str("tgtHllType", "HLL_4") not in ("HLL_4", "HLL_6", "HLL_8"):
        raise InvalidInput(f"{spec.at('tgtHllType')}: must be HLL_4, HLL_6 or HLL_8")
    _must_finalize(spec, "shouldFinalize")
    stored = _sketch_input(spec, resolve, sketches.HLL)
    if spec.type() == "HLLSketchMerge":
        if stored is None:
            raise InvalidInput(
                f"HLLSketchMerge reads HLL sketches; [{spec.str('fieldName')}] holds none "
                f"(use HLLSketchBuild for raw values) ({spec.path})"
            )
        template = sketches.distinct_merge(stored.sql, size, SLOT)
    elif stored is not None:
        raise InvalidInput(
            f"HLLSketchBuild reads raw values; [{spec.str('fieldName')}] holds HLL sketches "
            f"(use HLLSketchMerge) ({spec.path})"
        )
    else:
        template = _distinct_build(spec, resolve, size)
    if spec.bool("round"):
        final, out_type = sketches.rounded_estimate, "LONG"
    else:
        final, out_type = sketches.distinct_estimate, "DOUBLE"
    return Aggregate(
        name, template, out_type, spec.type(), state=sketches.DISTINCT_STATE, final=final
    )


def _quantiles(spec: Spec, resolve: Resolver, name: str) -> Aggregate:
    k = spec.int("k", 128)
    if not 2 <= k <= 32768 or k & (k - 1):
        raise InvalidInput(f"{spec.at('k')}: k must be a power of 2 from 2 to 32768, got [{k}]")
    stored = _sketch_input(spec, resolve, sketches.QUANTILES)
    if stored is not None:
        template = sketches.quantiles_merge(stored.sql, SLOT)
    else:
        template = sketches.quantiles_build(_double_of(_field(spec, resolve)), SLOT)
    return Aggregate(
        name,
        template,
        "LONG",
        "quantilesDoublesSketch",
        state=sketches.QUANTILES_STATE,
        final=sketches.quantiles_count,
    )


def _grouping(spec: Spec, resolve: Resolver, name: str) -> Aggregate:
    """Druid's grouping aggregator: 0 outside subtotals; groupBy's subtotalsSpec sets it to
    the mask of the `groupings` dimensions each subtotal leaves out (see grouping_id)."""
    groupings = spec.list("groupings")
    if not groupings or not all(isinstance(g, str) for g in groupings) or len(groupings) > 63:
        raise InvalidInput(f"{spec.at('groupings')}: must be a non-empty list of dimension names")
    return Aggregate(name, "CAST(0 AS BIGINT)", "LONG", "grouping", groupings=tuple(groupings))


def grouping_id(aggregate: Aggregate, grouped: set[str]) -> Aggregate:
    """A grouping aggregator for the rows grouped by `grouped`: one bit per grouping dimension,
    the first the most significant, set where the dimension is not grouped on."""
    mask = 0
    for name in aggregate.groupings:
        mask = (mask << 1) | (name not in grouped)
    return replace(aggregate, template=f"CAST({mask} AS BIGINT)")


_SKETCHES: dict[str, Callable[[Spec, Resolver, str], Aggregate]] = {
    "thetaSketch": _theta,
    "HLLSketchBuild": _hll,
    "HLLSketchMerge": _hll,
    "quantilesDoublesSketch": _quantiles,
}
# Sketch aggregators by the post-aggregators that read their states.
SKETCH_FAMILIES = {
    "thetaSketch": "theta",
    "HLLSketchBuild": "HLL",
    "HLLSketchMerge": "HLL",
    "quantilesDoublesSketch": "quantiles",
}


_SIMPLE: dict[str, Callable[[Spec, Resolver], tuple[str, str]]] = {
    "count": _count,
    "longSum": _sum("LONG"),
    "doubleSum": _sum("DOUBLE"),
    "floatSum": _sum("FLOAT"),
    "longMin": _extreme("min", "LONG"),
    "longMax": _extreme("max", "LONG"),
    "doubleMin": _extreme("min", "DOUBLE"),
    "doubleMax": _extreme("max", "DOUBLE"),
    "floatMin": _extreme("min", "FLOAT"),
    "floatMax": _extreme("max", "FLOAT"),
    "min": _extreme("min", "DOUBLE"),
    "max": _extreme("max", "DOUBLE"),
    "doubleMean": _mean,
    "hyperUnique": _hyper_unique,
    "cardinality": _cardinality,
    "stringFirst": _first_last("arg_min_null", "STRING"),
    "stringLast": _first_last("arg_max_null", "STRING"),
    "longFirst": _first_last("arg_min_null", "LONG"),
    "longLast": _first_last("arg_max_null", "LONG"),
    "doubleFirst": _first_last("arg_min_null", "DOUBLE"),
    "doubleLast": _first_last("arg_max_null", "DOUBLE"),
    "floatFirst": _first_last("arg_min_null", "FLOAT"),
    "floatLast": _first_last("arg_max_null", "FLOAT"),
    # Druid's any aggregators return any value, null included: localdruid's is the first row's.
    "stringAny": _first_last("arg_min_null", "STRING"),
    "longAny": _first_last("arg_min_null", "LONG"),
    "doubleAny": _first_last("arg_min_null", "DOUBLE"),
    "floatAny": _first_last("arg_min_null", "FLOAT"),
}

# Lambda parameters of an expression aggregator's fold: the accumulator and the row's inputs.
_ACC, _ROW = "__ld_acc", "__ld_row"
_MIN_SIZE_BYTES = 10  # Druid's least maxSizeBytes: room for a typed, nullable long or double
# The accumulator types localdruid supports, as SQL.
_ACCUMULATOR_TYPES = {"LONG": "BIGINT", "DOUBLE": "DOUBLE"}


def _expression(spec: Spec, resolve: Resolver, name: str) -> Aggregate:
    """Druid's expression aggregator, naming itself in a 501 for what localdruid lacks."""
    try:
        return _expression_fold(spec, resolve, name)
    except Unsupported as exc:
        raise Unsupported(f"Aggregator type [expression] ({spec.path}): {exc.message}") from None


def _expression_fold(spec: Spec, resolve: Resolver, name: str) -> Aggregate:
    """One fold over all of a group's rows: `list_reduce` over the list of each row's inputs.

    Druid folds each segment's rows, then merges the partial results with `combine` (from
    `initialCombineValue`, skipping null partials unless shouldCombineAggregateNullInputs);
    that is the same answer when `combine` merges partial folds as the fold would (a sum, a
    max...) and `initialCombineValue` is its identity, which localdruid assumes. `combine` is
    still compiled, so one localdruid cannot read answers 501. Only numeric accumulators are
    supported: a string or array accumulator's size is bounded by `maxSizeBytes` in ways not
    reproduced here.
    """
    acc = spec.str("accumulatorIdentifier", "__acc")
    fields = spec.list("fields", None)
    if spec.has("compare"):
        raise Unsupported("compare expressions are not supported by localdruid")
    if not spec.has("combine") and (fields is None or len(fields) != 1):
        raise InvalidInput(
            f"{spec.path}: Must have a single input field if no combine expression is supplied"
        )
    _max_size(spec)
    initial = _constant(spec, "initialValue")
    combine_initial = (
        _constant(spec, "initialCombineValue") if spec.has("initialCombineValue") else initial
    )
    if combine_initial.type != initial.type:
        raise Unsupported("initialCombineValue of another type than initialValue")
    fold = _parse(spec.str("fold"))
    inputs = sorted(expressions.identifiers(fold) - {acc})
    refs = [resolve(column) for column in inputs]
    bound = {acc: ColumnRef(_ACC, initial.type)}
    bound.update(
        (column, ColumnRef(f"{_ROW}.f{i}", ref.type))
        for i, (column, ref) in enumerate(zip(inputs, refs, strict=True))
    )
    step = expressions.Compiler(_bound(bound), spec.str("fold")).compile(fold)
    _check_combine(spec, acc, name, initial.type)
    fields_sql = "".join(f", f{i} := {ref.sql}" for i, ref in enumerate(refs))
    rows = f"list(struct_pack(__n := 1{fields_sql})){SLOT}"
    if not spec.bool("shouldAggregateNullInputs", True) and inputs:
        present = " AND ".join(f"{_ROW}.f{i} IS NOT NULL" for i in range(len(inputs)))
        rows = f"list_filter({rows}, lambda {_ROW}: {present})"
    body = _as_accumulator(step, initial.type)
    folded = f"list_reduce({rows}, lambda {_ACC}, {_ROW}: {body}, {initial.sql})"
    # SQL-compatible null handling (Druid's default) makes isNullUnlessAggregated default true.
    if spec.bool("isNullUnlessAggregated", True):
        template = f"CASE WHEN len({rows}) > 0 THEN {folded} END"
        empty = "NULL"
    else:
        template = f"CASE WHEN {rows} IS NULL THEN {initial.sql} ELSE {folded} END"
        empty = initial.sql
    final, out_type = _finalizer(spec, initial.type)
    state = _ACCUMULATOR_TYPES[initial.type] if final is not None else None
    return Aggregate(
        name, template, out_type, "expression", state=state, final=final, initial=empty
    )


def refuse_finalized(aggregates: list[Aggregate], name: str, use: str) -> None:
    """Druid orders and filters an expression aggregator by its accumulator (and `compare`)
    where localdruid's result columns hold the finalized value: refuse those uses."""
    if any(a.name == name and a.kind == "expression" and a.final for a in aggregates):
        raise Unsupported(
            f"{use} by the expression aggregator [{name}], which has a finalize expression, "
            "is not supported by localdruid"
        )


def _parse(text: str) -> expressions.Expr:
    # Druid's array literals ([], ARRAY<STRING>[]) are a part of the language localdruid lacks.
    if "[" in text:
        raise Unsupported(f"array expressions such as [{text}] are not supported by localdruid")
    return expressions.parse(text)


def _max_size(spec: Spec) -> None:
    value = spec.raw("maxSizeBytes", _MIN_SIZE_BYTES)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unsupported(f"{spec.at('maxSizeBytes')}: maxSizeBytes [{value}] is not supported")
    if value < _MIN_SIZE_BYTES:
        raise InvalidInput(f"{spec.at('maxSizeBytes')} must be at least {_MIN_SIZE_BYTES}")


def _constant(spec: Spec, key: str) -> ColumnRef:
    """An initial value: Druid requires a constant expression, evaluated once."""
    text = spec.str(key)
    parsed = _parse(text)
    if expressions.identifiers(parsed):
        raise InvalidInput(f"{spec.at(key)}: initial value must be constant, got [{text}]")
    ref = expressions.Compiler(_bound({}), text).compile(parsed)
    if ref.type not in _ACCUMULATOR_TYPES:
        raise Unsupported(f"{spec.at(key)}: accumulators of type [{ref.type}]")
    return ColumnRef(f"CAST({ref.sql} AS {_ACCUMULATOR_TYPES[ref.type]})", ref.type)


def _bound(names: dict[str, ColumnRef]) -> Resolver:
    """A resolver of exactly these names: in combine, finalize and initial values Druid binds
    nothing else (another name reads null, which localdruid does not reproduce)."""

    def resolve(name: str) -> ColumnRef:
        if name not in names:
            raise Unsupported(f"reading [{name}] outside the aggregator's inputs")
        return names[name]

    return resolve


def _as_accumulator(step: ColumnRef, kind: str) -> str:
    """The fold's value stored as the accumulator's type, as Druid's buffer aggregator does."""
    if step.type == kind:
        return step.sql
    if step.type == "LONG" and kind == "DOUBLE":
        return f"CAST({step.sql} AS DOUBLE)"
    if step.type == "DOUBLE" and kind == "LONG":
        return f"CAST(trunc({step.sql}) AS BIGINT)"
    raise Unsupported(f"a fold of type [{step.type}] into a [{kind}] accumulator")


def _check_combine(spec: Spec, acc: str, name: str, kind: str) -> None:
    """Compile `combine` (for its errors only): it binds the accumulator and the aggregator's
    name. Without one, Druid renames the single field to the aggregator's name in `fold`."""
    text = spec.str("combine", None)
    if text is None:
        text = spec.str("fold").replace(str(spec.list("fields")[0]), name)
    ref = ColumnRef(_ACC, kind)
    expressions.Compiler(_bound({acc: ref, name: ref}), text).compile(_parse(text))


def _finalizer(spec: Spec, kind: str) -> tuple[Callable[[str], str] | None, str]:
    """`finalize` over `o` (the accumulator), and the output type: finalize's, or the
    accumulator's without one."""
    text = spec.str("finalize", None)
    if text is None:
        return None, kind
    parsed = _parse(text)
    probe = expressions.Compiler(_bound({"o": ColumnRef(_ACC, kind)}), text).compile(parsed)

    def final(alias: str) -> str:
        resolve = _bound({"o": ColumnRef(alias, kind)})
        return expressions.Compiler(resolve, text).compile(parsed).sql

    return final, probe.type


_UNSUPPORTED = {
    "approxHistogram",
    "approxHistogramFold",
    "fixedBucketsHistogram",
    "javascript",
    "singleValue",
}

AGGREGATOR_TYPES = sorted(
    [*_SIMPLE, *_SKETCHES, "filtered", "grouping", "expression", *_UNSUPPORTED]
)


def compile_aggregator(value: Any, resolve: Resolver, path: str) -> Aggregate:
    spec = Spec(value, path)
    kind = spec.type()
    if kind == "filtered":
        inner = compile_aggregator(spec.require("aggregator"), resolve, spec.at("aggregator"))
        condition = compile_filter(spec.require("filter"), resolve, spec.at("filter"))
        name = spec.str("name", None) or inner.name
        template = inner.template
        if inner.empty != "NULL" and not inner.conditions:
            template = f"COALESCE({template}, {inner.empty})"
        return replace(
            inner, name=name, template=template, conditions=(condition, *inner.conditions)
        )
    if kind in _SKETCHES:
        return _SKETCHES[kind](spec, resolve, spec.str("name"))
    if kind == "grouping":
        return _grouping(spec, resolve, spec.str("name"))
    if kind == "expression":
        return _expression(spec, resolve, spec.str("name"))
    build = _SIMPLE.get(kind)
    if build is None:
        if kind in _UNSUPPORTED:
            raise Unsupported(f"Aggregator type [{kind}] is not supported by localdruid ({path})")
        raise InvalidInput(
            f"Could not resolve type id '{kind}' as a subtype of aggregator at {path}: "
            f"known type ids = {AGGREGATOR_TYPES}"
        )
    name = spec.str("name")
    template, out_type = build(spec, resolve)
    return Aggregate(name, template, out_type, kind)


def compile_aggregators(
    values: Any, resolve: Resolver, path: str = "aggregations"
) -> list[Aggregate]:
    if values is None:
        return []
    if not isinstance(values, list):
        raise InvalidInput(f"{path} must be an array")
    aggregates = [compile_aggregator(v, resolve, f"{path}[{i}]") for i, v in enumerate(values)]
    _check_unique([a.name for a in aggregates], path)
    return aggregates


def _check_unique(names: list[str], path: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidInput(f"[{name}] already defined ({path})")
        seen.add(name)


# -- post-aggregators ---------------------------------------------------------------------------

_ARITHMETIC = {"+", "-", "*", "/", "quotient", "pow"}


class PostContext:
    """Names visible to post-aggregators: aggregates, then earlier post-aggregates, as SQL."""

    def __init__(self, aggregates: list[Aggregate], aliases: dict[str, str]) -> None:
        self.types: dict[str, str] = {a.name: a.type for a in aggregates}
        self.kinds: dict[str, str] = {a.name: a.kind for a in aggregates}
        self.sql: dict[str, str] = dict(aliases)
        # Sketch aggregators: their state's SQL and family; their names read the final values.
        self.states: dict[str, tuple[str, str]] = {}
        # Expression aggregators with finalize: Druid's fieldAccess reads the accumulator and
        # finalizingFieldAccess the final value, which localdruid does not tell apart.
        self.refused: set[str] = set()
        for a in aggregates:
            if a.final is not None and a.kind == "expression":
                self.refused.add(a.name)
            elif a.final is not None:
                self.states[a.name] = (aliases[a.name], SKETCH_FAMILIES[a.kind])
                self.sql[a.name] = f"({a.final(aliases[a.name])})"

    def ref(self, name: str, where: str) -> tuple[str, str]:
        self.check_readable(name, where)
        if name not in self.sql:
            raise InvalidInput(
                f"{where}: unknown field [{name}]; post-aggregators can only read "
                "aggregators and earlier post-aggregators"
            )
        return self.sql[name], self.types[name]

    def check_readable(self, name: str, where: str) -> None:
        if name in self.refused:
            raise Unsupported(
                f"{where}: post-aggregators reading the expression aggregator [{name}], which "
                "has a finalize expression, are not supported by localdruid"
            )

    def column(self, name: str) -> ColumnRef:
        """A name as an expression post-aggregator reads it. Druid also lets it read groupBy
        dimensions (and reads unknown names as null); those are refused here."""
        self.check_readable(name, "an expression post-aggregator")
        if name not in self.sql:
            raise Unsupported(
                f"Expression post-aggregators reading [{name}], which is not an aggregator or "
                "earlier post-aggregator, are not supported by localdruid"
            )
        return ColumnRef(self.sql[name], self.types[name])


def _post(value: Any, ctx: PostContext, path: str) -> tuple[str, str]:
    spec = Spec(value, path)
    kind = spec.type()
    if kind in ("fieldAccess", "finalizingFieldAccess"):
        return ctx.ref(spec.str("fieldName"), spec.at("fieldName"))
    if kind == "hyperUniqueCardinality":
        sql, _ = ctx.ref(spec.str("fieldName"), spec.at("fieldName"))
        return f"CAST({sql} AS DOUBLE)", "DOUBLE"
    if kind == "constant":
        number = to_number(spec.require("value"), spec.at("value"))
        if isinstance(number, int):
            return f"CAST({int(number)} AS BIGINT)", "LONG"
        return f"CAST({float(number)!r} AS DOUBLE)", "DOUBLE"
    if kind == "arithmetic":
        return _arithmetic(spec, ctx)
    if kind == "expression":
        ref = expressions.compile_expression(spec.str("expression"), ctx.column)
        return ref.sql, ref.type
    if kind in _EXTREMES:
        return _extreme_post(spec, ctx, kind)
    if kind in _SKETCH_POSTS:
        return _SKETCH_POSTS[kind](spec, ctx)
    if kind in _SKETCH_VALUED:
        raise Unsupported(
            f"Post-aggregator type [{kind}] as a result (a serialized sketch) is not supported by "
            f"localdruid ({path}); read it with an estimate post-aggregator"
        )
    if kind in _UNSUPPORTED_POSTS:
        raise Unsupported(f"Post-aggregator type [{kind}] is not supported by localdruid ({path})")
    raise InvalidInput(
        f"Could not resolve type id '{kind}' as a subtype of post-aggregator at {path}"
    )


def _arithmetic(spec: Spec, ctx: PostContext) -> tuple[str, str]:
    fn = spec.str("fn")
    if fn not in _ARITHMETIC:
        raise InvalidInput(f"{spec.at('fn')}: unknown arithmetic function [{fn}]")
    if spec.has("ordering") and spec.raw("ordering") != "numericFirst":
        raise InvalidInput(f"{spec.at('ordering')}: unknown ordering [{spec.raw('ordering')}]")
    fields = spec.list("fields")
    if len(fields) < 2:
        raise InvalidInput(f"{spec.at('fields')}: arithmetic needs at least two fields")
    where = spec.at("fields")
    operands = [
        f"CAST({_post(f, ctx, f'{where}[{i}]')[0]} AS DOUBLE)" for i, f in enumerate(fields)
    ]
    result = operands[0]
    for operand in operands[1:]:
        if fn == "/":
            # Druid: a null operand gives null; dividing by zero gives 0.
            result = (
                f"(CASE WHEN ({result}) IS NULL OR ({operand}) IS NULL THEN NULL "
                f"WHEN ({operand}) = 0 THEN 0.0 ELSE ({result}) / ({operand}) END)"
            )
        elif fn == "quotient":
            result = f"(({result}) / ({operand}))"
        elif fn == "pow":
            # Java's Math.pow, where C's differs: a NaN exponent, and ±1 to an infinite power,
            # give NaN.
            result = (
                f"(CASE WHEN isnan({operand}) OR (isinf({operand}) AND abs({result}) = 1) "
                f"THEN CAST('NaN' AS DOUBLE) ELSE pow({result}, {operand}) END)"
            )
        else:
            result = f"(({result}) {fn} ({operand}))"
    return result, "DOUBLE"


# Druid's greatest/least post-aggregators: the output type, and the SQL function.
_EXTREMES = {
    "doubleGreatest": ("DOUBLE", "greatest"),
    "doubleLeast": ("DOUBLE", "least"),
    "longGreatest": ("LONG", "greatest"),
    "longLeast": ("LONG", "least"),
}


def _java_long(sql: str) -> str:
    """Java's (long) of a double: truncation toward zero, saturating; NaN is 0."""
    return (
        f"(CASE WHEN isnan({sql}) THEN 0 WHEN {sql} >= 9.223372036854775807e18 "
        f"THEN 9223372036854775807 WHEN {sql} <= -9.223372036854775808e18 "
        f"THEN -9223372036854775808 ELSE CAST(trunc({sql}) AS BIGINT) END)"
    )


def _extreme_post(spec: Spec, ctx: PostContext, kind: str) -> tuple[str, str]:
    """The greatest (least) non-null field, compared as doubles (or as Java longs); null when
    every field is null. Doubles compare as Java's Double.compare, so NaN is the greatest."""
    out_type, fn = _EXTREMES[kind]
    fields = spec.list("fields")
    if not fields:
        raise InvalidInput(f"{spec.at('fields')}: Illegal number of fields[0], must be > 0")
    where = spec.at("fields")
    operands = []
    for i, field in enumerate(fields):
        sql, field_type = _post(field, ctx, f"{where}[{i}]")
        if out_type == "DOUBLE":
            operands.append(f"CAST({sql} AS DOUBLE)")
        elif field_type == "LONG":
            operands.append(f"CAST({sql} AS BIGINT)")
        else:
            operands.append(_java_long(f"CAST({sql} AS DOUBLE)"))
    return f"{fn}({', '.join(operands)})", out_type


def _sketch_state(value: Any, ctx: PostContext, path: str, family: str) -> str:
    """SQL of the sketch state a sketch post-aggregator's `field` names: a sketch aggregator
    (fieldAccess) or a nested set operation of the same family."""
    spec = Spec(value, path)
    kind = spec.type()
    if kind in ("fieldAccess", "finalizingFieldAccess"):
        name = spec.str("fieldName")
        if name not in ctx.states or ctx.states[name][1] != family:
            raise InvalidInput(
                f"{spec.at('fieldName')}: [{name}] is not a {family} sketch aggregator"
            )
        return ctx.states[name][0]
    if family == "theta" and kind == "thetaSketchSetOp":
        size = sketches.theta_size(spec.raw("size"), spec.at("size"))
        fields = spec.list("fields")
        if len(fields) < 2:
            raise InvalidInput(f"{spec.at('fields')}: a set operation needs at least two fields")
        states = [
            _sketch_state(f, ctx, f"{spec.at('fields')}[{i}]", family) for i, f in enumerate(fields)
        ]
        return sketches.set_operation(spec.str("func"), states, size)
    if family == "HLL" and kind == "HLLSketchUnion":
        size = sketches.hll_size(spec.raw("lgK"), spec.at("lgK"))
        fields = spec.list("fields")
        if not fields:
            raise InvalidInput(f"{spec.at('fields')}: a union needs at least one field")
        states = [
            _sketch_state(f, ctx, f"{spec.at('fields')}[{i}]", family) for i, f in enumerate(fields)
        ]
        return sketches.set_operation("UNION", states, size)
    raise InvalidInput(f"{path}: expected a {family} sketch, got a post-aggregator [{kind}]")


def _theta_estimate(spec: Spec, ctx: PostContext) -> tuple[str, str]:
    if spec.has("errorBoundsStdDev"):
        raise Unsupported("thetaSketchEstimate errorBoundsStdDev is not supported by localdruid")
    state = _sketch_state(spec.require("field"), ctx, spec.at("field"), "theta")
    return sketches.distinct_estimate(state), "DOUBLE"


def _hll_estimate(spec: Spec, ctx: PostContext) -> tuple[str, str]:
    state = _sketch_state(spec.require("field"), ctx, spec.at("field"), "HLL")
    if spec.bool("round"):
        return sketches.rounded_estimate(state), "LONG"
    return sketches.distinct_estimate(state), "DOUBLE"


def _to_quantile(spec: Spec, ctx: PostContext) -> tuple[str, str]:
    state = _sketch_state(spec.require("field"), ctx, spec.at("field"), "quantiles")
    fraction = sketches.check_fraction(spec.require("fraction"), spec.at("fraction"))
    return sketches.quantile(state, fraction), "DOUBLE"


def _to_quantiles(spec: Spec, ctx: PostContext) -> tuple[str, str]:
    state = _sketch_state(spec.require("field"), ctx, spec.at("field"), "quantiles")
    fractions = spec.list("fractions")
    where = spec.at("fractions")
    values = [
        sketches.quantile(state, sketches.check_fraction(f, f"{where}[{i}]"))
        for i, f in enumerate(fractions)
    ]
    return f"[{', '.join(values)}]::DOUBLE[]", "DOUBLE_ARRAY"


def _to_rank(spec: Spec, ctx: PostContext) -> tuple[str, str]:
    state = _sketch_state(spec.require("field"), ctx, spec.at("field"), "quantiles")
    value = to_number(spec.require("value"), spec.at("value"))
    return sketches.rank(state, float(value)), "DOUBLE"


_SKETCH_POSTS: dict[str, Callable[[Spec, PostContext], tuple[str, str]]] = {
    "thetaSketchEstimate": _theta_estimate,
    "HLLSketchEstimate": _hll_estimate,
    "quantilesDoublesSketchToQuantile": _to_quantile,
    "quantilesDoublesSketchToQuantiles": _to_quantiles,
    "quantilesDoublesSketchToRank": _to_rank,
}
# Post-aggregators whose value is a sketch: only readable by the estimates above.
_SKETCH_VALUED = {"thetaSketchSetOp", "HLLSketchUnion"}
_UNSUPPORTED_POSTS = {
    "thetaSketchToString",
    "HLLSketchToString",
    "HLLSketchEstimateWithBounds",
    "quantilesDoublesSketchToHistogram",
    "quantilesDoublesSketchToCDF",
    "quantilesDoublesSketchToString",
    "quantilesDoublesSketchSummary",
    "javascript",
}


def compile_post_aggregators(
    values: Any,
    aggregates: list[Aggregate],
    aliases: dict[str, str],
    path: str = "postAggregations",
) -> list[PostAggregate]:
    """Compile in order; each post-aggregator's SQL inlines the expressions it reads."""
    if values is None:
        return []
    if not isinstance(values, list):
        raise InvalidInput(f"{path} must be an array")
    ctx = PostContext(aggregates, aliases)
    out: list[PostAggregate] = []
    for i, value in enumerate(values):
        where = f"{path}[{i}]"
        name = Spec(value, where).str("name")
        sql, out_type = _post(value, ctx, where)
        out.append(PostAggregate(name, sql, out_type))
        ctx.sql[name] = f"({sql})"
        ctx.types[name] = out_type
    _check_unique([a.name for a in aggregates] + [p.name for p in out], path)
    return out


def convert(value: Any, kind: str) -> Any:
    """A SQL result value as Druid's JSON writes it for the column's type."""
    if value is None:
        return None
    if isinstance(value, list) and kind == "STRING":
        # A multi-value row as Druid's selectors read it: no value is null, one is itself.
        return None if not value else value[0] if len(value) == 1 else value
    if kind == "LONG":
        return int(value)
    if kind in ("DOUBLE", "FLOAT"):
        number = float(value)
        if not math.isfinite(number):
            # Jackson quotes non-finite numbers.
            return "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")
        return float32(number) if kind == "FLOAT" else number
    if kind == "DOUBLE_ARRAY":
        return [convert(v, "DOUBLE") for v in value]
    return value
