"""Admin: where authors create and edit saved queries, with Druid's metadata, the exact Druid JSON,
a preview of unsaved edits, and an import of raw Druid JSON."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from explorer import services
from explorer.errors import ExplorerError, InvalidDefinition
from explorer.models import Dashboard, DashboardItem, QueryRun, SavedQuery, Tag


class DatalistInput(forms.TextInput):
    """A text input with suggestions: Druid's datasources when Druid answers, free text always."""

    template_name = "explorer/widgets/datalist.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        try:
            options = services.datasource_list()
        except ExplorerError:
            options = []
        context["widget"]["attrs"]["list"] = f"{name}-options"
        context["widget"]["options"] = options
        return context


class SavedQueryForm(forms.ModelForm):
    class Meta:
        model = SavedQuery
        exclude: list[str] = []
        widgets = {"datasource": DatalistInput}


class ImportForm(forms.Form):
    query = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "cols": 90}),
        help_text="The native query, exactly as posted to /druid/v2/.",
    )
    title = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=100)

    def clean_query(self) -> Any:
        try:
            return json.loads(self.cleaned_data["query"])
        except ValueError as exc:
            raise ValidationError(f"Not valid JSON: {exc}") from None

    def clean_slug(self) -> str:
        if SavedQuery.objects.filter(slug=self.cleaned_data["slug"]).exists():
            raise ValidationError("A saved query with this slug already exists.")
        return str(self.cleaned_data["slug"])


@admin.register(SavedQuery)
class SavedQueryAdmin(admin.ModelAdmin):
    form = SavedQueryForm
    change_list_template = "admin/explorer/savedquery/change_list.html"
    list_display = ("title", "slug", "query_type", "datasource", "owner", "visibility", "updated")
    list_filter = ("query_type", "datasource", "owner", "visibility", "tags")
    search_fields = ("title", "slug", "description", "datasource")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("tags", "shared_groups")
    readonly_fields = ("druid_json_panel", "datasource_panel", "preview_panel")
    fieldsets = (
        (None, {"fields": ("title", "slug", "description", "tags")}),
        ("Sharing", {"fields": ("owner", "visibility", "shared_groups")}),
        (
            "Druid query",
            {
                "fields": (
                    "query_type",
                    "datasource",
                    "datasource_panel",
                    "interval",
                    "granularity",
                    "dimensions",
                    "metric",
                    "threshold",
                    "filter",
                    "aggregations",
                    "post_aggregations",
                    "having",
                    "limit_spec",
                    "descending",
                    "context",
                    "extra",
                )
            },
        ),
        ("Chart", {"fields": ("chart_type", "refresh_interval", "value_format", "cache_ttl")}),
        ("What is sent", {"fields": ("druid_json_panel", "preview_panel")}),
    )

    class Media:
        js = ("explorer/admin-preview.js",)
        css = {"all": ("explorer/admin.css",)}

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}

    @admin.display(description="Druid JSON")
    def druid_json_panel(self, obj: SavedQuery | None) -> str:
        if obj is None or obj.pk is None:
            return "Save the query to see the exact Druid JSON it sends."
        try:
            query = services.saved_query_druid_json(saved_query=obj)
        except InvalidDefinition as exc:
            return f"Not valid: {exc.detail}"
        return format_html('<pre class="druid-json">{}</pre>', json.dumps(query, indent=2))

    @admin.display(description="Columns in Druid")
    def datasource_panel(self, obj: SavedQuery | None) -> str:
        if obj is None or not obj.datasource:
            return "Pick a datasource to see its dimensions and metrics."
        try:
            detail = services.datasource_detail(name=obj.datasource)
        except ExplorerError as exc:
            return f"Druid could not be asked: {exc.detail}"
        if detail is None:
            return f"Druid has no datasource named {obj.datasource}."
        dims = format_html_join(
            ", ", "<code>{}</code>", ((d["name"],) for d in detail["dimensions"])
        )
        metrics = format_html_join(
            ", ",
            "<code>{}</code> ({})",
            ((m["name"], m["aggregator"].get("type", "?")) for m in detail["metrics"]),
        )
        return format_html("Dimensions: {}<br>Metrics: {}", dims or "none", metrics or "none")

    @admin.display(description="Preview")
    def preview_panel(self, obj: SavedQuery | None) -> str:
        return format_html(
            '<button type="button" class="button" id="druid-preview" data-url="{}">'
            "Run the query as edited</button>"
            '<div id="druid-preview-result" role="status" aria-live="polite"></div>',
            reverse("savedquery-preview"),
        )

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="explorer_savedquery_import",
            )
        ]
        return extra + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        form = ImportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                saved = services.saved_query_import(
                    owner=request.user,
                    query=data["query"],
                    settings={"title": data["title"], "slug": data["slug"]},
                )
            except InvalidDefinition as exc:
                for field, problems in exc.detail.items():
                    for problem in problems:
                        form.add_error("query", f"{field}: {problem}")
            else:
                messages.success(request, f"Imported {saved.title}.")
                return HttpResponseRedirect(
                    reverse("admin:explorer_savedquery_change", args=[saved.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Import a Druid query",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/explorer/savedquery/import.html", context)


@admin.register(QueryRun)
class QueryRunAdmin(admin.ModelAdmin):
    list_display = ("started", "saved_query", "user", "status", "duration_ms", "rows", "cached")
    list_filter = ("status", "cached")
    readonly_fields = [f.name for f in QueryRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DashboardItemInline(admin.TabularInline):
    model = DashboardItem
    extra = 1
    fields = ("position", "saved_query", "width")
    autocomplete_fields = ("saved_query",)


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "owner", "visibility", "updated")
    list_filter = ("owner", "visibility")
    search_fields = ("title", "slug", "description")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("shared_groups",)
    inlines = (DashboardItemInline,)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}


admin.site.register(Tag)
