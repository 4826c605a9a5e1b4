"""Sketch aggregators over HTTP: thetaSketch, HLLSketchBuild/HLLSketchMerge and
quantilesDoublesSketch at query time and as ingestion metrics, their post-aggregators, and the
accuracy of the distinct-count sketches beyond their exact range."""

from __future__ import annotations

from typing import Any

import pytest

from tests.localdruid.harness import LocalDruid, inline_task

INTERVAL = "2024-06-01/2024-06-02"

# u: DataSketches counts neither nulls nor empty strings. d: the quantiles input (null skipped).
#   g=x: u a, b, c, b -> 3 distinct; d 1, 2, 6      g=y: u a, "", null -> 1 distinct; d 3, 4, 5
#   10:00 hour: u a, b, a, "" -> 2; d 1, 2, 3, 4     11:00 hour: u null, c, b -> 2; d 5, 6
ROWS = [
    {"timestamp": "2024-06-01T10:00:00Z", "g": "x", "u": "a", "d": 1},
    {"timestamp": "2024-06-01T10:00:00Z", "g": "x", "u": "b", "d": 2},
    {"timestamp": "2024-06-01T10:30:00Z", "g": "y", "u": "a", "d": 3},
    {"timestamp": "2024-06-01T10:30:00Z", "g": "y", "u": "", "d": 4},
    {"timestamp": "2024-06-01T11:00:00Z", "g": "y", "u": None, "d": 5},
    {"timestamp": "2024-06-01T11:00:00Z", "g": "x", "u": "c", "d": None},
    {"timestamp": "2024-06-01T11:30:00Z", "g": "x", "u": "b", "d": 6},
]
SKETCH_METRICS = [
    {"type": "count", "name": "n"},
    {"type": "thetaSketch", "name": "th", "fieldName": "u"},
    {"type": "HLLSketchBuild", "name": "hl", "fieldName": "u"},
    {"type": "quantilesDoublesSketch", "name": "qs", "fieldName": "d"},
]


@pytest.fixture(scope="module")
def raw(druid: LocalDruid) -> str:
    druid.ingest(
        inline_task(
            "sk_raw",
            ROWS,
            dimensions=["g", "u", {"type": "double", "name": "d"}],
            metrics=[{"type": "count", "name": "n"}],
            rollup=False,
        )
    )
    return "sk_raw"


@pytest.fixture(scope="module")
def rolled(druid: LocalDruid) -> str:
    """The same rows rolled up per hour and g: four rows of stored sketches."""
    druid.ingest(
        inline_task(
            "sk_rolled", ROWS, dimensions=["g"], metrics=SKETCH_METRICS, query_granularity="hour"
        )
    )
    return "sk_rolled"


def query(kind: str, datasource: str, aggregations: list[Any], **fields: Any) -> dict[str, Any]:
    out = {
        "queryType": kind,
        "dataSource": datasource,
        "intervals": [INTERVAL],
        "granularity": "all",
        "aggregations": aggregations,
    }
    out.update(fields)
    return out


RAW_AGGS = [
    {"type": "thetaSketch", "name": "th", "fieldName": "u"},
    {"type": "HLLSketchBuild", "name": "hl", "fieldName": "u", "round": True},
    {"type": "HLLSketchBuild", "name": "hd", "fieldName": "u"},
    {"type": "quantilesDoublesSketch", "name": "qs", "fieldName": "d"},
]
STORED_AGGS = [
    {"type": "thetaSketch", "name": "th", "fieldName": "th"},
    {"type": "HLLSketchMerge", "name": "hl", "fieldName": "hl", "round": True},
    {"type": "HLLSketchMerge", "name": "hd", "fieldName": "hl"},
    {"type": "quantilesDoublesSketch", "name": "qs", "fieldName": "qs"},
]
QUANTILE_POSTS = [
    {
        "type": "quantilesDoublesSketchToQuantile",
        "name": "median",
        "field": {"type": "fieldAccess", "fieldName": "qs"},
        "fraction": 0.5,
    },
    {
        "type": "quantilesDoublesSketchToQuantiles",
        "name": "qq",
        "field": {"type": "fieldAccess", "fieldName": "qs"},
        "fractions": [0, 0.25, 1],
    },
    {
        "type": "quantilesDoublesSketchToRank",
        "name": "rank",
        "field": {"type": "fieldAccess", "fieldName": "qs"},
        "value": 3.5,
    },
]
# All rows: u a, b, c -> 3 distinct; d 1..6 -> N 6, median (3rd of 6) 3, quartile (2nd) 2.
ALL = {"th": 3.0, "hl": 3, "hd": 3.0, "qs": 6, "median": 3.0, "qq": [1.0, 2.0, 6.0], "rank": 0.5}


@pytest.mark.parametrize("source", ["raw", "rolled"])
def test_timeseries_all(druid: LocalDruid, request: pytest.FixtureRequest, source: str) -> None:
    datasource = request.getfixturevalue(source)
    aggs = RAW_AGGS if source == "raw" else STORED_AGGS
    answer = druid.query(query("timeseries", datasource, aggs, postAggregations=QUANTILE_POSTS))
    assert answer == [{"timestamp": "2024-06-01T10:00:00.000Z", "result": ALL}]
    # The types Druid writes: the theta estimate and an unrounded HLL are doubles, rounded HLL
    # and the quantiles sketch's N are longs.
    result = answer[0]["result"]
    assert isinstance(result["hl"], int) and isinstance(result["qs"], int)
    assert isinstance(result["th"], float) and isinstance(result["hd"], float)


@pytest.mark.parametrize("source", ["raw", "rolled"])
def test_timeseries_hours(druid: LocalDruid, request: pytest.FixtureRequest, source: str) -> None:
    datasource = request.getfixturevalue(source)
    aggs = RAW_AGGS if source == "raw" else STORED_AGGS
    answer = druid.query(query("timeseries", datasource, aggs, granularity="hour"))
    assert answer == [
        {
            "timestamp": "2024-06-01T10:00:00.000Z",
            "result": {"th": 2.0, "hl": 2, "hd": 2.0, "qs": 4},
        },
        {
            "timestamp": "2024-06-01T11:00:00.000Z",
            "result": {"th": 2.0, "hl": 2, "hd": 2.0, "qs": 2},
        },
    ]


@pytest.mark.parametrize("source", ["raw", "rolled"])
def test_group_by_and_top_n(druid: LocalDruid, request: pytest.FixtureRequest, source: str) -> None:
    datasource = request.getfixturevalue(source)
    aggs = RAW_AGGS if source == "raw" else STORED_AGGS
    grouped = druid.query(
        query(
            "groupBy",
            datasource,
            aggs,
            dimensions=["g"],
            postAggregations=QUANTILE_POSTS[:1],
            having={"type": "greaterThan", "aggregation": "th", "value": 0},
            limitSpec={
                "type": "default",
                "columns": [{"dimension": "th", "direction": "ascending"}],
            },
        )
    )
    assert [row["event"] for row in grouped] == [
        {"g": "y", "th": 1.0, "hl": 1, "hd": 1.0, "qs": 3, "median": 4.0},
        {"g": "x", "th": 3.0, "hl": 3, "hd": 3.0, "qs": 3, "median": 2.0},
    ]
    top = druid.query(query("topN", datasource, aggs, dimension="g", metric="th", threshold=1))
    assert top[0]["result"] == [{"g": "x", "th": 3.0, "hl": 3, "hd": 3.0, "qs": 3}]


def test_no_rows(druid: LocalDruid, raw: str) -> None:
    """Over no rows the sketches are empty: estimates 0, N 0, and quantiles NaN."""
    answer = druid.query(
        query(
            "timeseries",
            raw,
            RAW_AGGS,
            intervals=["2020-01-01/2020-01-02"],
            postAggregations=QUANTILE_POSTS,
        )
    )
    assert answer[0]["result"] == {
        "th": 0.0,
        "hl": 0,
        "hd": 0.0,
        "qs": 0,
        "median": "NaN",
        "qq": ["NaN", "NaN", "NaN"],
        "rank": "NaN",
    }


def _field(name: str) -> dict[str, str]:
    return {"type": "fieldAccess", "fieldName": name}


def _filtered(name: str, g: str, aggregator: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "filtered",
        "name": name,
        "filter": {"type": "selector", "dimension": "g", "value": g},
        "aggregator": aggregator,
    }


def test_set_operations(druid: LocalDruid, raw: str) -> None:
    """x users {a, b, c}, y users {a}."""
    theta = {"type": "thetaSketch", "name": "t", "fieldName": "u"}
    hll = {"type": "HLLSketchBuild", "name": "h", "fieldName": "u"}

    def set_op(func: str, *fields: dict[str, Any]) -> dict[str, Any]:
        return {"type": "thetaSketchSetOp", "name": func, "func": func, "fields": list(fields)}

    def estimate(name: str, field: dict[str, Any]) -> dict[str, Any]:
        return {"type": "thetaSketchEstimate", "name": name, "field": field}

    x, y = _field("x"), _field("y")
    posts = [
        estimate("both", set_op("INTERSECT", x, y)),
        estimate("only_x", set_op("NOT", x, y)),
        estimate("only_y", set_op("NOT", y, x)),
        estimate("either", set_op("UNION", x, y)),
        estimate("nested", set_op("INTERSECT", set_op("UNION", x, y), x)),
        estimate("plain", x),
        {
            "type": "HLLSketchEstimate",
            "name": "hll_either",
            "field": {
                "type": "HLLSketchUnion",
                "name": "u",
                "fields": [_field("hx"), _field("hy")],
            },
            "round": True,
        },
        # Other post-aggregators read a sketch aggregator's final value.
        {"type": "arithmetic", "name": "sum", "fn": "+", "fields": [x, y]},
    ]
    aggs = [
        _filtered("x", "x", theta),
        _filtered("y", "y", theta),
        _filtered("hx", "x", hll),
        _filtered("hy", "y", hll),
    ]
    result = druid.query(query("timeseries", raw, aggs, postAggregations=posts))[0]["result"]
    assert result == {
        "x": 3.0,
        "y": 1.0,
        "hx": 3.0,
        "hy": 1.0,
        "both": 1.0,
        "only_x": 2.0,
        "only_y": 0.0,
        "either": 3.0,
        "nested": 3.0,
        "plain": 3.0,
        "hll_either": 3,
        "sum": 4.0,
    }


def test_reindex_merges_stored_sketches(druid: LocalDruid, rolled: str) -> None:
    """Reindexing (the druid input source) rolls the stored sketches up again, per day."""
    task = inline_task(
        "sk_reindexed",
        [],
        dimensions=["g"],
        metrics=[
            {"type": "longSum", "name": "n", "fieldName": "n"},
            {"type": "thetaSketch", "name": "th", "fieldName": "th"},
            {"type": "HLLSketchMerge", "name": "hl", "fieldName": "hl"},
            {"type": "quantilesDoublesSketch", "name": "qs", "fieldName": "qs"},
        ],
        query_granularity="day",
        timestamp={"column": "__time", "format": "millis"},
    )
    task["spec"]["ioConfig"]["inputSource"] = {
        "type": "druid",
        "dataSource": rolled,
        "interval": INTERVAL,
    }
    druid.ingest(task)
    aggs = [{"type": "longSum", "name": "n", "fieldName": "n"}, *STORED_AGGS]
    answer = druid.query(query("groupBy", "sk_reindexed", aggs, dimensions=["g"]))
    assert [row["event"] for row in answer] == [
        {"g": "x", "n": 4, "th": 3.0, "hl": 3, "hd": 3.0, "qs": 3},
        {"g": "y", "n": 3, "th": 1.0, "hl": 1, "hd": 1.0, "qs": 3},
    ]
    scan = {"queryType": "scan", "dataSource": "sk_reindexed", "intervals": [INTERVAL]}
    rows = druid.query({**scan, "columns": ["g", "n"], "resultFormat": "compactedList"})
    assert [row for batch in rows for row in batch["events"]] == [["x", 4], ["y", 3]]
    # Druid would print the sketches serialized; localdruid says it does not.
    refused = druid.post(scan)
    assert refused.status_code == 501 and "COMPLEX<thetaSketch>" in refused.json()["errorMessage"]


def test_segment_metadata_types(druid: LocalDruid, rolled: str) -> None:
    answer = druid.query(
        {"queryType": "segmentMetadata", "dataSource": rolled, "merge": True, "analysisTypes": []}
    )
    columns = answer[0]["columns"]
    assert columns["th"]["typeSignature"] == "COMPLEX<thetaSketch>"
    assert columns["hl"]["typeSignature"] == "COMPLEX<HLLSketch>"
    assert columns["qs"]["typeSignature"] == "COMPLEX<quantilesDoublesSketch>"


@pytest.fixture(scope="module")
def many(druid: LocalDruid) -> str:
    """5000 distinct users over four groups, stored raw and as rolled-up theta sketches."""
    rows = [
        {"timestamp": "2024-06-01T10:00:00Z", "g": str(i % 4), "u": f"user{i}"} for i in range(5000)
    ]
    druid.ingest(
        inline_task(
            "sk_many", rows, dimensions=["g", "u"], metrics=[{"type": "count", "name": "n"}]
        )
    )
    druid.ingest(
        inline_task(
            "sk_many_rolled",
            rows,
            dimensions=["g"],
            metrics=[{"type": "thetaSketch", "name": "th", "fieldName": "u", "size": 1024}],
        )
    )
    return "sk_many"


def test_estimates_beyond_the_exact_range(druid: LocalDruid, many: str) -> None:
    """Below K distinct values the count is exact; beyond, the estimate's relative standard
    error is about 1/sqrt(K) (3% for K = 1024): 15% is five of them."""
    exact = druid.query(
        query("timeseries", many, [{"type": "thetaSketch", "name": "t", "fieldName": "u"}])
    )
    assert exact[0]["result"] == {"t": 5000.0}  # the default size, 16384, holds them all
    small = [
        {"type": "thetaSketch", "name": "t", "fieldName": "u", "size": 1024},
        {"type": "HLLSketchBuild", "name": "h", "fieldName": "u", "lgK": 10},
    ]
    built = druid.query(query("timeseries", many, small))[0]["result"]
    assert built["t"] != 5000.0 and abs(built["t"] / 5000 - 1) < 0.15
    assert built["h"] == built["t"]  # both keep the 1024 smallest hashes
    # Merging the four groups' stored sketches keeps the same hashes as building one sketch.
    merged = druid.query(
        query(
            "timeseries",
            "sk_many_rolled",
            [{"type": "thetaSketch", "name": "t", "fieldName": "th", "size": 1024}],
        )
    )
    assert merged[0]["result"]["t"] == built["t"]


@pytest.mark.parametrize(
    ("aggregations", "post", "status", "message"),
    [
        ([{"type": "thetaSketch", "name": "t", "fieldName": "u", "size": 1000}], [], 400, "size"),
        ([{"type": "HLLSketchBuild", "name": "h", "fieldName": "u", "lgK": 30}], [], 400, "lgK"),
        ([{"type": "HLLSketchMerge", "name": "h", "fieldName": "u"}], [], 400, "HLLSketchBuild"),
        (
            [{"type": "thetaSketch", "name": "t", "fieldName": "u", "shouldFinalize": False}],
            [],
            501,
            "shouldFinalize",
        ),
        (
            [{"type": "thetaSketch", "name": "t", "fieldName": "u", "isInputThetaSketch": True}],
            [],
            501,
            "isInputThetaSketch",
        ),
        (
            [{"type": "thetaSketch", "name": "t", "fieldName": "u"}],
            [
                {
                    "type": "thetaSketchSetOp",
                    "name": "s",
                    "func": "UNION",
                    "fields": [_field("t")] * 2,
                }
            ],
            501,
            "thetaSketchSetOp",
        ),
        (
            [{"type": "quantilesDoublesSketch", "name": "q", "fieldName": "d"}],
            [
                {
                    "type": "quantilesDoublesSketchToQuantile",
                    "name": "p",
                    "field": _field("q"),
                    "fraction": 1.5,
                }
            ],
            400,
            "fraction",
        ),
        (
            [{"type": "quantilesDoublesSketch", "name": "q", "fieldName": "d"}],
            [{"type": "thetaSketchEstimate", "name": "e", "field": _field("q")}],
            400,
            "not a theta sketch",
        ),
        (
            [{"type": "quantilesDoublesSketch", "name": "q", "fieldName": "d"}],
            [
                {
                    "type": "quantilesDoublesSketchToHistogram",
                    "name": "h",
                    "field": _field("q"),
                    "splitPoints": [1],
                }
            ],
            501,
            "quantilesDoublesSketchToHistogram",
        ),
    ],
)
def test_refusals(
    druid: LocalDruid,
    raw: str,
    aggregations: list[Any],
    post: list[Any],
    status: int,
    message: str,
) -> None:
    resp = druid.post(query("timeseries", raw, aggregations, postAggregations=post))
    assert resp.status_code == status, resp.text
    assert message in resp.json()["errorMessage"]


def test_sql_sketch_functions_answer_unsupported(druid: LocalDruid, raw: str, rolled: str) -> None:
    """Druid SQL's sketch functions and stored sketch columns are not planned by localdruid."""
    cases = {
        f'SELECT APPROX_COUNT_DISTINCT_DS_THETA(u) FROM "{raw}"': "APPROX_COUNT_DISTINCT_DS_THETA",
        f'SELECT g, th FROM "{rolled}"': "column [th] of type COMPLEX",
    }
    for sql, construct in cases.items():
        resp = druid.post({"query": sql}, path="/druid/v2/sql/")
        assert resp.status_code == 501, resp.text
        assert construct in resp.json()["errorMessage"]
