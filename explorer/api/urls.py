"""The API's one router: every endpoint under /api/."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from explorer.api.views import DatasourceViewSet, QueryRunViewSet, SavedQueryViewSet, TokenView

router = DefaultRouter()
router.register("queries", SavedQueryViewSet, basename="savedquery")
router.register("datasources", DatasourceViewSet, basename="datasource")
router.register("runs", QueryRunViewSet, basename="queryrun")

urlpatterns = [
    path("token/", TokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *router.urls,
]
