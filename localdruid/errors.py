"""Druid-shaped errors: each carries its HTTP status, Druid error code and Java error class."""

from __future__ import annotations

from typing import Any


class DruidError(Exception):
    """Base of every error localdruid reports; rendered as Druid's legacy JSON error body."""

    status: int = 500
    code: str = "Unknown exception"
    error_class: str = "java.lang.RuntimeException"

    def __init__(self, message: str, *, error_class: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if error_class is not None:
            self.error_class = error_class

    def body(self, host: str | None) -> dict[str, Any]:
        return {
            "error": self.code,
            "errorMessage": self.message,
            "errorClass": self.error_class,
            "host": host,
        }


class InvalidInput(DruidError):
    """A query or spec that cannot be understood: bad JSON, unknown type, missing or wrong field."""

    status = 400
    code = "Invalid input"
    error_class = "org.apache.druid.error.DruidException"


class JsonParseError(InvalidInput):
    code = "Json parse failed"
    error_class = "com.fasterxml.jackson.core.JsonParseException"


class ResourceLimitExceeded(DruidError):
    status = 400
    code = "Resource limit exceeded"
    error_class = "org.apache.druid.query.ResourceLimitExceededException"


class Unsupported(DruidError):
    """A Druid feature localdruid does not implement; never answered wrongly, always refused."""

    status = 501
    code = "Unsupported query"
    error_class = "org.apache.druid.query.QueryUnsupportedException"


class QueryTimeout(DruidError):
    status = 504
    code = "Query timeout"
    error_class = "org.apache.druid.query.QueryTimeoutException"


class QueryCancelled(DruidError):
    status = 500
    code = "Query cancelled"
    error_class = "java.util.concurrent.CancellationException"


class NotFound(DruidError):
    status = 404
    code = "Not found"
    error_class = "javax.ws.rs.NotFoundException"


class MethodNotAllowed(DruidError):
    status = 405
    code = "Method not allowed"
    error_class = "javax.ws.rs.NotAllowedException"


class Unauthorized(DruidError):
    status = 401
    code = "Unauthorized request"
    error_class = "org.apache.druid.server.security.ForbiddenException"


class SqlParseError(InvalidInput):
    """Druid SQL text that does not parse (Calcite's parser)."""

    code = "SQL parse failed"
    error_class = "org.apache.calcite.sql.parser.SqlParseException"


class SqlValidationError(InvalidInput):
    """Druid SQL that parses but names no such table or column, or misuses one (Calcite's
    validator)."""

    code = "Plan validation failed"
    error_class = "org.apache.calcite.tools.ValidationException"
