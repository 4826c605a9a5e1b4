"""Services: the one place a query runs (resolve, compile, cache, execute, normalize, log), and
the writes on saved queries. The API, pages, admin preview and commands all call these."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache
from django.db import transaction

from explorer import client, intervals, results
from explorer.definitions import definition_errors, definition_from_druid, definition_of, druid_json
from explorer.errors import DruidError, InvalidDefinition
from explorer.models import QueryRun, SavedQuery, Tag
from explorer.runlog import run_log

CACHE_PREFIX = "explorer:result:"


@dataclass(frozen=True)
class Overrides:
    """What a caller may change for one run, without touching the saved definition."""

    interval: str | None = None
    granularity: Any = None
    threshold: int | None = None
    since: datetime | None = None


def _apply(definition: dict[str, Any], overrides: Overrides) -> dict[str, Any]:
    changed = dict(definition)  # overrides replace whole fields; nested values are not changed
    if overrides.interval is not None:
        changed["interval"] = overrides.interval
    if overrides.granularity is not None:
        changed["granularity"] = overrides.granularity
    if overrides.threshold is not None:
        if changed.get("query_type") != "topN":
            raise InvalidDefinition({"threshold": ["Only topN queries take a threshold."]})
        changed["threshold"] = overrides.threshold
    errors = definition_errors(changed)
    if errors:
        raise InvalidDefinition(errors)
    return changed


def _cache_key(query: dict[str, Any]) -> str:
    text = json.dumps(query, sort_keys=True, separators=(",", ":"))
    return CACHE_PREFIX + hashlib.sha256(text.encode()).hexdigest()


def compile_definition(
    definition: dict[str, Any],
    *,
    now: datetime | None = None,
    overrides: Overrides | None = None,
    cache_ttl: int = 0,
) -> tuple[dict[str, Any], intervals.Window]:
    """The exact Druid JSON a definition sends now (relative intervals resolved), and its window."""
    overrides = overrides or Overrides()
    definition = _apply(definition, overrides)
    window = intervals.resolve(
        definition["interval"],
        granularity=definition.get("granularity"),
        now=now or datetime.now(UTC),
        since=overrides.since,
        cache_ttl=cache_ttl,
    )
    return druid_json(definition, interval=window.iso()), window


@dataclass(frozen=True)
class Hit:
    """A result found in the cache, not yet logged or returned."""

    query: dict[str, Any]
    window: intervals.Window
    table: dict[str, Any]
    druid_ms: int
    started: float  # time.monotonic() when the lookup began


def _lookup(
    query: dict[str, Any], window: intervals.Window, cache_ttl: int, started: float
) -> Hit | None:
    cached = cache.get(_cache_key(query)) if cache_ttl > 0 else None
    if cached is None:
        return None
    table, druid_ms = cached
    return Hit(query, window, table, druid_ms, started)


def _result(
    table: dict[str, Any], query: dict[str, Any], window: intervals.Window, run: QueryRun,
    druid_ms: int,
) -> dict[str, Any]:  # fmt: skip
    return {
        **table,
        "meta": {
            "druid_query": query,
            "interval": window.iso(),
            "duration_ms": run.duration_ms,
            "druid_duration_ms": druid_ms,
            "cached": run.cached,
            "run_at": run.started.isoformat(),
            "run_id": run.pk,
        },
    }


def _user_or_none(user: Any) -> Any:
    return user if user and user.is_authenticated else None


def hit_result(hit: Hit, *, user: Any, saved_query: SavedQuery | None) -> dict[str, Any]:
    """Log a cache hit as a run and return its result: {columns, rows, meta}."""
    run = QueryRun(
        saved_query=saved_query,
        user=_user_or_none(user),
        druid_query=hit.query,
        duration_ms=int((time.monotonic() - hit.started) * 1000),
        rows=len(hit.table["rows"]),
        cached=True,
    )
    run_log.add(run)  # written in the next batch: run_id is null until then
    return _result(hit.table, hit.query, hit.window, run, hit.druid_ms)


def definition_run(
    *,
    definition: dict[str, Any],
    user: Any,
    saved_query: SavedQuery | None = None,
    overrides: Overrides | None = None,
    cache_ttl: int = 0,
    refresh: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Run a definition through Druid (or the cache) and log it: {columns, rows, meta}."""
    query, window = compile_definition(
        definition, now=now, overrides=overrides, cache_ttl=cache_ttl
    )
    started = time.monotonic()
    hit = None if refresh else _lookup(query, window, cache_ttl, started)
    if hit is not None:
        return hit_result(hit, user=user, saved_query=saved_query)
    run = QueryRun(saved_query=saved_query, user=_user_or_none(user), druid_query=query)
    try:
        table = results.normalize(query, client.druid_query(query))
    except DruidError as exc:
        run.duration_ms = int((time.monotonic() - started) * 1000)
        run.status, run.error = exc.status_code, str(exc.detail)
        run.save()
        raise
    druid_ms = int((time.monotonic() - started) * 1000)
    if cache_ttl > 0:
        cache.set(_cache_key(query), (table, druid_ms), cache_ttl)
    run.duration_ms = int((time.monotonic() - started) * 1000)
    run.rows = len(table["rows"])
    run.save()
    return _result(table, query, window, run, druid_ms)


def saved_query_hit(*, saved_query: SavedQuery, now: datetime | None = None) -> Hit | None:
    """The saved query's result if the cache has it now, with no override; nothing is logged
    until `hit_result` (the results endpoint's fast path, explorer/api/fastpath.py)."""
    query, window = compile_definition(
        definition_of(saved_query), now=now, cache_ttl=saved_query.cache_ttl
    )
    return _lookup(query, window, saved_query.cache_ttl, time.monotonic())


def saved_query_run(
    *,
    saved_query: SavedQuery,
    user: Any,
    overrides: Overrides | None = None,
    refresh: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    return definition_run(
        definition=definition_of(saved_query),
        user=user,
        saved_query=saved_query,
        overrides=overrides,
        cache_ttl=saved_query.cache_ttl,
        refresh=refresh,
        now=now,
    )


def saved_query_druid_json(*, saved_query: SavedQuery, now: datetime | None = None) -> dict:
    """The Druid JSON the saved query sends now: what a user would post to /druid/v2/."""
    query, _ = compile_definition(definition_of(saved_query), now=now)
    return query


# -- writes ------------------------------------------------------------------------------------


@transaction.atomic
def saved_query_save(
    *,
    owner: Any,
    data: dict[str, Any],
    instance: SavedQuery | None = None,
) -> SavedQuery:
    """Create (or update) a saved query from validated field data; all or nothing."""
    saved = instance or SavedQuery(owner=owner)
    tags = data.pop("tags", None)
    groups = data.pop("shared_groups", None)
    for field, value in data.items():
        setattr(saved, field, value)
    errors = definition_errors(definition_of(saved))
    if errors:
        raise InvalidDefinition(errors)
    saved.save()
    if tags is not None:
        saved.tags.set([Tag.objects.get_or_create(name=t)[0] for t in tags])
    if groups is not None:
        saved.shared_groups.set(groups)
    return saved


def saved_query_import(*, owner: Any, query: Any, settings: dict[str, Any]) -> SavedQuery:
    """Create a saved query from a raw native Druid query plus title, slug and the like."""
    definition, errors = definition_from_druid(query)
    if errors:
        raise InvalidDefinition(errors)
    return saved_query_save(owner=owner, data={**definition, **settings})


# -- datasources -------------------------------------------------------------------------------

DATASOURCE_CACHE_SECONDS = 30


def datasource_list() -> list[str]:
    """Names of Druid's datasources (briefly cached: the admin asks on every form)."""
    names = cache.get("explorer:datasources")
    if names is None:
        names = sorted(str(n) for n in client.druid_get("druid/v2/datasources"))
        cache.set("explorer:datasources", names, DATASOURCE_CACHE_SECONDS)
    return names


def datasource_detail(*, name: str) -> dict[str, Any] | None:
    """Dimensions, metrics, time range and row count from Druid's own metadata queries."""
    meta = client.druid_query({
        "queryType": "segmentMetadata", "dataSource": name, "intervals": ["1000/3000"],
        "merge": True, "analysisTypes": ["cardinality", "aggregators", "interval", "minmax"],
    })  # fmt: skip
    if not meta:
        return None
    boundary = client.druid_query({"queryType": "timeBoundary", "dataSource": name})
    aggregators = meta[0].get("aggregators") or {}
    dimensions, metrics = [], []
    for column, info in (meta[0].get("columns") or {}).items():
        if column == "__time":
            continue
        entry = {"name": column, "type": info.get("typeSignature") or info.get("type")}
        if column in aggregators:
            metrics.append({**entry, "aggregator": aggregators[column]})
        else:
            dimensions.append({**entry, "cardinality": info.get("cardinality")})
    times = boundary[0]["result"] if boundary else {}
    return {
        "name": name,
        "dimensions": dimensions,
        "metrics": metrics,
        "min_time": times.get("minTime"),
        "max_time": times.get("maxTime"),
        "rows": meta[0].get("numRows"),
    }
