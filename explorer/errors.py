"""Errors: every failure a user or Druid can cause, each carrying its HTTP status (one mapping)."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException


class ExplorerError(APIException):
    """Base of the site's own errors; DRF renders them, pages show them in an error panel."""

    status_code: int = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_code = "error"


class InvalidDefinition(ExplorerError):
    """A definition or override that is not a valid Druid query; `detail` maps fields to
    messages."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    detail: dict[str, Any]  # {field: [ErrorDetail, ...]}

    def __init__(self, detail: dict[str, list[str]], code: str | None = None) -> None:
        super().__init__(detail, code)


class DruidError(ExplorerError):
    """Something went wrong on the Druid side."""

    default_code = "druid_error"


class DruidRejected(DruidError):
    """Druid answered with an error (its `errorMessage`, passed through), or with garbage."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "druid_rejected"


class DruidUnavailable(DruidError):
    """Druid could not be reached at all."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "druid_unavailable"


class DruidTimeout(DruidError):
    """Druid did not answer within DRUID_TIMEOUT_MS (or said it timed out)."""

    status_code = status.HTTP_504_GATEWAY_TIMEOUT
    default_code = "druid_timeout"
