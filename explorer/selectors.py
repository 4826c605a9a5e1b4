"""Selectors: which saved queries, dashboards and runs a user may see or change."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from explorer.models import Dashboard, DashboardItem, QueryRun, SavedQuery, Visibility
from explorer.prepared import PLACEHOLDER_INT, PLACEHOLDER_TEXT, Prepared


def _visible(queryset: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Own objects, those shared with everyone or with one of the user's groups; staff see all."""
    if not user or not user.is_authenticated:
        return queryset.none()
    if user.is_staff:
        return queryset.all()
    # A subquery rather than a join: no duplicate rows to remove, so no DISTINCT on every lookup.
    through = queryset.model.shared_groups.through
    in_my_groups = through.objects.filter(
        **{queryset.model._meta.model_name: OuterRef("pk")}, group__in=user.groups.all()
    )
    shared = Q(visibility=Visibility.GROUPS) & Q(Exists(in_my_groups))
    return queryset.filter(Q(owner=user) | Q(visibility=Visibility.EVERYONE) | shared)


def saved_query_visible(*, user: Any) -> QuerySet[SavedQuery]:
    return _visible(SavedQuery.objects.select_related("owner").prefetch_related("tags"), user)


def _visible_by_slug(*, staff: bool) -> Prepared[SavedQuery]:
    def build(slug: str, user_id: int = PLACEHOLDER_INT) -> QuerySet[SavedQuery]:
        user = get_user_model()(pk=user_id, is_staff=staff)
        return _visible(SavedQuery.objects.all(), user).filter(slug=slug).order_by()

    if staff:  # staff see every saved query: the user is not in the SQL
        return Prepared(build, slug=PLACEHOLDER_TEXT)
    return Prepared(build, user_id=PLACEHOLDER_INT, slug=PLACEHOLDER_TEXT)


_VISIBLE_BY_SLUG = {staff: _visible_by_slug(staff=staff) for staff in (False, True)}


def saved_query_visible_by_slug(*, user: Any, slug: str) -> SavedQuery | None:
    """`saved_query_visible(user=user).get(slug=slug)`, or None: the same rule, with its SQL
    compiled once (explorer.prepared). Every run looks its saved query up this way."""
    if not user or not user.is_authenticated:
        return None
    found = _VISIBLE_BY_SLUG[bool(user.is_staff)](user_id=user.pk, slug=slug)
    return found[0] if found else None


def dashboard_visible(*, user: Any) -> QuerySet[Dashboard]:
    return _visible(Dashboard.objects.select_related("owner"), user)


def dashboard_items_visible(*, user: Any, dashboard: Dashboard) -> list[tuple[DashboardItem, bool]]:
    """The dashboard's items, each with whether the user may see its chart (a hidden one shows
    as a placeholder, never with its title)."""
    allowed = set(saved_query_visible(user=user).values_list("pk", flat=True))
    items = dashboard.items.select_related("saved_query")
    return [(item, item.saved_query_id in allowed) for item in items]


def saved_query_can_change(*, user: Any, saved_query: SavedQuery) -> bool:
    return bool(
        user and user.is_authenticated and (user.is_staff or saved_query.owner_id == user.pk)
    )


def query_run_list(*, user: Any) -> QuerySet[QueryRun]:
    """A user's own run history (a shared query's runs by others stay theirs)."""
    return QueryRun.objects.filter(user=user).select_related("saved_query")
