"""API views: saved queries (CRUD, results, Druid JSON, preview, import), datasources, runs,
tokens. Thin: parse, call a service or selector, serialize."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import filters, mixins, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from explorer import services
from explorer.api import fastpath
from explorer.api.permissions import CanChangeSavedQuery
from explorer.api.renderers import ResultCSVRenderer
from explorer.api.serializers import (
    BAD_REQUEST_SCHEMA,
    DatasourceSerializer,
    DetailSerializer,
    ErrorSerializer,
    ImportSerializer,
    PreviewSerializer,
    QueryRunSerializer,
    ResultSerializer,
    ResultsQuerySerializer,
    SavedQueryInputSerializer,
    SavedQueryOutputSerializer,
    TokenSerializer,
)
from explorer.definitions import definition_from_druid
from explorer.errors import InvalidDefinition
from explorer.models import SavedQuery
from explorer.selectors import query_run_list, saved_query_visible, saved_query_visible_by_slug

_ERROR_RESPONSES = {
    400: OpenApiResponse(BAD_REQUEST_SCHEMA, description="Invalid definition or parameter"),
    401: OpenApiResponse(DetailSerializer, description="Not logged in / no token"),
    403: OpenApiResponse(DetailSerializer, description="Visible, but read-only for this user"),
    404: OpenApiResponse(DetailSerializer, description="No such object the user may see"),
    429: OpenApiResponse(DetailSerializer, description="Too many runs; try again later"),
    502: OpenApiResponse(ErrorSerializer, description="Druid rejected the query"),
    503: OpenApiResponse(ErrorSerializer, description="Druid unreachable"),
    504: OpenApiResponse(ErrorSerializer, description="Druid timed out"),
}
# Every run reaches Druid, which can refuse, be away, or time out.
DRUID = (502, 503, 504)


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error responses an operation documents (the mapping in ARCHITECTURE.md)."""
    return {code: _ERROR_RESPONSES[code] for code in codes}


_SAVED_QUERY_CHANGE = extend_schema(
    request=SavedQueryInputSerializer,
    responses={200: SavedQueryOutputSerializer, **errors(400, 401, 403, 404)},
)


class ResultsThrottle(UserRateThrottle):
    """Runs cost Druid work: limited per user (RESULTS_THROTTLE_RATE)."""

    scope = "results"


def _granularity(text: str | None) -> Any:
    if text is None:
        return None
    text = text.strip()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            raise InvalidDefinition({"granularity": ["Not valid JSON."]}) from None
    return text


@extend_schema_view(
    # 400: a search term DRF refuses (a NUL character).
    list=extend_schema(
        responses={200: SavedQueryOutputSerializer(many=True), **errors(400, 401, 404)}
    ),
    retrieve=extend_schema(responses={200: SavedQueryOutputSerializer, **errors(401, 404)}),
    partial_update=_SAVED_QUERY_CHANGE,
    destroy=extend_schema(responses={204: None, **errors(401, 403, 404)}),
)
class SavedQueryViewSet(viewsets.ModelViewSet):
    """Saved native Druid queries: list, create, read, change, delete, run."""

    lookup_field = "slug"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    permission_classes = [IsAuthenticated, CanChangeSavedQuery]
    filter_backends = [filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["title", "description", "slug", "datasource"]
    ordering_fields = ["title", "slug", "created", "updated", "datasource", "query_type"]
    ordering = ["title"]
    read_actions = ("results", "druid")

    def get_queryset(self) -> QuerySet[SavedQuery]:
        queries = saved_query_visible(user=self.request.user)
        params = self.request.query_params
        if params.get("tag"):
            queries = queries.filter(tags__name=params["tag"])
        if params.get("owner"):
            queries = queries.filter(owner__username=params["owner"])
        if params.get("query_type"):
            queries = queries.filter(query_type=params["query_type"])
        if params.get("datasource"):
            queries = queries.filter(datasource=params["datasource"])
        return queries

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # A plain GET of a cached result is answered before DRF's machinery; anything else, and
        # every refusal, is answered below in full (explorer/api/fastpath.py).
        if self.action_map.get(request.method.lower()) == "results":
            answer = fastpath.cached_results(
                request, slug=kwargs["slug"], throttle=ResultsThrottle()
            )
            if answer is not None:
                return answer
        return super().dispatch(request, *args, **kwargs)

    def get_object(self) -> SavedQuery:
        if self.action not in self.read_actions:
            return super().get_object()
        # Running a query: the visibility lookup alone, with its SQL compiled once per process
        # (no tags, no owner, no list filters), the larger part of a cached result's cost.
        saved = saved_query_visible_by_slug(user=self.request.user, slug=self.kwargs["slug"])
        if saved is None:
            raise NotFound("No saved query with this slug that you may see.")
        self.check_object_permissions(self.request, saved)
        return saved

    def get_serializer_class(self) -> type:
        if self.action in ("create", "update", "partial_update"):
            return SavedQueryInputSerializer
        return SavedQueryOutputSerializer

    def _out(self, saved: SavedQuery, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            SavedQueryOutputSerializer(saved, context={"request": self.request}).data, status=code
        )

    @extend_schema(
        request=SavedQueryInputSerializer,
        responses={201: SavedQueryOutputSerializer, **errors(400, 401)},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = SavedQueryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = services.saved_query_save(owner=request.user, data=dict(serializer.validated_data))
        return self._out(saved, status.HTTP_201_CREATED)

    @_SAVED_QUERY_CHANGE
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        saved = self.get_object()
        partial = kwargs.get("partial", False)
        serializer = SavedQueryInputSerializer(saved, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        saved = services.saved_query_save(
            owner=saved.owner, data=dict(serializer.validated_data), instance=saved
        )
        return self._out(saved)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "interval", str, description="Override: absolute or relative (PT1H, P7D/now)"
            ),
            OpenApiParameter("granularity", str, description="Override: a name, or JSON"),
            OpenApiParameter("threshold", int, description="Override (topN)"),
            OpenApiParameter("since", str, description="Only buckets from this ISO time on"),
            OpenApiParameter("format", str, enum=["json", "csv"]),
            OpenApiParameter("refresh", bool, description="Bypass the cache"),
        ],
        responses={200: ResultSerializer, **errors(400, 401, 404, 429, *DRUID)},
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[JSONRenderer, ResultCSVRenderer],
        throttle_classes=[ResultsThrottle],
    )
    def results(self, request: Request, slug: str | None = None) -> Response:
        saved = self.get_object()
        values: dict[str, Any] = {"refresh": False}  # the defaults, when no parameter is given
        if request.query_params:
            params = ResultsQuerySerializer(data=request.query_params)
            params.is_valid(raise_exception=True)
            values = dict(params.validated_data)
        overrides = services.Overrides(
            interval=values.get("interval"),
            granularity=_granularity(values.get("granularity")),
            threshold=values.get("threshold"),
            since=values.get("since"),
        )
        result = services.saved_query_run(
            saved_query=saved, user=request.user, overrides=overrides, refresh=values["refresh"]
        )
        response = Response(result)
        if getattr(request.accepted_renderer, "format", None) == "csv":
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            response["Content-Disposition"] = f'attachment; filename="{saved.slug}-{stamp}.csv"'
        return response

    @extend_schema(
        responses={
            200: OpenApiResponse(description="The native Druid query"),
            **errors(400, 401, 404),
        }
    )
    @action(detail=True, methods=["get"])
    def druid(self, request: Request, slug: str | None = None) -> Response:
        return Response(services.saved_query_druid_json(saved_query=self.get_object()))

    @extend_schema(
        request=PreviewSerializer,
        responses={200: ResultSerializer, **errors(400, 401, 429, *DRUID)},
    )
    @action(detail=False, methods=["post"], throttle_classes=[ResultsThrottle])
    def preview(self, request: Request) -> Response:
        serializer = PreviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "query" in data:
            definition, errors = definition_from_druid(data["query"])
            if errors:
                raise InvalidDefinition(errors)
        else:
            definition = data
        return Response(services.definition_run(definition=definition, user=request.user))

    @extend_schema(
        request=ImportSerializer,
        responses={201: SavedQueryOutputSerializer, **errors(400, 401)},
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_query(self, request: Request) -> Response:
        serializer = ImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        query = data.pop("query")
        saved = services.saved_query_import(owner=request.user, query=query, settings=data)
        return self._out(saved, status.HTTP_201_CREATED)


class DatasourceViewSet(viewsets.ViewSet):
    """Druid's datasources, from Druid's own metadata."""

    lookup_value_regex = "[^/]+"

    @extend_schema(responses={200: DatasourceSerializer(many=True), **errors(401, *DRUID)})
    def list(self, request: Request) -> Response:
        return Response([{"name": name} for name in services.datasource_list()])

    @extend_schema(responses={200: DatasourceSerializer, **errors(401, 404, *DRUID)})
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        detail = services.datasource_detail(name=str(pk))
        if detail is None:
            raise NotFound(f"Druid has no datasource named {pk!r}.")
        return Response(detail)


@extend_schema_view(
    list=extend_schema(responses={200: QueryRunSerializer(many=True), **errors(401, 404)})
)
class QueryRunViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The logged-in user's run history."""

    serializer_class = QueryRunSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return query_run_list(user=self.request.user)


class AuthenticatedRequest(Request):
    """The request a view behind `IsAuthenticated` sees: its user is signed in (for the type
    checker)."""

    user: User


class TokenView(APIView):
    """The logged-in user's API token: see it (created on first use), or rotate it."""

    @extend_schema(responses={200: TokenSerializer, **errors(401)})
    def get(self, request: AuthenticatedRequest) -> Response:
        token, _ = Token.objects.get_or_create(user=request.user)
        return Response({"token": token.key, "created": token.created})

    @extend_schema(request=None, responses={200: TokenSerializer, **errors(401)})
    def post(self, request: AuthenticatedRequest) -> Response:
        Token.objects.filter(user=request.user).delete()
        token = Token.objects.create(user=request.user)
        return Response({"token": token.key, "created": token.created})
