"""URLs of the site: the pages, the admin, login/logout, and the API."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from explorer import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", include("explorer.api.urls")),
    path("", views.catalogue, name="catalogue"),
    path("charts/<slug:slug>/", views.chart, name="chart"),
    path("dashboards/", views.dashboard_list, name="dashboards"),
    path("dashboards/<slug:slug>/", views.dashboard, name="dashboard"),
    path("datasources/", views.datasource_list, name="datasources"),
    path("datasources/<str:name>/", views.datasource, name="datasource"),
    path("token/", views.token, name="token"),
]
