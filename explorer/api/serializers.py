"""API serializers: separate input and output shapes for saved queries; runs; import/preview."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from rest_framework import serializers
from rest_framework.reverse import reverse

from explorer.models import ChartType, QueryRun, QueryType, SavedQuery, Tag, Visibility

DEFINITION_FIELDS = [
    "query_type", "datasource", "interval", "granularity", "dimensions", "metric", "threshold",
    "filter", "aggregations", "post_aggregations", "having", "limit_spec", "descending",
    "context", "extra",
]  # fmt: skip
SETTINGS_FIELDS = [
    "title", "slug", "description", "tags", "visibility", "shared_groups", "chart_type",
    "refresh_interval", "value_format", "cache_ttl",
]  # fmt: skip


class JSONField(serializers.JSONField):
    """DRF's JSONField, refusing null unless allowed for form input too: DRF reads a form value
    ("null") as JSON only after its null check has passed."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if value is None and not self.allow_null:
            self.fail("null")
        return value


class SavedQueryInputSerializer(serializers.ModelSerializer):
    """What a client sends to create or change a saved query (the definition is checked by the
    service, with the same rules as the admin)."""

    tags = serializers.ListField(child=serializers.SlugField(max_length=64), required=False)
    shared_groups = serializers.SlugRelatedField(
        many=True, slug_field="name", queryset=Group.objects.all(), required=False
    )
    granularity = JSONField(required=False)
    dimensions = JSONField(required=False)
    metric = JSONField(required=False, allow_null=True)
    filter = JSONField(required=False, allow_null=True)
    aggregations = JSONField(required=False)
    post_aggregations = JSONField(required=False)
    having = JSONField(required=False, allow_null=True)
    limit_spec = JSONField(required=False, allow_null=True)
    # The stubs see this field hide `Field.context`; DRF's metaclass pops declared fields off the
    # class, so `self.context` is still the serializer context at run time.
    context = JSONField(required=False)  # type: ignore[assignment]
    extra = JSONField(required=False)

    class Meta:
        model = SavedQuery
        fields = SETTINGS_FIELDS + DEFINITION_FIELDS


class SavedQueryOutputSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    tags: serializers.SlugRelatedField[Tag] = serializers.SlugRelatedField(
        many=True, slug_field="name", read_only=True
    )
    shared_groups: serializers.SlugRelatedField[Group] = serializers.SlugRelatedField(
        many=True, slug_field="name", read_only=True
    )
    urls = serializers.SerializerMethodField()

    class Meta:
        model = SavedQuery
        fields = ["id", "owner", "created", "updated", "urls", *SETTINGS_FIELDS, *DEFINITION_FIELDS]
        read_only_fields = fields

    def get_urls(self, obj: SavedQuery) -> dict[str, str]:
        request = self.context.get("request")
        return {
            name: reverse(f"savedquery-{name}", kwargs={"slug": obj.slug}, request=request)
            for name in ("detail", "results", "druid")
        }


class ImportSerializer(serializers.Serializer):
    """A raw native Druid query (as posted to /druid/v2/) and how to save it."""

    query = JSONField()
    title = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)
    chart_type = serializers.ChoiceField(choices=ChartType.choices, default=ChartType.LINE)
    cache_ttl = serializers.IntegerField(min_value=0, default=60)

    def validate_slug(self, value: str) -> str:
        if SavedQuery.objects.filter(slug=value).exists():
            raise serializers.ValidationError("A saved query with this slug already exists.")
        return value


class PreviewSerializer(serializers.Serializer):
    """Either a definition (the saved-query fields) or a raw Druid query under `query`."""

    query = JSONField(required=False)
    query_type = serializers.ChoiceField(choices=QueryType.choices, required=False)
    datasource = serializers.CharField(required=False)
    interval = serializers.CharField(required=False, default="PT1H")
    # drf-stubs type a JSONField default as a mapping, but any JSON value is a valid default.
    granularity = JSONField(required=False, default="all")  # type: ignore[arg-type]
    dimensions = JSONField(required=False, default=list)  # type: ignore[arg-type]
    metric = JSONField(required=False, allow_null=True, default=None)
    threshold = serializers.IntegerField(required=False, allow_null=True, default=None)
    filter = JSONField(required=False, allow_null=True, default=None)
    aggregations = JSONField(required=False, default=list)  # type: ignore[arg-type]
    post_aggregations = JSONField(required=False, default=list)  # type: ignore[arg-type]
    having = JSONField(required=False, allow_null=True, default=None)
    limit_spec = JSONField(required=False, allow_null=True, default=None)
    descending = serializers.BooleanField(required=False, default=False)
    # Not `Field.context` at run time: see SavedQueryInputSerializer.context.
    context = JSONField(required=False, default=dict)  # type: ignore[assignment]
    extra = JSONField(required=False, default=dict)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "query" not in attrs and not attrs.get("query_type"):
            raise serializers.ValidationError("Send a definition (query_type, ...) or `query`.")
        return attrs


class ResultsQuerySerializer(serializers.Serializer):
    """Overrides accepted by the results endpoint, as query parameters."""

    interval = serializers.CharField(required=False)
    granularity = serializers.CharField(required=False)
    threshold = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    since = serializers.DateTimeField(required=False)
    refresh = serializers.BooleanField(required=False, default=False)


class ColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()


class ResultSerializer(serializers.Serializer):
    """The tidy result every consumer reads (documentation only)."""

    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(child=serializers.ListField())
    meta = serializers.DictField()


class QueryRunSerializer(serializers.ModelSerializer):
    saved_query: serializers.SlugRelatedField[SavedQuery] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = QueryRun
        fields = [
            "id",
            "saved_query",
            "started",
            "druid_query",
            "duration_ms",
            "rows",
            "cached",
            "status",
            "error",
        ]
        read_only_fields = fields


class DatasourceSerializer(serializers.Serializer):
    name = serializers.CharField()
    dimensions = serializers.ListField(child=serializers.DictField(), required=False)
    metrics = serializers.ListField(child=serializers.DictField(), required=False)
    min_time = serializers.CharField(required=False, allow_null=True)
    max_time = serializers.CharField(required=False, allow_null=True)
    rows = serializers.IntegerField(required=False, allow_null=True)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    created = serializers.DateTimeField()


class ErrorSerializer(serializers.Serializer):
    """The site's own errors: Druid's failures, and an invalid definition (with `errors`)."""

    error = serializers.CharField()
    detail = serializers.CharField()
    # Hides `Serializer.errors` only for the stubs: DRF's metaclass pops declared fields.
    errors = serializers.DictField(required=False)  # type: ignore[assignment]


class DetailSerializer(serializers.Serializer):
    """DRF's own errors (not logged in, not allowed, not found, throttled): one message."""

    detail = serializers.CharField()


# A 400 is the site's error for an invalid definition ({error, detail, errors}), DRF's field
# errors for a field of the request ({field: [messages]}, nested for list items), DRF's {detail}
# for a body that is not JSON, or DRF's bare list of messages for a refused query parameter.
BAD_REQUEST_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "properties": {
                "error": {"type": "string"},
                "detail": {"type": "string"},
                "errors": {"type": "object", "additionalProperties": {}},
            },
            "additionalProperties": {},
        },
        {"type": "array", "items": {"type": "string"}},
    ]
}
