"""Object permissions as a matrix: every endpoint and page shows, runs, exports, changes and
deletes exactly what the visibility rules allow, and a hidden query's title and description never
appear in any response to someone who may not see it (search, admin, dashboards, runs, errors)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from explorer.models import Dashboard, DashboardItem, QueryRun, SavedQuery, Visibility
from tests.explorer.conftest import TIMESERIES, api, make_query

pytestmark = pytest.mark.django_db

# Words that appear nowhere else (not in the slugs), so a hit in a body can only be a leak.
SECRETS = {
    Visibility.PRIVATE: ("Marmalade Heron", "Obsidian walrus notes"),
    Visibility.GROUPS: ("Quartz Lantern", "Tangerine badger notes"),
    Visibility.EVERYONE: ("Velvet Comet", "Juniper otter notes"),
}
SLUGS = {visibility: f"q-{visibility}" for visibility in SECRETS}
# Who may see each of alice's queries; only alice and staff may change them.
VIEWERS = {
    Visibility.PRIVATE: {"alice", "staff"},
    Visibility.GROUPS: {"alice", "bob", "staff"},
    Visibility.EVERYONE: {"alice", "bob", "carol", "staff"},
}
CHANGERS = {"alice", "staff"}


def _make_all(alice: User) -> dict[str, SavedQuery]:
    SavedQuery.objects.all().delete()
    return {
        visibility: make_query(
            alice,
            SLUGS[visibility],
            visibility=visibility,
            groups=("analysts",) if visibility == Visibility.GROUPS else (),
            title=title,
            description=description,
            cache_ttl=0,
        )
        for visibility, (title, description) in SECRETS.items()
    }


def _browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


class Bodies:
    """Every response one user got, to check afterwards that nothing hidden leaked into any."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[tuple[str, str]] = []

    def keep(self, label: str, response: Any) -> Any:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        self.seen.append((label, body.decode("utf-8", "replace")))
        return response

    def assert_no_leak(self) -> None:
        for visibility, secrets in SECRETS.items():
            if self.name in VIEWERS[visibility]:
                continue
            for label, body in self.seen:
                for secret in secrets:
                    assert secret not in body, f"{self.name} got {secret!r} from {label}"


@pytest.fixture
def staff_admin(users: dict[str, User]) -> User:
    """Staff with the admin's view and change rights on saved queries (not a superuser)."""
    staff = users["staff"]
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="explorer",
            codename__in=["view_savedquery", "change_savedquery", "view_dashboard"],
        )
    )
    return staff


def test_reads_pages_and_runs_show_exactly_what_the_rules_allow(
    users: dict[str, User], staff_admin: User
) -> None:
    queries = _make_all(users["alice"])
    board = Dashboard.objects.create(
        owner=users["carol"], slug="board", title="Shared board", visibility=Visibility.EVERYONE
    )
    for position, saved in enumerate(queries.values()):
        DashboardItem.objects.create(dashboard=board, saved_query=saved, position=position)
    Dashboard.objects.create(
        owner=users["alice"], slug="alices-board", title="Marmalade Heron board"
    )

    for name, user in users.items():
        bodies = Bodies(name)
        client, pages = api(user), _browser(user)
        allowed = {SLUGS[v] for v, viewers in VIEWERS.items() if name in viewers}

        listed = bodies.keep("list", client.get("/api/queries/")).json()["results"]
        assert {q["slug"] for q in listed} == allowed, name
        for visibility, (title, description) in SECRETS.items():
            slug, visible = SLUGS[visibility], name in VIEWERS[visibility]
            word = title.split()[0]
            found = bodies.keep(f"search {word}", client.get("/api/queries/", {"search": word}))
            assert [q["slug"] for q in found.json()["results"]] == ([slug] if visible else [])
            found = bodies.keep(
                f"search {description}", client.get("/api/queries/", {"search": description})
            )
            assert len(found.json()["results"]) == int(visible), (name, description)
            expected = 200 if visible else 404
            for url in (
                f"/api/queries/{slug}/",
                f"/api/queries/{slug}/results/",
                f"/api/queries/{slug}/results/?format=csv",
                f"/api/queries/{slug}/druid/",
            ):
                resp = bodies.keep(url, client.get(url))
                assert resp.status_code == expected, (name, url, resp.status_code)
            if visible:
                assert (
                    b"timestamp" in client.get(f"/api/queries/{slug}/results/?format=csv").content
                )

            catalogue = bodies.keep(f"catalogue {word}", pages.get("/", {"q": word}))
            assert (f'data-slug="{slug}"' in catalogue.content.decode()) == visible, (name, slug)
            chart = bodies.keep(f"chart {slug}", pages.get(f"/charts/{slug}/"))
            assert chart.status_code == expected, (name, slug)

        catalogue = bodies.keep("catalogue", pages.get("/")).content.decode()
        assert {s for s in SLUGS.values() if f'data-slug="{s}"' in catalogue} == allowed, name

        dashboard = bodies.keep("dashboard", pages.get("/dashboards/board/")).content.decode()
        assert dashboard.count("data-panel ") == len(allowed), name
        assert dashboard.count("not shared with you") == 3 - len(allowed), name
        bodies.keep("dashboards", pages.get("/dashboards/"))
        private_board = bodies.keep("private board", pages.get("/dashboards/alices-board/"))
        assert private_board.status_code == (200 if name in ("alice", "staff") else 404), name

        source = bodies.keep("datasource", pages.get("/datasources/edits/")).content.decode()
        charts = source.split("Charts on this datasource")[1]
        assert {s for s in SLUGS.values() if f"/charts/{s}/" in charts} == allowed, name

        for url in (
            "/admin/explorer/savedquery/?q=Marmalade",
            "/admin/explorer/savedquery/",
            "/admin/autocomplete/?app_label=explorer&model_name=dashboarditem"
            "&field_name=saved_query&term=",
            "/admin/autocomplete/?app_label=explorer&model_name=dashboarditem"
            "&field_name=saved_query&term=Marmalade",
            f"/admin/explorer/savedquery/{queries[Visibility.PRIVATE].pk}/change/",
            "/admin/explorer/dashboard/",
        ):
            resp = bodies.keep(url, pages.get(url))
            if name == "staff":
                assert resp.status_code == 200, (url, resp.status_code)
            else:
                assert resp.status_code == 302 and "/admin/login/" in resp["Location"], url

        runs = bodies.keep("runs", client.get("/api/runs/")).json()["results"]
        assert {r["saved_query"] for r in runs} == allowed, name
        bodies.assert_no_leak()

    # Staff's admin autocomplete (a dashboard's chart picker) offers every query, by title.
    autocomplete = _browser(users["staff"]).get(
        "/admin/autocomplete/",
        {"app_label": "explorer", "model_name": "dashboarditem", "field_name": "saved_query"},
    )
    assert {r["text"] for r in autocomplete.json()["results"]} == {t for t, _ in SECRETS.values()}


@pytest.mark.parametrize("name", ["alice", "bob", "carol", "staff"])
def test_changes_and_deletes_follow_the_rules_and_errors_name_nothing_hidden(
    users: dict[str, User], name: str
) -> None:
    user, bodies = users[name], Bodies(name)
    client = api(user)
    for visibility in SECRETS:
        _make_all(users["alice"])
        slug, visible = SLUGS[visibility], name in VIEWERS[visibility]
        for method in ("patch", "put", "delete"):
            body = {"title": "Changed", "slug": slug, **TIMESERIES} if method != "delete" else {}
            url = f"/api/queries/{slug}/"
            resp = bodies.keep(f"{method} {url}", getattr(client, method)(url, body, format="json"))
            if name in CHANGERS:
                assert resp.status_code in (200, 204), (method, slug, resp.status_code)
            else:
                assert resp.status_code == (403 if visible else 404), (method, slug)
        survived = SavedQuery.objects.filter(slug=slug).first()
        if name in CHANGERS:
            assert survived is None
        else:
            assert survived is not None and survived.title == SECRETS[visibility][0]

        # Taking a hidden query's slug is refused without naming the query.
        _make_all(users["alice"])
        taken = bodies.keep(
            "create",
            client.post("/api/queries/", {"title": "Mine", "slug": slug, **TIMESERIES}, "json"),
        )
        assert taken.status_code == 400
        imported = bodies.keep(
            "import",
            client.post(
                "/api/queries/import/",
                {
                    "title": "Mine",
                    "slug": slug,
                    "query": client.get(f"/api/queries/{SLUGS['everyone']}/druid/").json(),
                },
                "json",
            ),
        )
        assert imported.status_code == 400
    bodies.assert_no_leak()


def test_run_history_names_no_query_that_was_made_private_since(users: dict[str, User]) -> None:
    queries = _make_all(users["alice"])
    bob = api(users["bob"])
    assert bob.get(f"/api/queries/{SLUGS[Visibility.GROUPS]}/results/").status_code == 200
    shared = queries[Visibility.GROUPS]
    shared.visibility = Visibility.PRIVATE
    shared.save()
    assert bob.get(f"/api/queries/{SLUGS[Visibility.GROUPS]}/results/").status_code == 404
    runs = bob.get("/api/runs/")
    assert len(runs.json()["results"]) == 1
    for secret in SECRETS[Visibility.GROUPS]:
        assert secret not in runs.content.decode()
    # Others' runs of the same query stay theirs.
    api(users["alice"]).get(f"/api/queries/{SLUGS[Visibility.EVERYONE]}/results/")
    assert QueryRun.objects.count() == 2
    assert len(api(users["carol"]).get("/api/runs/").json()["results"]) == 0
