"""API errors: DRF's handler plus the site's own errors, always rendered as JSON."""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from explorer.errors import ExplorerError, InvalidDefinition


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # Django turns it into a 500 page; nothing here leaks a stack trace
    if isinstance(exc, InvalidDefinition):
        response.data = {
            "error": "invalid",
            "detail": "The definition is not valid.",
            "errors": exc.detail,
        }
    elif isinstance(exc, ExplorerError):
        response.data = {"error": exc.default_code, "detail": str(exc.detail)}
    request = context.get("request")
    if request is not None:
        # An error is JSON even when the caller asked for CSV.
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = "application/json"
    return response
