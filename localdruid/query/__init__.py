"""Native queries: parse the JSON body, pick the handler for its queryType, run it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from localdruid.errors import InvalidInput, Unsupported
from localdruid.jsonspec import Spec
from localdruid.query import groupby, metadata, scan, search, subquery, timeseries, topn
from localdruid.query.base import Execution, resolve_datasource
from localdruid.storage import Datasource

Handler = Callable[[Spec, Datasource, Execution], list[dict[str, Any]]]

HANDLERS: dict[str, Handler] = {
    "timeseries": timeseries.run,
    "topN": topn.run,
    "groupBy": groupby.run,
    "timeBoundary": metadata.run_time_boundary,
    "segmentMetadata": metadata.run_segment_metadata,
    "dataSourceMetadata": metadata.run_datasource_metadata,
    "scan": scan.run,
    "select": scan.run_select,
    "search": search.run,
}
UNSUPPORTED = {"windowOperator"}


def query_type(query: Any) -> str:
    spec = Spec(query, "")
    kind = spec.data.get("queryType")
    if not isinstance(kind, str):
        raise InvalidInput(
            "Missing type id when trying to resolve subtype of query: field [queryType]"
        )
    if kind not in HANDLERS:
        if kind in UNSUPPORTED:
            raise Unsupported(f"Query type [{kind}] is not supported by localdruid")
        raise InvalidInput(
            f"Could not resolve type id '{kind}' as a subtype of query: "
            f"known type ids = {sorted([*HANDLERS, *UNSUPPORTED])}"
        )
    return kind


def run_query(
    query: Any, cursor: duckdb.DuckDBPyConnection, catalog: dict[str, Datasource], ex: Execution
) -> list[dict[str, Any]]:
    kind = query_type(query)
    spec = Spec(query, "")
    budget = subquery.RowBudget.of(spec)
    return HANDLERS[kind](spec, _datasource(spec, kind, cursor, catalog, ex, budget, 0), ex)


def _datasource(
    spec: Spec,
    kind: str,
    cursor: duckdb.DuckDBPyConnection,
    catalog: dict[str, Datasource],
    ex: Execution,
    budget: subquery.RowBudget,
    depth: int,
) -> Datasource:
    """The datasource a query reads; a query datasource first runs its inner query, which may
    itself read a query datasource."""
    inner = subquery.inner_query(spec, kind)
    if inner is None:
        return resolve_datasource(spec, catalog, cursor)
    inner_kind = query_type(inner.data)
    inner_ds = _datasource(inner, inner_kind, cursor, catalog, ex, budget, depth + 1)
    return subquery.results_datasource(
        outer_type=kind,
        inner=inner,
        inner_type=inner_kind,
        inner_ds=inner_ds,
        results=HANDLERS[inner_kind](inner, inner_ds, ex),
        cursor=cursor,
        budget=budget,
        depth=depth,
    )
