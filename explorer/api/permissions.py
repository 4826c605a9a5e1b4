"""API permissions: anyone who may see a saved query may read and run it; only its owner or
staff may change or delete it."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from explorer.selectors import saved_query_can_change


class CanChangeSavedQuery(BasePermission):
    message = "Only the owner of this saved query (or staff) can change or delete it."

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "action", None) in view.read_actions:
            return True
        return saved_query_can_change(user=request.user, saved_query=obj)
