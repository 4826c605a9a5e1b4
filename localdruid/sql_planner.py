"""Druid SQL: one SELECT, parsed by sqlglot and planned into one native query as Druid's planner
does (scan, timeseries or groupBy), so that its answer comes from the native engine."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from localdruid import timeutil
from localdruid.errors import InvalidInput, SqlParseError, SqlValidationError, Unsupported
from localdruid.storage import Datasource

TIME = "__time"
# The SQL type of each Druid column type, and the Druid type each SQL type reports.
SQL_TYPES = {"STRING": "VARCHAR", "LONG": "BIGINT", "FLOAT": "FLOAT", "DOUBLE": "DOUBLE"}
DRUID_TYPES = {
    "TIMESTAMP": "LONG",
    "BIGINT": "LONG",
    "FLOAT": "FLOAT",
    "DOUBLE": "DOUBLE",
    "VARCHAR": "STRING",
}
_NUMERIC = ("LONG", "FLOAT", "DOUBLE")
_FLOOR_UNITS = {
    "SECOND": "PT1S",
    "MINUTE": "PT1M",
    "HOUR": "PT1H",
    "DAY": "P1D",
    "WEEK": "P1W",
    "MONTH": "P1M",
    "QUARTER": "P3M",
    "YEAR": "P1Y",
}
_AGGREGATES = (exp.Count, exp.Sum, exp.Min, exp.Max, exp.Avg, exp.ApproxDistinct)
# SELECT clauses planned here; any other one present answers 501 under the name given.
_CLAUSES = {
    "expressions",
    "distinct",
    "from_",
    "where",
    "group",
    "having",
    "order",
    "limit",
    "offset",
}
_CLAUSE_NAMES = {
    "joins": "JOIN",
    "with_": "WITH",
    "laterals": "LATERAL",
    "qualify": "QUALIFY",
    "windows": "WINDOW",
    "sample": "TABLESAMPLE",
}
_COMPARISONS: dict[type[exp.Expression], str] = {
    exp.EQ: "=",
    exp.NEQ: "<>",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
}
_FLIPPED = {"=": "=", "<>": "<>", ">": "<", ">=": "<=", "<": ">", "<=": ">="}
_TIMESTAMP = re.compile(
    r"\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?)?\s*"
)
Ranges = list[tuple[int, int]]
# What a condition compares: a column (or grouped output) as (field, Druid type), or None.
Operand = Callable[[exp.Expression], tuple[str, str] | None]
ETERNITY: Ranges = [(timeutil.MIN_MS, timeutil.MAX_MS)]


@dataclass(frozen=True)
class OutputColumn:
    """One column of the SQL answer: its name, the native result field it reads, its SQL type."""

    name: str
    field: str
    sql_type: str

    @property
    def druid_type(self) -> str:
        return DRUID_TYPES[self.sql_type]


@dataclass(frozen=True)
class SqlPlan:
    """The native query a statement became and how its result rows map to the SQL columns."""

    native: dict[str, Any]
    columns: list[OutputColumn]
    # LIMIT 0, or a time condition no instant meets: Druid answers no rows without a query.
    no_rows: bool = False


@dataclass(frozen=True)
class _Table:
    """The datasource a statement reads, as Druid's SQL schema shows it."""

    name: str
    alias: str | None
    types: dict[str, str]  # column -> Druid type, in Druid's SELECT * order
    multi_value: frozenset[str]


@dataclass(frozen=True)
class _Floor:
    """__time floored to a period in a time zone: TIME_FLOOR, or FLOOR(__time TO unit)."""

    period: str
    zone: str = "UTC"

    def granularity(self) -> dict[str, str]:
        return {"type": "period", "period": self.period, "timeZone": self.zone}

    def expression(self) -> str:
        return f"timestamp_floor(\"__time\",'{self.period}',null,'{self.zone}')"


# A GROUP BY key: a column's name, or a floor of __time.
Key = str | _Floor


@dataclass(frozen=True)
class _Value:
    """A planned expression: the native field it reads and its SQL type."""

    field: str
    sql_type: str
    numeric_order: bool = True


def sql_plan(
    sql: str,
    *,
    catalog: dict[str, Datasource],
    context: dict[str, Any],
    parameters: list[Any] | None = None,
) -> SqlPlan:
    """The native query for one Druid SQL SELECT, or the 400/501 Druid's planner would give."""
    zone = context.get("sqlTimeZone")
    if zone is not None and str(zone).upper() not in ("UTC", "ETC/UTC", "Z"):
        raise Unsupported("sqlTimeZone other than UTC is not supported by localdruid's SQL")
    sql = _bind_parameters(sql, parameters or [])
    statement = _parse(sql)
    return _Planner(statement, catalog, context).plan()


def _parse(sql: str) -> exp.Select:
    try:
        statements = [s for s in sqlglot.parse(sql, read="druid") if isinstance(s, exp.Expression)]
    except (ParseError, TokenError) as exc:
        raise SqlParseError(str(exc).split("\n")[0]) from None
    if not statements:
        raise SqlParseError("Incorrect syntax: the query is empty")
    if len(statements) > 1:
        raise SqlParseError("Incorrect syntax: only one statement is allowed")
    statement = statements[0]
    if isinstance(statement, exp.Command):
        raise Unsupported(f"{statement.name.upper()} is not supported by localdruid's SQL")
    if not isinstance(statement, exp.Select):
        raise Unsupported(f"{statement.key.upper()} is not supported by localdruid's SQL")
    if statement.find(exp.Window):
        raise Unsupported("window functions (OVER) are not supported by localdruid's SQL")
    return statement


def _bind_parameters(sql: str, parameters: list[Any]) -> str:
    """Dynamic parameters become literals in the text, replacing each `?` token in order."""
    try:
        tokens = sqlglot.tokenize(sql, read="druid")
    except TokenError as exc:
        raise SqlParseError(str(exc).split("\n")[0]) from None
    places = [t for t in tokens if t.token_type == TokenType.PLACEHOLDER]
    if not places:
        return sql
    if len(places) > len(parameters):
        raise InvalidInput(f"No value bound for parameter (position [{len(parameters) + 1}])")
    text, last = [], 0
    for i, token in enumerate(places):
        text.append(sql[last : token.start])
        text.append(_parameter_literal(parameters[i], i + 1))
        last = token.end + 1
    text.append(sql[last:])
    return "".join(text)


def _parameter_literal(param: Any, position: int) -> str:
    if not isinstance(param, dict) or "type" not in param:
        raise InvalidInput(f"parameters[{position - 1}] must be an object with type and value")
    kind, value = str(param["type"]).upper(), param.get("value")
    if value is None:
        return "NULL"
    if kind in ("VARCHAR", "CHAR") and isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if kind in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT") and isinstance(value, int):
        return str(value)
    if kind in ("DOUBLE", "FLOAT", "REAL", "DECIMAL") and isinstance(value, int | float):
        return repr(float(value))
    if kind == "TIMESTAMP" and isinstance(value, str):
        return "TIMESTAMP '" + value.replace("'", "''") + "'"
    raise Unsupported(f"parameter type [{kind}] is not supported by localdruid's SQL")


def _construct(node: exp.Expression) -> str:
    """How an error names an unsupported expression: its function name, or its SQL text."""
    if isinstance(node, exp.Anonymous):
        return f"function {node.name.upper()}"
    if isinstance(node, exp.Func) and not isinstance(node, exp.Case):
        return f"function {node.sql_name()}"
    text = node.sql(dialect="druid")
    return f"[{text if len(text) <= 80 else text[:77] + '...'}]"


def _unparen(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


class _Planner:
    """Plans one SELECT; aggregators, virtual columns and post-aggregators accumulate here."""

    def __init__(
        self, select: exp.Select, catalog: dict[str, Datasource], context: dict[str, Any]
    ) -> None:
        self.select = select
        self.context = context
        self.table = self._table(catalog)
        self.items = list(select.expressions)
        self.aggregations: list[dict[str, Any]] = []
        self.post_aggregations: list[dict[str, Any]] = []
        self.virtual_columns: list[dict[str, Any]] = []
        self.aggregates: dict[str, _Value] = {}  # aggregate call SQL -> its output
        self.floors: dict[_Floor, str] = {}  # floor -> its virtual column

    # -- FROM ----------------------------------------------------------------------------------

    def _table(self, catalog: dict[str, Datasource]) -> _Table:
        for key, value in self.select.args.items():
            if value and key not in _CLAUSES:
                name = _CLAUSE_NAMES.get(key, key.rstrip("_").upper())
                raise Unsupported(f"{name} is not supported by localdruid's SQL")
        source = self.select.args.get("from_")
        if source is None:
            raise Unsupported("SELECT without FROM is not supported by localdruid's SQL")
        table = source.this
        if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier):
            kind = "a subquery" if isinstance(table, exp.Subquery) else _construct(table)
            raise Unsupported(f"{kind} in FROM is not supported by localdruid's SQL")
        for key, value in table.args.items():
            if value and key not in ("this", "db", "catalog", "alias"):
                raise Unsupported(f"{key.upper()} in FROM is not supported by localdruid's SQL")
        if table.catalog or (table.db and table.db != "druid"):
            schema = ".".join(p for p in (table.catalog, table.db) if p)
            raise Unsupported(f"the [{schema}] schema is not supported by localdruid's SQL")
        ds = catalog.get(table.name)
        if ds is None or not ds.segments:
            raise SqlValidationError(f"Object '{table.name}' not found")
        # Druid's schema (and so SELECT *): __time, then each column in the order of the newest
        # segment that has it (its dimensions, then its metrics), as the broker's segment
        # metadata cache merges row signatures; older Druid sorted the names instead.
        types = {TIME: "LONG"}
        for seg in sorted(ds.segments, key=lambda s: (-s.start, s.id)):
            for name in (*seg.dimensions, *seg.metrics):
                col = ds.columns.get(name)
                if col is not None and name not in types:
                    types[name] = col.type
        multi = frozenset(c.name for c in ds.columns.values() if c.multi_value)
        return _Table(ds.name, table.alias or None, types, multi)

    def _column(self, node: exp.Column) -> str:
        qualifier = node.table
        if qualifier and qualifier not in (self.table.name, self.table.alias):
            raise SqlValidationError(f"Table '{qualifier}' not found")
        if node.name not in self.table.types:
            raise SqlValidationError(f"Column '{node.name}' not found in any table")
        return node.name

    def _column_type(self, name: str) -> str:
        kind = self.table.types[name]
        if kind not in SQL_TYPES:
            raise Unsupported(
                f"column [{name}] of type {kind} is not supported by localdruid's SQL"
            )
        return kind

    # -- the plan ------------------------------------------------------------------------------

    def plan(self) -> SqlPlan:
        if any(_is_star(i) for i in self.items):
            if len(self.items) > 1:
                raise Unsupported("* with other columns is not supported by localdruid's SQL")
            if isinstance(self.items[0], exp.Column):
                self._column(exp.column(TIME, table=self.items[0].table))  # checks the qualifier
            self.items = [exp.column(name, quoted=True) for name in self.table.types]
        names = [self._output_name(item, i) for i, item in enumerate(self.items)]
        if len(set(names)) != len(names):
            raise Unsupported("duplicate output column names are not supported by localdruid's SQL")
        intervals, filter_ = self._where()
        if self._aggregating():
            return self._aggregate_plan(names, intervals, filter_)
        return self._scan_plan(names, intervals, filter_)

    def _output_name(self, item: exp.Expression, position: int) -> str:
        if isinstance(item, exp.Alias):
            return item.alias
        if isinstance(item, exp.Column):
            return item.name
        return f"EXPR${position}"

    def _aggregating(self) -> bool:
        clauses = [*self.items, self.select.args.get("having"), self.select.args.get("order")]
        uses = any(c is not None and c.find(*_AGGREGATES) for c in clauses)
        return uses or self.select.args.get("group") is not None or self._distinct()

    def _distinct(self) -> bool:
        """SELECT DISTINCT of plain columns and floors: Druid groups by every one of them."""
        distinct = self.select.args.get("distinct")
        if distinct is None:
            return False
        if distinct.args.get("on") or self.select.args.get("group"):
            raise Unsupported("this SELECT DISTINCT is not supported by localdruid's SQL")
        if any(i.find(*_AGGREGATES) for i in self.items):
            raise Unsupported("SELECT DISTINCT of aggregates is not supported by localdruid's SQL")
        return True

    def _native(
        self, kind: str, intervals: Ranges, filter_: dict[str, Any] | None
    ) -> dict[str, Any]:
        query: dict[str, Any] = {
            "queryType": kind,
            "dataSource": {"type": "table", "name": self.table.name},
            "intervals": {
                "type": "intervals",
                "intervals": [timeutil.format_interval(s, e) for s, e in intervals],
            },
        }
        if filter_ is not None:
            query["filter"] = filter_
        if self.virtual_columns:
            query["virtualColumns"] = self.virtual_columns
        return query

    def _limits(self) -> tuple[int | None, int]:
        """LIMIT and OFFSET; the context's sqlOuterLimit caps the limit, as in Druid."""
        limit_clause = self.select.args.get("limit")
        offset = self.select.args.get("offset")
        limit = None
        if limit_clause is not None:
            limit = self._count_literal(limit_clause.expression, "LIMIT")
        outer = self.context.get("sqlOuterLimit")
        if outer is not None:
            if isinstance(outer, bool) or not isinstance(outer, int) or outer < 0:
                raise InvalidInput(f"sqlOuterLimit must be a non-negative integer, got [{outer}]")
            limit = outer if limit is None else min(limit, outer)
        return limit, 0 if offset is None else self._count_literal(offset.expression, "OFFSET")

    def _count_literal(self, node: exp.Expression, clause: str) -> int:
        if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
            return int(node.this)
        raise Unsupported(f"{clause} must be a non-negative integer literal in localdruid's SQL")

    # -- non-aggregating: scan -----------------------------------------------------------------

    def _scan_plan(self, names: list[str], intervals: Ranges, filter_: Any) -> SqlPlan:
        values = [self._scan_value(_strip_alias(item)) for item in self.items]
        columns = [OutputColumn(n, v.field, v.sql_type) for n, v in zip(names, values, strict=True)]
        query = self._native("scan", intervals, filter_)
        query["resultFormat"] = "compactedList"
        order = self._scan_order(names, values)
        # Druid's scan orders by __time only when it reads __time, selected or not.
        read = {v.field for v in values} | ({TIME} if order != "none" else set())
        query["columns"] = sorted(read)
        if order != "none":
            query["order"] = order
        limit, offset = self._limits()
        if limit:
            query["limit"] = limit
        if offset:
            query["offset"] = offset
        query["context"] = self.context
        return SqlPlan(query, columns, no_rows=limit == 0 or not intervals)

    def _scan_value(self, node: exp.Expression) -> _Value:
        node = _unparen(node)
        if isinstance(node, exp.Column):
            name = self._column(node)
            if name == TIME:
                return _Value(TIME, "TIMESTAMP")
            if name in self.table.multi_value:
                raise Unsupported(
                    f"selecting multi-value column [{name}] is not supported by localdruid's SQL"
                )
            return _Value(name, SQL_TYPES[self._column_type(name)])
        floor = self._time_floor(node)
        if floor is not None:
            return _Value(self._floor_column(floor), "TIMESTAMP")
        raise Unsupported(f"{_construct(node)} is not supported by localdruid's SQL")

    def _scan_order(self, names: list[str], values: list[_Value]) -> str:
        order = self.select.args.get("order")
        if order is None:
            return "none"
        keys = order.expressions
        directions = []
        for key in keys:
            target = self._order_target(key.this, names, values)
            if target is None or target.field != TIME:
                raise InvalidInput(
                    "SQL query requires ordering a table by non-time column "
                    f"[[{_display(key.this)}]], which is not supported."
                )
            directions.append("descending" if key.args.get("desc") else "ascending")
        return directions[0]

    def _order_target(
        self, node: exp.Expression, names: list[str], values: list[_Value]
    ) -> _Value | None:
        """What an ORDER BY key names: an ordinal, an output alias, or a select expression."""
        node = _unparen(node)
        if isinstance(node, exp.Literal) and not node.is_string:
            position = int(node.this) if node.this.isdigit() else 0
            if not 1 <= position <= len(values):
                raise SqlValidationError(f"Ordinal out of range: {node.this}")
            return values[position - 1]
        if isinstance(node, exp.Column) and not node.table and node.name in names:
            return values[names.index(node.name)]
        for item, value in zip(self.items, values, strict=True):
            if _same(_strip_alias(item), node):
                return value
        if isinstance(node, exp.Column) and self._column(node) == TIME:
            return _Value(TIME, "TIMESTAMP")
        return None

    def _floor_column(self, floor: _Floor) -> str:
        """A virtual column holding the floor of __time, as Druid's planner adds."""
        if floor not in self.floors:
            name = f"v{len(self.virtual_columns)}"
            self.floors[floor] = name
            self.virtual_columns.append(
                {
                    "type": "expression",
                    "name": name,
                    "expression": floor.expression(),
                    "outputType": "LONG",
                }
            )
        return self.floors[floor]

    def _time_floor(self, node: exp.Expression) -> _Floor | None:
        """The floor TIME_FLOOR(__time, period[, NULL, zone]) or FLOOR(__time TO unit) is
        (in UTC, the sqlTimeZone), or None for any other expression."""
        node = _unparen(node)
        if isinstance(node, exp.Floor) and node.args.get("to") is not None:
            arg, unit = node.this, node.args["to"].name.upper()
            if unit not in _FLOOR_UNITS:
                raise Unsupported(f"FLOOR to {unit} is not supported by localdruid's SQL")
            self._time_argument(arg, "FLOOR")
            return _Floor(_FLOOR_UNITS[unit])
        if isinstance(node, exp.Anonymous) and node.name.upper() == "TIME_FLOOR":
            args = node.expressions
            if not 2 <= len(args) <= 4:
                raise SqlValidationError("Invalid number of arguments to function 'TIME_FLOOR'")
            self._time_argument(args[0], "TIME_FLOOR")
            period = args[1]
            if not (isinstance(period, exp.Literal) and period.is_string):
                raise Unsupported("TIME_FLOOR's period must be a literal in localdruid's SQL")
            if len(args) > 2 and not isinstance(args[2], exp.Null):
                raise Unsupported("TIME_FLOOR with an origin is not supported by localdruid's SQL")
            zone = "UTC"
            if len(args) > 3 and not isinstance(args[3], exp.Null):
                if not (isinstance(args[3], exp.Literal) and args[3].is_string):
                    raise Unsupported(
                        "TIME_FLOOR's time zone must be a literal in localdruid's SQL"
                    )
                zone = str(args[3].this)
            try:
                timeutil.parse_period(period.this)
                timeutil.parse_zone(zone)
            except ValueError as exc:
                raise InvalidInput(f"TIME_FLOOR: {exc}") from None
            return _Floor(str(period.this), zone)
        return None

    def _time_argument(self, node: exp.Expression, fn: str) -> None:
        node = _unparen(node)
        if not (isinstance(node, exp.Column) and self._column(node) == TIME):
            raise Unsupported(f"{fn} of anything but __time is not supported by localdruid's SQL")

    # -- aggregating: timeseries or groupBy ----------------------------------------------------

    def _aggregate_plan(self, names: list[str], intervals: Ranges, filter_: Any) -> SqlPlan:
        keys = self._group_keys()
        outputs = [self._grouped_value(_strip_alias(item), keys) for item in self.items]
        having = self.select.args.get("having")
        having_filter = self._having(having.this, keys) if having is not None else None
        order = self._grouped_order(names, outputs, keys)
        limit, offset = self._limits()
        floors = [k for k in keys if isinstance(k, _Floor)]
        timeseries = (
            len(keys) == len(floors) <= 1
            and having_filter is None
            and not offset
            and all(field == "d0" for field, _ in order)
        )
        if not keys and not intervals:
            # Druid's answer (one row of empty aggregates, or none) is not pinned down here.
            raise Unsupported("an aggregate over no time at all is not supported by localdruid")
        if timeseries:
            return self._timeseries(names, outputs, keys, order, limit, intervals, filter_)
        return self._group_by(
            names, outputs, keys, having_filter, order, (limit, offset), intervals, filter_
        )

    def _group_keys(self) -> list[Key]:
        """The GROUP BY keys in order, each once."""
        group = self.select.args.get("group")
        nodes = group.expressions if group is not None else []
        if self._distinct():
            nodes = [exp.Literal.number(i + 1) for i in range(len(self.items))]
        keys: list[Key] = []
        for node in nodes:
            node = _unparen(node)
            if isinstance(node, exp.Literal) and not node.is_string:
                position = int(node.this) if node.this.isdigit() else 0
                if not 1 <= position <= len(self.items):
                    raise SqlValidationError(f"Ordinal out of range: {node.this}")
                node = _strip_alias(self.items[position - 1])
            else:
                node = self._aliased(node)
            key = self._key(_unparen(node))
            if key not in keys:
                keys.append(key)
        return keys

    def _aliased(self, node: exp.Expression) -> exp.Expression:
        """A name in GROUP BY or HAVING that is no column but a select alias: its expression."""
        if isinstance(node, exp.Column) and not node.table and node.name not in self.table.types:
            for item in self.items:
                if isinstance(item, exp.Alias) and item.alias == node.name:
                    return _strip_alias(item)
        return node

    def _key(self, node: exp.Expression) -> Key:
        if node.find(*_AGGREGATES):
            raise SqlValidationError("Aggregate expression is illegal in GROUP BY clause")
        floor = self._time_floor(node)
        if floor is not None:
            return floor
        if isinstance(node, exp.Column):
            name = self._column(node)
            if name != TIME:
                self._column_type(name)
            return name
        raise Unsupported(f"GROUP BY {_construct(node)} is not supported by localdruid's SQL")

    def _key_value(self, index: int, key: Key) -> _Value:
        if isinstance(key, _Floor) or key == TIME:
            return _Value(f"d{index}", "TIMESTAMP")
        sql_type = SQL_TYPES[self.table.types[key]]
        return _Value(f"d{index}", sql_type, sql_type != "VARCHAR")

    def _grouped_value(self, node: exp.Expression, keys: list[Key]) -> _Value:
        node = _unparen(node)
        if isinstance(node, _AGGREGATES):
            return self._aggregate(node)
        if isinstance(node, exp.Column) or self._time_floor(node) is not None:
            key = self._key(node)
            for i, known in enumerate(keys):
                if known == key:
                    return self._key_value(i, known)
            raise SqlValidationError(f"Expression '{_display(node)}' is not being grouped")
        raise Unsupported(f"{_construct(node)} is not supported by localdruid's SQL")

    def _aggregate(self, node: exp.Expression) -> _Value:
        """The output of an aggregate call, adding its aggregators once per distinct call."""
        text = node.sql(dialect="druid")
        if text not in self.aggregates:
            self.aggregates[text] = self._new_aggregate(node, f"a{len(self.aggregates)}")
        return self.aggregates[text]

    def _new_aggregate(self, node: exp.Expression, name: str) -> _Value:
        if node.find(exp.Filter, exp.Window) or any(
            isinstance(a, _AGGREGATES) for a in node.find_all(*_AGGREGATES) if a is not node
        ):
            raise Unsupported(f"{node.sql(dialect='druid')} is not supported by localdruid's SQL")
        arg = _unparen(node.this) if node.this is not None else None
        if isinstance(node, exp.Count) and isinstance(arg, exp.Star):
            self.aggregations.append({"type": "count", "name": name})
            return _Value(name, "BIGINT")
        distinct = isinstance(node, exp.ApproxDistinct) or isinstance(arg, exp.Distinct)
        if isinstance(arg, exp.Distinct):
            if not isinstance(node, exp.Count):
                raise Unsupported(
                    f"{node.key.upper()}(DISTINCT) is not supported by localdruid's SQL"
                )
            if len(arg.expressions) != 1:
                raise Unsupported(
                    "COUNT(DISTINCT) of several columns is not supported by localdruid's SQL"
                )
            arg = _unparen(arg.expressions[0])
        if isinstance(node, exp.Count) and not distinct and isinstance(arg, exp.Literal):
            # COUNT of a non-null literal counts every row, as COUNT(*).
            self.aggregations.append({"type": "count", "name": name})
            return _Value(name, "BIGINT")
        if not isinstance(arg, exp.Column):
            raise Unsupported(
                f"{node.key.upper()} of {_construct(arg) if arg else 'nothing'} "
                "is not supported by localdruid's SQL"
            )
        column = self._column(arg)
        kind = self.table.types[column]
        if distinct:
            return self._distinct_count(node, column, kind, name)
        if column in self.table.multi_value or kind not in SQL_TYPES:
            raise Unsupported(
                f"{node.key.upper()} of column [{column}] is not supported by localdruid's SQL"
            )
        if isinstance(node, exp.Count):
            self.aggregations.append(_count_non_null(name, column))
            return _Value(name, "BIGINT")
        fn = type(node).__name__.upper()
        summing = isinstance(node, exp.Sum | exp.Avg)
        if summing and (kind == "STRING" or column == TIME):
            sql_type = "TIMESTAMP(3)" if column == TIME else "VARCHAR"
            raise SqlValidationError(
                f"Cannot apply '{fn}' to arguments of type '{fn}(<{sql_type}>)'. "
                f"Supported form(s): '{fn}(<NUMERIC>)'"
            )
        if kind == "STRING":
            raise Unsupported(f"{fn} of a string column is not supported by localdruid's SQL")
        if isinstance(node, exp.Avg):
            return self._average(column, kind, name)
        if summing:
            # Druid widens every sum to 64 bits: BIGINT for integers, DOUBLE otherwise.
            kind = "LONG" if kind == "LONG" else "DOUBLE"
        aggregator = {"type": f"{kind.lower()}{fn.title()}", "name": name, "fieldName": column}
        self.aggregations.append(aggregator)
        return _Value(name, "TIMESTAMP" if column == TIME else SQL_TYPES[kind])

    def _distinct_count(self, node: exp.Expression, column: str, kind: str, name: str) -> _Value:
        """Druid's default (useApproximateCountDistinct) counts distinct values approximately:
        a hyperUnique metric with its own aggregator, any other column with cardinality."""
        if kind == "COMPLEX<hyperUnique>":
            self.aggregations.append(
                {"type": "hyperUnique", "name": name, "fieldName": column, "round": True}
            )
            return _Value(name, "BIGINT")
        if kind not in SQL_TYPES or column == TIME:
            raise Unsupported(
                f"{node.key.upper()} of column [{column}] is not supported by localdruid's SQL"
            )
        dimension = {
            "type": "default",
            "dimension": column,
            "outputName": column,
            "outputType": kind,
        }
        self.aggregations.append(
            {
                "type": "cardinality",
                "name": name,
                "fields": [dimension],
                "byRow": False,
                "round": True,
            }
        )
        return _Value(name, "BIGINT")

    def _average(self, column: str, kind: str, name: str) -> _Value:
        """AVG as Druid plans it: a 64-bit sum over a count of non-null values, divided by a
        quotient post-aggregator; an average of integers is an integer (BIGINT), truncated."""
        sum_type = "longSum" if kind == "LONG" else "doubleSum"
        self.aggregations.append({"type": sum_type, "name": f"{name}:sum", "fieldName": column})
        self.aggregations.append(_count_non_null(f"{name}:count", column))
        self.post_aggregations.append(
            {
                "type": "arithmetic",
                "name": name,
                "fn": "quotient",
                "fields": [
                    {"type": "fieldAccess", "fieldName": f"{name}:sum"},
                    {"type": "fieldAccess", "fieldName": f"{name}:count"},
                ],
            }
        )
        return _Value(name, "BIGINT" if kind == "LONG" else "DOUBLE")

    def _grouped_order(
        self, names: list[str], outputs: list[_Value], keys: list[Key]
    ) -> list[tuple[str, dict[str, Any]]]:
        """ORDER BY keys as (field, limitSpec column)."""
        order = self.select.args.get("order")
        result = []
        for key in order.expressions if order is not None else []:
            if bool(key.args.get("nulls_first")) == bool(key.args.get("desc")):
                # Druid sorts nulls first ascending, last descending; the other way is not
                # something a limitSpec says.
                where = "LAST" if key.args.get("nulls_first") is False else "FIRST"
                raise Unsupported(
                    f"ORDER BY ... NULLS {where} is not supported by localdruid's SQL"
                )
            node = _unparen(key.this)
            target = None
            if (isinstance(node, exp.Literal) and not node.is_string) or (
                isinstance(node, exp.Column) and not node.table and node.name in names
            ):
                target = self._order_target(node, names, outputs)
            if target is None:
                for item, value in zip(self.items, outputs, strict=True):
                    if _same(_strip_alias(item), node):
                        target = value
            if target is None:
                target = self._grouped_value(node, keys)
            spec = {
                "dimension": target.field,
                "direction": "descending" if key.args.get("desc") else "ascending",
                "dimensionOrder": "numeric" if target.numeric_order else "lexicographic",
            }
            result.append((target.field, spec))
        return result

    def _timeseries(
        self,
        names: list[str],
        outputs: list[_Value],
        keys: list[Key],
        order: list[tuple[str, dict[str, Any]]],
        limit: int | None,
        intervals: Ranges,
        filter_: Any,
    ) -> SqlPlan:
        """Grouping on nothing or on one time floor only: Druid plans a timeseries, whose
        buckets are the floor; empty buckets are skipped as no group would hold them."""
        query = self._native("timeseries", intervals, filter_)
        floor = keys[0] if keys else None
        query["granularity"] = floor.granularity() if isinstance(floor, _Floor) else "all"
        query["aggregations"] = self.aggregations
        if self.post_aggregations:
            query["postAggregations"] = self.post_aggregations
        if order and order[0][1]["direction"] == "descending":
            query["descending"] = True
        if limit:
            query["limit"] = limit
        query["context"] = {**self.context, "skipEmptyBuckets": bool(keys)}
        fields = [("__timestamp" if v.field == "d0" else v.field) for v in outputs]
        columns = [
            OutputColumn(n, f, v.sql_type) for n, f, v in zip(names, fields, outputs, strict=True)
        ]
        return SqlPlan(query, columns, no_rows=limit == 0 or not intervals)

    def _group_by(
        self,
        names: list[str],
        outputs: list[_Value],
        keys: list[Key],
        having: dict[str, Any] | None,
        order: list[tuple[str, dict[str, Any]]],
        limits: tuple[int | None, int],
        intervals: Ranges,
        filter_: Any,
    ) -> SqlPlan:
        dimensions = []
        for i, key in enumerate(keys):
            dimension = self._floor_column(key) if isinstance(key, _Floor) else key
            value = self._key_value(i, key)
            out_type = "LONG" if value.sql_type == "TIMESTAMP" else DRUID_TYPES[value.sql_type]
            dimensions.append(
                {
                    "type": "default",
                    "dimension": dimension,
                    "outputName": f"d{i}",
                    "outputType": out_type,
                }
            )
        query = self._native("groupBy", intervals, filter_)
        query["granularity"] = "all"
        query["dimensions"] = dimensions
        query["aggregations"] = self.aggregations
        if self.post_aggregations:
            query["postAggregations"] = self.post_aggregations
        if having is not None:
            query["having"] = {"type": "filter", "filter": having}
        limit, offset = limits
        if order or limit is not None or offset:
            spec: dict[str, Any] = {"type": "default", "columns": [s for _, s in order]}
            if limit is not None:
                spec["limit"] = limit
            if offset:
                spec["offset"] = offset
            query["limitSpec"] = spec
        query["context"] = self.context
        columns = [
            OutputColumn(n, v.field, v.sql_type) for n, v in zip(names, outputs, strict=True)
        ]
        return SqlPlan(query, columns, no_rows=limit == 0 or not intervals)

    def _having(self, node: exp.Expression, keys: list[Key]) -> dict[str, Any]:
        """HAVING as a filter over the grouped row's output fields (a0, d0, ...)."""

        def operand(side: exp.Expression) -> tuple[str, str] | None:
            side = _unparen(self._aliased(_unparen(side)))
            if isinstance(side, (*_AGGREGATES, exp.Column)):
                value = self._grouped_value(side, keys)
                if value.sql_type == "TIMESTAMP":
                    raise Unsupported("HAVING on a time is not supported by localdruid's SQL")
                return value.field, DRUID_TYPES[value.sql_type]
            return None

        return _Conditions(operand).filter(node)

    # -- WHERE ---------------------------------------------------------------------------------

    def _where(self) -> tuple[Ranges, dict[str, Any] | None]:
        """The intervals and filter of the WHERE clause: conditions on __time alone (joined by
        AND at the top) become intervals, the rest a native filter, as Druid's Filtration."""
        where = self.select.args.get("where")
        if where is None:
            return ETERNITY, None
        if where.find(*_AGGREGATES):
            raise SqlValidationError("Aggregate functions are not allowed in WHERE")
        intervals, rest = ETERNITY, []
        conditions = _Conditions(self._where_operand, self._time_operand)
        for conjunct in _conjuncts(where.this):
            ranges = conditions.time_ranges(conjunct)
            if ranges is None:
                rest.append(conditions.filter(conjunct))
            else:
                intervals = _intersect(intervals, ranges)
        if not rest:
            return intervals, None
        return intervals, rest[0] if len(rest) == 1 else {"type": "and", "fields": rest}

    def _where_operand(self, node: exp.Expression) -> tuple[str, str] | None:
        node = _unparen(node)
        if not isinstance(node, exp.Column):
            return None
        name = self._column(node)
        if name == TIME:
            return None
        return name, self._column_type(name)

    def _time_operand(self, node: exp.Expression) -> bool:
        node = _unparen(node)
        return isinstance(node, exp.Column) and self._column(node) == TIME


def _count_non_null(name: str, column: str) -> dict[str, Any]:
    if column == TIME:
        return {"type": "count", "name": name}
    return {
        "type": "filtered",
        "name": name,
        "aggregator": {"type": "count", "name": name},
        "filter": {"type": "not", "field": {"type": "null", "column": column}},
    }


def _is_star(node: exp.Expression) -> bool:
    """`*`, or `t.*` naming the table."""
    return isinstance(node, exp.Star) or (
        isinstance(node, exp.Column) and isinstance(node.this, exp.Star)
    )


def _strip_alias(node: exp.Expression) -> exp.Expression:
    return node.this if isinstance(node, exp.Alias) else node


def _display(node: exp.Expression) -> str:
    """An expression as Calcite's messages show it: a column by its bare name."""
    node = _unparen(_strip_alias(node))
    return node.name if isinstance(node, exp.Column) else node.sql(dialect="druid")


def _same(a: exp.Expression, b: exp.Expression) -> bool:
    return _unparen(a).sql(dialect="druid") == _unparen(b).sql(dialect="druid")


def _conjuncts(node: exp.Expression) -> list[exp.Expression]:
    node = _unparen(node)
    if isinstance(node, exp.And):
        return [*_conjuncts(node.this), *_conjuncts(node.expression)]
    return [node]


class _Conditions:
    """Boolean SQL conditions as native filters; comparisons of __time with TIMESTAMP literals
    as time ranges. An operand resolver says which expressions are columns (field, Druid type)."""

    def __init__(
        self, operand: Operand, is_time: Callable[[exp.Expression], bool] | None = None
    ) -> None:
        self.operand = operand
        self.is_time = is_time or (lambda node: False)

    # -- time ----------------------------------------------------------------------------------

    def time_ranges(self, node: exp.Expression) -> Ranges | None:
        """The [start, end) ranges of __time the condition keeps, if it reads only __time."""
        node = _unparen(node)
        if isinstance(node, exp.And | exp.Or):
            left, right = self.time_ranges(node.this), self.time_ranges(node.expression)
            if left is None or right is None:
                return None
            return _intersect(left, right) if isinstance(node, exp.And) else _union(left + right)
        if isinstance(node, exp.Not):
            inner = self.time_ranges(node.this)
            return None if inner is None else _complement(inner)
        if type(node) in _COMPARISONS:
            return self._time_comparison(node)
        if isinstance(node, exp.Between) and self.is_time(node.this):
            low, high = _timestamp(node.args["low"]), _timestamp(node.args["high"])
            if low is None or high is None:
                return None
            return [(low, high + 1)] if low <= high else []
        if isinstance(node, exp.In) and self.is_time(node.this) and not node.args.get("query"):
            points = [_timestamp(v) for v in node.expressions]
            if any(p is None for p in points):
                return None
            return _union([(p, p + 1) for p in points if p is not None])
        if isinstance(node, exp.Is) and self.is_time(node.this):
            return [] if isinstance(node.expression, exp.Null) else None
        return None

    def _time_comparison(self, node: exp.Expression) -> Ranges | None:
        op = _COMPARISONS[type(node)]
        left, right = node.this, node.expression
        if self.is_time(right) and not self.is_time(left):
            left, right, op = right, left, _FLIPPED[op]
        if not self.is_time(left):
            return None
        t = _timestamp(right)
        if t is None:
            return None
        low, high = timeutil.MIN_MS, timeutil.MAX_MS
        ranges = {
            "=": [(t, t + 1)],
            "<>": _complement([(t, t + 1)]),
            "<": [(low, t)],
            "<=": [(low, t + 1)],
            ">": [(t + 1, high)],
            ">=": [(t, high)],
        }[op]
        return [(s, e) for s, e in ranges if s < e]

    # -- filters -------------------------------------------------------------------------------

    def filter(self, node: exp.Expression) -> dict[str, Any]:
        node = _unparen(node)
        ranges = self.time_ranges(node)
        if ranges is not None:
            return _time_filter(ranges)
        if isinstance(node, exp.And | exp.Or):
            kind = "and" if isinstance(node, exp.And) else "or"
            fields: list[dict[str, Any]] = []
            for child in (node.this, node.expression):
                built = self.filter(child)
                fields.extend(built["fields"] if built["type"] == kind else [built])
            return {"type": kind, "fields": fields}
        if isinstance(node, exp.Not):
            return {"type": "not", "field": self.filter(node.this)}
        if isinstance(node, exp.Boolean):
            return {"type": "true" if node.this else "false"}
        if type(node) in _COMPARISONS:
            return self._comparison(node)
        if isinstance(node, exp.Escape | exp.Like):
            return self._like(node)
        if isinstance(node, exp.Between):
            column = self._column(node.this, "BETWEEN")
            low = self._literal(node.args["low"], column)
            high = self._literal(node.args["high"], column)
            return _range(column, lower=(low, False), upper=(high, False))
        if isinstance(node, exp.In):
            return self._in(node)
        if isinstance(node, exp.Is):
            if not isinstance(node.expression, exp.Null):
                raise Unsupported(
                    f"IS {node.expression.sql()} is not supported by localdruid's SQL"
                )
            return {"type": "null", "column": self._column(node.this, "IS NULL")[0]}
        raise Unsupported(f"{_construct(node)} in a condition is not supported by localdruid's SQL")

    def _column(self, node: exp.Expression, what: str) -> tuple[str, str]:
        column = self.operand(node)
        if column is None:
            if self.is_time(node):
                raise Unsupported(
                    f"{what} on __time with anything but TIMESTAMP literals is not supported "
                    "by localdruid's SQL"
                )
            raise Unsupported(
                f"{what} on {_construct(_unparen(node))} is not supported by localdruid's SQL"
            )
        return column

    def _literal(self, node: exp.Expression, column: tuple[str, str]) -> Any:
        """A literal compared with the column, which must be of the column's kind: Druid would
        cast one side otherwise, which localdruid does not plan."""
        value = _literal(node)
        name, kind = column
        if value is None:
            raise Unsupported("a comparison with NULL is not supported by localdruid's SQL")
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if (kind in _NUMERIC) != numeric:
            raise Unsupported(
                f"comparing {kind} column [{name}] with {node.sql(dialect='druid')} "
                "is not supported by localdruid's SQL"
            )
        return value

    def _comparison(self, node: exp.Expression) -> dict[str, Any]:
        op = _COMPARISONS[type(node)]
        left, right = node.this, node.expression
        if self.operand(left) is None and self.operand(right) is not None:
            left, right, op = right, left, _FLIPPED[op]
        column = self._column(left, op)
        value = self._literal(right, column)
        if op in ("=", "<>"):
            equals = {
                "type": "equals",
                "column": column[0],
                "matchValueType": _match_type(column[1], value),
                "matchValue": value,
            }
            return equals if op == "=" else {"type": "not", "field": equals}
        bounds = {
            "<": {"upper": (value, True)},
            "<=": {"upper": (value, False)},
            ">": {"lower": (value, True)},
            ">=": {"lower": (value, False)},
        }[op]
        return _range(column, **bounds)

    def _like(self, node: exp.Expression) -> dict[str, Any]:
        escape = None
        if isinstance(node, exp.Escape):
            escape = _literal(node.expression)
            node = node.this
        if not isinstance(node, exp.Like):
            raise Unsupported(f"{_construct(node)} is not supported by localdruid's SQL")
        name, kind = self._column(node.this, "LIKE")
        pattern = _literal(node.expression)
        if kind != "STRING" or not isinstance(pattern, str):
            raise Unsupported("LIKE on anything but a string column and a string literal")
        like: dict[str, Any] = {"type": "like", "dimension": name, "pattern": pattern}
        if escape is not None:
            like["escape"] = escape
        return {"type": "not", "field": like} if node.args.get("negate") else like

    def _in(self, node: exp.In) -> dict[str, Any]:
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            raise Unsupported("IN with a subquery is not supported by localdruid's SQL")
        if not node.expressions:
            raise SqlParseError("Incorrect syntax: IN needs at least one value")
        column = self._column(node.this, "IN")
        values = [self._literal(v, column) for v in node.expressions]
        if column[1] == "STRING":
            return {"type": "in", "dimension": column[0], "values": sorted(set(values))}
        fields = [
            {
                "type": "equals",
                "column": column[0],
                "matchValueType": _match_type(column[1], v),
                "matchValue": v,
            }
            for v in dict.fromkeys(values)
        ]
        return fields[0] if len(fields) == 1 else {"type": "or", "fields": fields}


def _match_type(kind: str, value: Any) -> str:
    if kind == "STRING":
        return "STRING"
    return "LONG" if isinstance(value, int) else "DOUBLE"


def _range(
    column: tuple[str, str],
    lower: tuple[Any, bool] | None = None,
    upper: tuple[Any, bool] | None = None,
) -> dict[str, Any]:
    name, kind = column
    values = [b[0] for b in (lower, upper) if b is not None]
    match = "STRING" if kind == "STRING" else "LONG"
    if kind != "STRING" and any(isinstance(v, float) for v in values):
        match = "DOUBLE"
    spec: dict[str, Any] = {"type": "range", "column": name, "matchValueType": match}
    if lower is not None:
        spec["lower"], spec["lowerOpen"] = lower
    if upper is not None:
        spec["upper"], spec["upperOpen"] = upper
    return spec


def _time_filter(ranges: Ranges) -> dict[str, Any]:
    """__time ranges inside a larger condition, as range filters on the __time column."""
    fields: list[dict[str, Any]] = []
    for start, end in ranges:
        spec: dict[str, Any] = {"type": "range", "column": TIME, "matchValueType": "LONG"}
        if start > timeutil.MIN_MS:
            spec["lower"] = start
        if end < timeutil.MAX_MS:
            spec["upper"], spec["upperOpen"] = end, True
        fields.append(spec if len(spec) > 3 else {"type": "true"})
    if not fields:
        return {"type": "false"}
    return fields[0] if len(fields) == 1 else {"type": "or", "fields": fields}


def _literal(node: exp.Expression) -> Any:
    """A literal's value: a string, an int, a float or None (NULL)."""
    node = _unparen(node)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Neg):
        value = _literal(node.this)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value
    if isinstance(node, exp.Literal):
        if node.is_string:
            return str(node.this)
        text = str(node.this)
        if re.fullmatch(r"\d+", text):
            return int(text)
        try:
            return float(text)
        except ValueError:
            pass
    raise Unsupported(f"{_construct(node)} as a value is not supported by localdruid's SQL")


def _timestamp(node: exp.Expression) -> int | None:
    """The instant of a TIMESTAMP literal (or a string Calcite would cast to one), in UTC."""
    node = _unparen(node)
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.TIMESTAMP:
        node = node.this
    if not (isinstance(node, exp.Literal) and node.is_string):
        return None
    match = _TIMESTAMP.fullmatch(node.this)
    if match is None:
        raise InvalidInput(f"Illegal TIMESTAMP literal '{node.this}'")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError:
        raise InvalidInput(f"Illegal TIMESTAMP literal '{node.this}'") from None
    millis = int((fraction or "0")[:3].ljust(3, "0"))
    return int(moment.timestamp()) * 1000 + millis


def _union(ranges: Ranges) -> Ranges:
    merged: Ranges = []
    for start, end in sorted(r for r in ranges if r[0] < r[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _intersect(a: Ranges, b: Ranges) -> Ranges:
    return _union([(max(s1, s2), min(e1, e2)) for s1, e1 in a for s2, e2 in b])


def _complement(ranges: Ranges) -> Ranges:
    result, cursor = [], timeutil.MIN_MS
    for start, end in _union(ranges):
        if cursor < start:
            result.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < timeutil.MAX_MS:
        result.append((cursor, timeutil.MAX_MS))
    return result
