"""HTTP API: Druid's broker and overlord endpoints as a Starlette application."""

from __future__ import annotations

import json
import logging
import os
import re
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from localdruid import DRUID_COMPAT_VERSION, __version__, timeutil
from localdruid.auth import BasicAuth
from localdruid.errors import (
    DruidError,
    InvalidInput,
    JsonParseError,
    MethodNotAllowed,
    NotFound,
    Unsupported,
)
from localdruid.ingest.tasks import TaskManager
from localdruid.jsonspec import Spec
from localdruid.query import run_query
from localdruid.query.base import Execution, QueryRegistry, context_timeout
from localdruid.sql_planner import sql_plan
from localdruid.sql_results import Headers, SqlBody, sql_body, sql_rows
from localdruid.storage import Store
from localdruid.stream import Supervisors

log = logging.getLogger("localdruid.server")


class Engine:
    """The running engine: storage, the task queue, and the registry of running queries."""

    def __init__(
        self,
        data_dir: Path,
        *,
        host: str = "127.0.0.1:8082",
        memory_limit: str = "",
        allowed_dirs: Sequence[Path] = (),
        ignore_druid_timestamp_spec: bool = False,
    ) -> None:
        self.store = Store(data_dir, memory_limit=memory_limit)
        # Local input sources read only under the data directory and the directories allowed.
        self.allowed_dirs = [data_dir.resolve(), *(Path(d).resolve() for d in allowed_dirs)]
        self.tasks = TaskManager(
            self.store, self.allowed_dirs, ignore_druid_timestamp_spec=ignore_druid_timestamp_spec
        )
        self.streams = Supervisors(self.store)
        self.queries = QueryRegistry()
        self.host = host
        self.limiter = anyio.CapacityLimiter(max(4, (os.cpu_count() or 2) * 2))

    def close(self) -> None:
        self.streams.close()
        self.tasks.close()
        self.store.close()

    def query(self, body: Any) -> tuple[list[dict[str, Any]], str]:
        if not isinstance(body, dict):
            raise InvalidInput("The query must be a JSON object")
        context = body.get("context")
        if context is not None and not isinstance(context, dict):
            raise InvalidInput("context must be a JSON object")
        query_id = str((context or {}).get("queryId") or uuid.uuid4())
        timeout = context_timeout(Spec(body, ""))
        with self.store.reader() as (cursor, catalog):
            execution = Execution(query_id, cursor, timeout)
            self.queries.add(execution)
            try:
                return run_query(body, cursor, catalog, execution), query_id
            except RecursionError:
                # Druid reads (and plans) up to Jackson's 1000 levels; Python stops sooner.
                raise Unsupported("The query is nested too deeply for localdruid") from None
            finally:
                self.queries.remove(execution)

    def sql(self, body: Any) -> tuple[SqlBody, str]:
        """A Druid SQL request: planned into one native query, run as native queries are."""
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise InvalidInput("Missing required field [query]: the SQL text")
        context = body.get("context") or {}
        if not isinstance(context, dict):
            raise InvalidInput("context must be a JSON object")
        parameters = body.get("parameters") or []
        if not isinstance(parameters, list):
            raise InvalidInput("parameters must be a JSON array")
        query_id = str(context.get("sqlQueryId") or uuid.uuid4())
        context = {**context, "sqlQueryId": query_id, "queryId": query_id}
        plan = sql_plan(
            body["query"], catalog=self.store.catalog(), context=context, parameters=parameters
        )
        results = [] if plan.no_rows else self.query(plan.native)[0]
        headers = Headers(
            names=body.get("header") is True,
            types=body.get("typesHeader") is True,
            sql_types=body.get("sqlTypesHeader") is True,
        )
        result_format = str(body.get("resultFormat") or "object")
        return sql_body(result_format, plan.columns, sql_rows(plan, results), headers), query_id


def _json(data: Any, status: int = 200, *, pretty: bool = False, headers: Any = None) -> Response:
    text = json.dumps(data, indent=2 if pretty else None, separators=None if pretty else (",", ":"))
    return Response(text, status_code=status, media_type="application/json", headers=headers)


def _error(exc: DruidError, engine: Engine) -> Response:
    return _json(exc.body(engine.host), exc.status)


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise JsonParseError(f"Unable to parse the request body as JSON: {exc}") from None
    except RecursionError:
        # Jackson, too, refuses documents nested deeper than its limit (1000) as a parse error.
        raise JsonParseError(
            "Unable to parse the request body as JSON: the document is nested too deeply"
        ) from None


async def _sql_body(request: Request) -> Any:
    """The SQL request: JSON, or the bare SQL text Druid also takes as text/plain or
    form-urlencoded (then answered in the object format)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "text/plain":
        return {"query": (await request.body()).decode("utf-8", "replace")}
    if kind == "application/x-www-form-urlencoded":
        text = (await request.body()).decode("utf-8", "replace")
        return {"query": urllib.parse.unquote_plus(text)}
    return await _body(request)


def build_app(engine: Engine) -> Starlette:
    """The ASGI application serving one engine."""

    def handler(
        fn: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            try:
                return await fn(request)
            except DruidError as exc:
                return _error(exc, engine)
            except Exception:  # never a stack trace to a client; the log has it
                log.exception("internal error on %s %s", request.method, request.url.path)
                return _error(DruidError("Internal error; see the localdruid log"), engine)

        return wrapped

    @handler
    async def native_query(request: Request) -> Response:
        body = await _body(request)
        result, query_id = await anyio.to_thread.run_sync(
            engine.query, body, limiter=engine.limiter
        )
        return _json(
            result, pretty="pretty" in request.query_params, headers={"X-Druid-Query-Id": query_id}
        )

    @handler
    async def cancel_query(request: Request) -> Response:
        engine.queries.cancel(request.path_params["query_id"])
        return Response(status_code=202)

    @handler
    async def datasources(request: Request) -> Response:
        catalog = engine.store.catalog()
        return _json(sorted(name for name, ds in catalog.items() if ds.segments))

    @handler
    async def datasource(request: Request) -> Response:
        ds = engine.store.datasource(request.path_params["name"])
        interval = request.query_params.get("interval")
        if interval:
            try:
                start, end = timeutil.parse_interval(interval.replace("_", "/"))
            except ValueError as exc:
                raise InvalidInput(f"interval: {exc}") from None
        else:
            # Druid's broker looks at the last week only (segmentMetadata defaultHistory).
            end = int(time.time() * 1000)
            start = end - 7 * 86_400_000
        segments = [s for s in (ds.segments if ds else ()) if s.overlaps(start, end)]
        dims = {d for s in segments for d in s.dimensions}
        metrics = {m for s in segments for m in s.metrics}
        columns = ds.columns.values() if ds else []
        return _json(
            {
                "dimensions": [c.name for c in columns if c.name in dims],
                "metrics": [c.name for c in columns if c.name in metrics],
            }
        )

    @handler
    async def status(request: Request) -> Response:
        return _json(
            {
                "version": DRUID_COMPAT_VERSION,
                "modules": [],
                "memory": {},
                "localdruid": {"version": __version__},
            }
        )

    @handler
    async def health(request: Request) -> Response:
        return _json(True)

    @handler
    async def submit_task(request: Request) -> Response:
        body = await _body(request)
        task_id = await anyio.to_thread.run_sync(engine.tasks.submit, body)
        return _json({"task": task_id})

    @handler
    async def task_status(request: Request) -> Response:
        task_id = request.path_params["task_id"]
        doc = engine.tasks.status(task_id)
        if doc is None:
            raise NotFound(f"Cannot find any task with id: [{task_id}]")
        return _json(doc)

    @handler
    async def task_reports(request: Request) -> Response:
        task_id = request.path_params["task_id"]
        doc = engine.tasks.reports(task_id)
        if doc is None:
            raise NotFound(f"Cannot find any task with id: [{task_id}]")
        return _json(doc)

    @handler
    async def submit_supervisor(request: Request) -> Response:
        body = await _body(request)
        return _json({"id": await anyio.to_thread.run_sync(engine.streams.submit, body)})

    @handler
    async def list_supervisors(request: Request) -> Response:
        return _json(engine.streams.ids())

    @handler
    async def supervisor_status(request: Request) -> Response:
        return _json(engine.streams.status(request.path_params["supervisor_id"]))

    @handler
    async def terminate_supervisor(request: Request) -> Response:
        supervisor_id = request.path_params["supervisor_id"]
        engine.streams.terminate(supervisor_id)
        return _json({"id": supervisor_id})

    @handler
    async def push(request: Request) -> Response:
        body = await request.body()
        counts = await anyio.to_thread.run_sync(
            engine.streams.push, request.path_params["supervisor_id"], body
        )
        return _json(counts)

    @handler
    async def sql_query(request: Request) -> Response:
        body = await _sql_body(request)
        answer, query_id = await anyio.to_thread.run_sync(engine.sql, body, limiter=engine.limiter)
        headers = {"X-Druid-SQL-Query-Id": query_id}
        if isinstance(body, dict) and body.get("header") is True:
            headers["X-Druid-SQL-Header-Included"] = "yes"
        return Response(answer.text, media_type=answer.media_type, headers=headers)

    async def sql_task(request: Request) -> Response:
        return _error(
            Unsupported("SQL tasks (the MSQ task engine) are not supported by localdruid"), engine
        )

    @handler
    async def cancel_sql(request: Request) -> Response:
        if not engine.queries.cancel(request.path_params["query_id"]):
            raise NotFound(f"No running SQL query with id [{request.path_params['query_id']}]")
        return Response(status_code=202)

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if status == 405:
            return _error(MethodNotAllowed(f"{request.method} is not allowed on this path"), engine)
        return _error(NotFound(f"No such path: {request.url.path}"), engine)

    routes = [
        Route("/druid/v2", native_query, methods=["POST"]),
        Route("/druid/v2/sql", sql_query, methods=["POST"]),
        Route("/druid/v2/sql/task", sql_task, methods=["POST"]),
        Route("/druid/v2/sql/{query_id}", cancel_sql, methods=["DELETE"]),
        Route("/druid/v2/datasources", datasources, methods=["GET"]),
        Route("/druid/v2/datasources/{name:path}", datasource, methods=["GET"]),
        Route("/druid/v2/{query_id}", cancel_query, methods=["DELETE"]),
        Route("/status", status, methods=["GET"]),
        Route("/status/health", health, methods=["GET"]),
        Route("/druid/indexer/v1/task", submit_task, methods=["POST"]),
        Route("/druid/indexer/v1/task/{task_id:path}/status", task_status, methods=["GET"]),
        Route("/druid/indexer/v1/task/{task_id:path}/reports", task_reports, methods=["GET"]),
        Route("/druid/indexer/v1/supervisor", submit_supervisor, methods=["POST"]),
        Route("/druid/indexer/v1/supervisor", list_supervisors, methods=["GET"]),
        Route(
            "/druid/indexer/v1/supervisor/{supervisor_id}/status",
            supervisor_status,
            methods=["GET"],
        ),
        Route(
            "/druid/indexer/v1/supervisor/{supervisor_id}/terminate",
            terminate_supervisor,
            methods=["POST"],
        ),
        Route("/localdruid/v1/push/{supervisor_id}", push, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: not_found},
    )
    app.router.redirect_slashes = False
    return app


_SLASHES = re.compile(r"/{2,}")


class NormalizePath:
    """Accept `//druid/v2/` and trailing slashes, which Druid clients such as pydruid send."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = _SLASHES.sub("/", scope["path"])
            if len(path) > 1:
                path = path.rstrip("/")
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)


def create_app(
    data_dir: Path,
    host: str = "127.0.0.1:8082",
    memory_limit: str = "",
    *,
    allowed_dirs: Sequence[Path] = (),
    credentials: tuple[str, str] | None = None,
    ignore_druid_timestamp_spec: bool = False,
) -> tuple[ASGIApp, Engine]:
    """The application and its engine; with credentials, every path but the health check
    asks for them (checked after the path is normalized, so `//status/health/` is open too)."""
    engine = Engine(
        data_dir,
        host=host,
        memory_limit=memory_limit,
        allowed_dirs=allowed_dirs,
        ignore_druid_timestamp_spec=ignore_druid_timestamp_spec,
    )
    app: ASGIApp = build_app(engine)
    if credentials is not None:
        app = BasicAuth(app, credentials, host)
    return NormalizePath(app), engine
