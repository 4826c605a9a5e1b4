"""Selectors: which saved queries and runs a user may see or change."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from explorer.models import QueryRun, SavedQuery, Visibility


def saved_query_visible(*, user: Any) -> QuerySet[SavedQuery]:
    """Own queries, those shared with everyone or with one of the user's groups; staff see all."""
    queries = SavedQuery.objects.select_related("owner").prefetch_related("tags")
    if not user or not user.is_authenticated:
        return queries.none()
    if user.is_staff:
        return queries.all()
    shared = Q(visibility=Visibility.GROUPS, shared_groups__in=user.groups.all())
    return queries.filter(Q(owner=user) | Q(visibility=Visibility.EVERYONE) | shared).distinct()


def saved_query_can_change(*, user: Any, saved_query: SavedQuery) -> bool:
    return bool(
        user and user.is_authenticated and (user.is_staff or saved_query.owner_id == user.pk)
    )


def query_run_list(*, user: Any) -> QuerySet[QueryRun]:
    """A user's own run history (a shared query's runs by others stay theirs)."""
    return QueryRun.objects.filter(user=user).select_related("saved_query")
