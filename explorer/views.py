"""Pages: the chart catalogue, chart pages, dashboards, datasources and the API token page.
Thin views: a selector or service for the data, a template for the page; charts load their
data from the API in the browser."""

from __future__ import annotations

import json
import pprint
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from explorer import services
from explorer.definitions import definition_of
from explorer.errors import ExplorerError, InvalidDefinition
from explorer.models import QueryType
from explorer.selectors import dashboard_items_visible, dashboard_visible, saved_query_visible

SORTS = {
    "title": "title",
    "-updated": "-updated",
    "datasource": "datasource",
    "owner": "owner__username",
}
PAGE_SIZE = 12


class AuthenticatedHttpRequest(HttpRequest):
    """The request a `login_required` view sees: its user is signed in (for the type checker)."""

    user: User


@login_required
def catalogue(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every saved query the user may see, as cards, with search, filters, sorting and pages."""
    visible = saved_query_visible(user=request.user)
    params = request.GET
    queries = visible
    if params.get("q"):
        term = params["q"]
        queries = queries.filter(
            Q(title__icontains=term) | Q(description__icontains=term) | Q(slug__icontains=term)
        )
    if params.get("tag"):
        queries = queries.filter(tags__name=params["tag"])
    if params.get("datasource"):
        queries = queries.filter(datasource=params["datasource"])
    if params.get("type") in QueryType.values:
        queries = queries.filter(query_type=params["type"])
    if params.get("mine"):
        queries = queries.filter(owner=request.user)
    sort = params.get("sort", "title")
    if sort not in SORTS:
        sort = "title"
    page = Paginator(queries.distinct().order_by(SORTS[sort], "pk"), PAGE_SIZE).get_page(
        params.get("page")
    )
    keep = {k: v for k, v in params.items() if k != "page" and v}
    return render(
        request,
        "explorer/catalogue.html",
        {
            "page": page,
            "filters": keep,
            "filter_query": urlencode(keep),
            "sort": sort,
            "sorts": [
                ("title", "Title"),
                ("-updated", "Recently updated"),
                ("datasource", "Datasource"),
                ("owner", "Owner"),
            ],
            "types": QueryType.values,
            "tags": sorted({t.name for q in visible for t in q.tags.all()}),
            "datasources": sorted({q.datasource for q in visible}),
            "total": visible.count(),
        },
    )


def chart_config(request: HttpRequest, saved: Any) -> dict[str, Any]:
    """What a chart's JavaScript needs, passed to it with json_script."""
    return {
        "slug": saved.slug,
        "title": saved.title,
        "description": saved.description,
        "queryType": saved.query_type,
        "chartType": saved.chart_type,
        "valueFormat": saved.value_format,
        "refreshInterval": saved.refresh_interval,
        "interval": saved.interval,
        "granularity": saved.granularity,
        "resultsUrl": reverse("savedquery-results", kwargs={"slug": saved.slug}),
        "druidUrl": reverse("savedquery-druid", kwargs={"slug": saved.slug}),
        "pageUrl": reverse("chart", kwargs={"slug": saved.slug}),
    }


@login_required
def chart(request: HttpRequest, slug: str) -> HttpResponse:
    saved = get_object_or_404(saved_query_visible(user=request.user), slug=slug)
    try:
        druid_json = services.saved_query_druid_json(saved_query=saved)
    except InvalidDefinition:
        druid_json = {}
    site = request.build_absolute_uri("/").rstrip("/")
    results = request.build_absolute_uri(reverse("savedquery-results", kwargs={"slug": slug}))
    return render(
        request,
        "explorer/chart.html",
        {
            "saved": saved,
            "config": chart_config(request, saved),
            "druid_json": json.dumps(druid_json, indent=2),
            "curl": f'curl -H "Authorization: Token $DRUID_EXPLORER_TOKEN" "{results}?format=csv"',
            "pydruid": _pydruid_code(druid_json),
            "definition": definition_of(saved),
            "site": site,
        },
    )


def _pydruid_code(query: dict[str, Any]) -> str:
    """Python that sends the same native query with pydruid (as text for the page)."""
    body = pprint.pformat(query, indent=4, sort_dicts=False, width=96)
    return (
        "import urllib.request  # pydruid 0.6.9 needs this imported first\n"
        "from pydruid.client import PyDruid\n"
        "from pydruid.query import Query\n\n"
        f'client = PyDruid("{settings.DRUID_URL.rstrip("/")}", "druid/v2/")\n'
        f"query = {body}\n"
        'result = client._post(Query(query, query["queryType"]))\n'
        "print(result.result)\n"
    )


@login_required
def dashboard_list(request: HttpRequest) -> HttpResponse:
    dashboards = dashboard_visible(user=request.user).prefetch_related("items")
    return render(request, "explorer/dashboard_list.html", {"dashboards": dashboards})


@login_required
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    board = get_object_or_404(dashboard_visible(user=request.user), slug=slug)
    items = [
        {
            "item": item,
            "visible": visible,
            "config_id": f"panel-config-{n}",
            "config": chart_config(request, item.saved_query) if visible else None,
        }
        for n, (item, visible) in enumerate(
            dashboard_items_visible(user=request.user, dashboard=board), start=1
        )
    ]
    return render(request, "explorer/dashboard.html", {"dashboard": board, "items": items})


@login_required
def datasource_list(request: HttpRequest) -> HttpResponse:
    error, details = None, []
    try:
        for name in services.datasource_list():
            details.append(services.datasource_detail(name=name) or {"name": name})
    except ExplorerError as exc:
        error = str(exc.detail)
    return render(
        request, "explorer/datasource_list.html", {"datasources": details, "error": error}
    )


@login_required
def datasource(request: HttpRequest, name: str) -> HttpResponse:
    try:
        detail = services.datasource_detail(name=name)
    except ExplorerError as exc:
        return render(request, "explorer/datasource.html", {"name": name, "error": str(exc.detail)})
    if detail is None:
        raise Http404("No such datasource")
    queries = saved_query_visible(user=request.user).filter(datasource=name)
    return render(
        request, "explorer/datasource.html", {"name": name, "detail": detail, "queries": queries}
    )


@login_required
@require_http_methods(["GET", "POST"])
def token(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        Token.objects.filter(user=request.user).delete()
        Token.objects.create(user=request.user)
        return redirect("token")
    key, _ = Token.objects.get_or_create(user=request.user)
    return render(request, "explorer/token.html", {"token": key})
