"""The results endpoint's fast path: a cached result answered before DRF's generic machinery.

Dashboards and programs ask for the same results again and again, and a cache hit should cost
next to nothing. DRF's request wrapping, content negotiation, serializers and response
finalization cost more than everything a hit needs, so a plain `GET /api/queries/{slug}/results/`
(no parameters, JSON accepted) is first tried here, with the same parts the API view uses: DRF's
token authentication or the session's user, the same visibility lookup, the results throttle,
and the services' cache lookup and run log. Whenever it cannot answer with a cached result (no
user, a hidden or unknown query, a miss, a throttled user, parameters, CSV, another method), it
answers nothing and the API view handles the request in full, errors included. So the fast path
never decides a refusal: it only serves what the API view would have served.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from explorer import services
from explorer.api.authentication import TokenAuthentication
from explorer.selectors import saved_query_visible_by_slug

# What a caller of the JSON API sends: no Accept header, anything, or JSON itself.
ACCEPTS_JSON = frozenset(["", "*/*", "application/json"])


def _user(request: HttpRequest) -> Any:
    """The user DRF would authenticate (token first, then the session), or None."""
    if get_authorization_header(wrapped := Request(request)):
        try:
            found = TokenAuthentication().authenticate(wrapped)
        except exceptions.AuthenticationFailed:
            return None  # the API view answers the 401
        if found is not None:
            return found[0]
    user = getattr(request, "user", None)  # the session's (AuthenticationMiddleware)
    if user is not None and user.is_authenticated and user.is_active:
        return user  # a GET needs no CSRF token, as in DRF's SessionAuthentication
    return None


def cached_results(request: HttpRequest, *, slug: str, throttle: Any) -> HttpResponse | None:
    """The cached result of the saved query `slug` for this request, logged as a run; None
    leaves the request to the API view. `throttle` is the view's results throttle."""
    if request.method != "GET" or request.GET:
        return None
    if request.META.get("HTTP_ACCEPT", "").strip() not in ACCEPTS_JSON:
        return None
    user = _user(request)
    if user is None:
        return None
    saved = saved_query_visible_by_slug(user=user, slug=slug)
    if saved is None:
        return None
    hit = services.saved_query_hit(saved_query=saved)
    if hit is None:
        return None
    request.user = user  # as DRF sets it: the throttle counts per user
    if not throttle.allow_request(request, None):
        return None  # the API view refuses it with its 429 (a refusal is not counted)
    data = services.hit_result(hit, user=user, saved_query=saved)
    response = HttpResponse(JSONRenderer().render(data), content_type="application/json")
    # The headers DRF's view would add: the methods of the action, and Vary on Accept.
    response["Allow"] = "GET, HEAD, OPTIONS"
    patch_vary_headers(response, ["Accept"])
    return response
