"""Models: saved Druid queries, their tags, and the log of every run."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from explorer.definitions import definition_errors, definition_of


class Tag(models.Model):
    name = models.SlugField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Visibility(models.TextChoices):
    PRIVATE = "private", "Only me"
    GROUPS = "groups", "Chosen groups"
    EVERYONE = "everyone", "Every logged-in user"


class QueryType(models.TextChoices):
    TIMESERIES = "timeseries", "timeseries"
    TOPN = "topN", "topN"
    GROUPBY = "groupBy", "groupBy"


class ChartType(models.TextChoices):
    LINE = "line", "Line"
    AREA = "area", "Area"
    STACKED_AREA = "stacked-area", "Stacked area"
    BAR = "bar", "Bar"
    TABLE = "table", "Table"


def default_granularity() -> str:
    return "all"


class SavedQuery(models.Model):
    """A native Druid query definition (timeseries, topN or groupBy) with how to show it."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="queries")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_queries"
    )
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    shared_groups = models.ManyToManyField(Group, blank=True, related_name="saved_queries")

    # The Druid definition, one field per part of the native query.
    query_type = models.CharField(max_length=16, choices=QueryType.choices)
    datasource = models.CharField(max_length=255)
    interval = models.CharField(
        max_length=200,
        default="PT1H",
        help_text="Absolute ISO-8601 (2024-01-01/2024-02-01) or relative to now: PT1H (the last "
        "hour), P7D/now, 2024-01-01/now.",
    )
    granularity = models.JSONField(
        default=default_granularity, help_text='A name ("hour") or a period/duration object.'
    )
    dimensions = models.JSONField(
        default=list, blank=True, help_text="groupBy: dimension specs; topN: exactly one."
    )
    metric = models.JSONField(null=True, blank=True, help_text="topN: the metric spec.")
    threshold = models.PositiveIntegerField(null=True, blank=True, help_text="topN: how many.")
    filter = models.JSONField(null=True, blank=True)
    aggregations = models.JSONField(default=list)
    post_aggregations = models.JSONField(default=list, blank=True)
    having = models.JSONField(null=True, blank=True, help_text="groupBy only.")
    limit_spec = models.JSONField(null=True, blank=True, help_text="groupBy only.")
    descending = models.BooleanField(default=False, help_text="timeseries only.")
    context = models.JSONField(default=dict, blank=True)
    extra = models.JSONField(
        default=dict,
        blank=True,
        help_text="Other native query fields (virtualColumns, limit...), sent as they are.",
    )

    # How it is shown and kept.
    chart_type = models.CharField(max_length=16, choices=ChartType.choices, default=ChartType.LINE)
    refresh_interval = models.PositiveIntegerField(
        default=0, help_text="Seconds between automatic refreshes; 0 is off."
    )
    value_format = models.CharField(
        max_length=32, blank=True, help_text='A d3-format specifier, e.g. ",.2f" or ".3s".'
    )
    cache_ttl = models.PositiveIntegerField(default=60, help_text="Seconds results stay cached.")

    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "saved queries"

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        # Django's validation hook for forms; the rules themselves live in explorer.definitions.
        errors = definition_errors(definition_of(self))
        if errors:
            raise ValidationError(errors)


class QueryRun(models.Model):
    """One execution: who, when, the exact Druid JSON sent, and how it went."""

    saved_query = models.ForeignKey(
        SavedQuery, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="query_runs"
    )
    # When the run began; set when the row is made, since a cache hit's row is written later.
    started = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    druid_query = models.JSONField()
    duration_ms = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    cached = models.BooleanField(default=False)
    status = models.PositiveSmallIntegerField(default=200)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.saved_query_id or 'preview'}"


class Dashboard(models.Model):
    """A set of saved queries shown together, with one time range and refresh for all."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dashboards"
    )
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    shared_groups = models.ManyToManyField(Group, blank=True, related_name="dashboards")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Width(models.IntegerChoices):
    THIRD = 4, "One third"
    HALF = 6, "Half"
    TWO_THIRDS = 8, "Two thirds"
    FULL = 12, "Full width"


class DashboardItem(models.Model):
    """One chart on a dashboard: which saved query, where, and how wide (of 12 columns)."""

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="items")
    saved_query = models.ForeignKey(SavedQuery, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)
    width = models.PositiveSmallIntegerField(choices=Width.choices, default=Width.HALF)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.dashboard} #{self.position}"
