"""The chart page in a browser: what each chart type draws, the controls and the URL, zooming,
and exporting."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    CHANNELS,
    TRAFFIC_GROUPBY,
    TRAFFIC_TIMESERIES,
    TRAFFIC_TOPN,
    api_get,
    screenshot,
)
from tests.explorer.conftest import GROUPBY, make_query

Login = Callable[[User], Page]


def points(page: Page, series: str) -> Any:
    return page.locator(f'[data-chart] .points[data-series="{series}"] circle.point')


def url_params(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_timeseries_draws_one_point_per_bucket(
    login: Login, users: dict[str, User], traffic: str
) -> None:
    make_query(users["alice"], "traffic", TRAFFIC_TIMESERIES, title="Traffic by hour")
    page = login(users["alice"])
    page.goto("/charts/traffic/")

    buckets = len(api_get(page, "/api/queries/traffic/results/")["rows"])
    assert buckets >= 48
    for series in ("added", "deleted"):
        expect(points(page, series)).to_have_count(buckets)
        expect(page.locator(f'path.series-line[data-series="{series}"]')).to_have_attribute(
            "data-points", str(buckets)
        )
    svg = page.locator("[data-chart] svg")
    expect(svg).to_have_attribute("role", "img")
    expect(svg.locator("title")).to_have_text("Traffic by hour")
    expect(svg.locator("desc")).to_contain_text(f"over {buckets} time buckets")
    expect(page.locator("[data-table] tbody tr")).to_have_count(buckets)
    expect(page.locator("[data-run-meta]")).to_have_text(
        re.compile(rf"^Ran at .+ UTC in \d+ ms, from (cache|Druid) · {buckets} rows$")
    )

    # The crosshair's tooltip lists every series at the bucket under the pointer.
    box = svg.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.locator("[data-chart] .tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text("added: ")
    expect(tooltip).to_contain_text("deleted: ")
    screenshot(page, "test_timeseries_tooltip")

    # The legend's buttons hide and show a series.
    deleted = page.get_by_role("list", name="Metrics").get_by_role("button", name="deleted")
    expect(deleted).to_have_attribute("aria-pressed", "true")
    deleted.click()
    expect(deleted).to_have_attribute("aria-pressed", "false")
    expect(points(page, "deleted")).to_have_count(0)
    expect(points(page, "added")).to_have_count(buckets)
    deleted.click()
    expect(points(page, "deleted")).to_have_count(buckets)


def test_topn_draws_threshold_bars_in_order(
    login: Login, users: dict[str, User], traffic: str
) -> None:
    make_query(users["alice"], "top-channels", TRAFFIC_TOPN, title="Top channels")
    page = login(users["alice"])
    page.goto("/charts/top-channels/")

    rows = api_get(page, "/api/queries/top-channels/results/")["rows"]
    labels = page.locator("[data-chart] .bar-label")
    expect(labels).to_have_text(CHANNELS[:5])
    assert [row[1] for row in rows] == CHANNELS[:5]
    expect(page.locator("[data-chart] rect.bar")).to_have_count(5)
    values = [int(v.replace(",", "")) for v in page.locator(".bar-value").all_text_contents()]
    assert values == [row[2] for row in rows]
    assert values == sorted(values, reverse=True)


def test_groupby_table_sorts_by_a_column(
    login: Login, users: dict[str, User], traffic: str
) -> None:
    # Two dimensions: the chart is the table, sortable by any column.
    make_query(users["alice"], "pages", GROUPBY, title="Pages by channel")
    make_query(users["alice"], "deleted", TRAFFIC_GROUPBY, title="Deleted by channel")
    page = login(users["alice"])
    page.goto("/charts/pages/")
    table = page.locator("[data-chart] table")
    expect(table.locator("tbody tr")).to_have_count(2)
    added = table.locator("tbody tr td:nth-child(5)")
    expect(added).to_have_text(["110", "25"])  # the saved limitSpec's order: added, descending
    table.get_by_role("button", name="added").click()  # a number column sorts largest first
    expect(table.locator("th", has_text="added")).to_have_attribute("aria-sort", "descending")
    table.get_by_role("button", name="added").click()
    expect(table.locator("th", has_text="added")).to_have_attribute("aria-sort", "ascending")
    expect(added).to_have_text(["25", "110"])
    expect(page.locator("#data-heading")).to_be_hidden()  # no second copy of the table
    screenshot(page, "test_groupby_table")

    # One dimension and one metric: bars, one per channel.
    page.goto("/charts/deleted/")
    expect(page.locator("[data-chart] .bar-label")).to_have_count(len(CHANNELS))
    expect(page.locator("[data-table] tbody tr")).to_have_count(len(CHANNELS))


def test_changing_the_range_requeries_and_the_url_restores_the_view(
    login: Login, users: dict[str, User], traffic: str
) -> None:
    make_query(users["alice"], "traffic", TRAFFIC_TIMESERIES, title="Traffic by hour")
    page = login(users["alice"])
    page.goto("/charts/traffic/")
    expect(points(page, "added")).to_have_count(
        len(api_get(page, "/api/queries/traffic/results/")["rows"])
    )

    page.get_by_label("Time range").select_option(label="Last 6 hours")
    expect(page).to_have_url(re.compile(r"\?range=PT6H$"))
    six_hours = len(api_get(page, "/api/queries/traffic/results/", interval="PT6H")["rows"])
    assert 5 <= six_hours <= 7
    expect(points(page, "added")).to_have_count(six_hours)
    expect(page.locator("[data-download=csv]")).to_have_attribute(
        "href", "/api/queries/traffic/results/?interval=PT6H&format=csv"
    )

    page.get_by_label("Granularity").select_option("fifteen_minute")
    expect(page).to_have_url(re.compile(r"\?range=PT6H&granularity=fifteen_minute$"))
    quarters = api_get(
        page, "/api/queries/traffic/results/", interval="PT6H", granularity="fifteen_minute"
    )["rows"]
    expect(points(page, "added")).to_have_count(len(quarters))

    page.reload()
    expect(page.get_by_label("Time range")).to_have_value("PT6H")
    expect(page.get_by_label("Granularity")).to_have_value("fifteen_minute")
    expect(points(page, "added")).to_have_count(len(quarters))

    page.go_back()  # the previous view: six hours by hour
    expect(page.get_by_label("Granularity")).to_have_value("")
    expect(points(page, "added")).to_have_count(six_hours)

    # A range with no data says so instead of drawing an empty chart.
    page.get_by_label("Time range").select_option("custom")
    page.get_by_label("Start (UTC)").fill("2001-01-01T00:00:00")
    page.get_by_label("End (UTC)").fill("2001-01-02T00:00:00")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("[data-status]")).to_have_text("No data in this range")
    params = url_params(page)
    assert params["range"] == ["custom"]
    assert params["start"] == ["2001-01-01T00:00:00Z"]
    assert params["end"] == ["2001-01-02T00:00:00Z"]
    expect(page.locator("[data-chart] svg")).to_have_count(0)


def test_brushing_zooms_in_at_a_finer_granularity(
    login: Login, users: dict[str, User], traffic: str
) -> None:
    make_query(users["alice"], "traffic", TRAFFIC_TIMESERIES, title="Traffic by hour")
    page = login(users["alice"])
    page.goto("/charts/traffic/")
    expect(points(page, "added")).not_to_have_count(0)

    overlay = page.locator("[data-chart] .brush .overlay")
    box = overlay.bounding_box()
    assert box is not None
    middle = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.70, middle)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.85, middle, steps=5)
    page.mouse.up()

    expect(page).to_have_url(re.compile(r"range=custom&start=.+&end=.+&granularity="))
    params = url_params(page)
    assert params["granularity"] != ["hour"]  # finer than the hours on screen
    expect(page.get_by_label("Time range")).to_have_value("custom")
    expect(page.get_by_label("Start (UTC)")).to_be_visible()
    zoomed = api_get(
        page,
        "/api/queries/traffic/results/",
        interval=f"{params['start'][0]}/{params['end'][0]}",
        granularity=params["granularity"][0],
    )["rows"]
    assert zoomed
    # Every bucket is on the line; empty ones (Druid's null sums) are gaps, not dots.
    expect(page.locator('path.series-line[data-series="added"]')).to_have_attribute(
        "data-points", str(len(zoomed))
    )
    expect(points(page, "added")).to_have_count(len([r for r in zoomed if r[1] is not None]))


def test_export_the_chart_as_svg_and_png(
    login: Login, users: dict[str, User], traffic: str, tmp_path: Path
) -> None:
    make_query(users["alice"], "traffic", TRAFFIC_TIMESERIES, title="Traffic by hour")
    page = login(users["alice"])
    page.goto("/charts/traffic/")
    expect(points(page, "added")).not_to_have_count(0)

    with page.expect_download() as svg_download:
        page.get_by_role("button", name="Export SVG").click()
    assert re.fullmatch(r"traffic-\d{8}-\d{6}\.svg", svg_download.value.suggested_filename)
    svg_path = tmp_path / "chart.svg"
    svg_download.value.save_as(svg_path)
    text = svg_path.read_text()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg')
    assert "<title" in text and "Traffic by hour" in text
    assert "var(--" not in text  # colours are inlined, not the page's variables
    assert "stroke:rgb(" in text

    with page.expect_download() as png_download:
        page.get_by_role("button", name="Export PNG").click()
    png_path = tmp_path / "chart.png"
    png_download.value.save_as(png_path)
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png_path.stat().st_size > 5_000
