"""Hypothesis strategies shared by the property-based tests: Druid query parts, some well formed
and some hostile, and JSON junk to put anywhere."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

# Text that has broken parsers, SQL builders, templates and terminals somewhere before.
HOSTILE_TEXT = (
    "",
    " ",
    "<script>alert(1)</script>",
    "'; DROP TABLE explorer_savedquery; --",
    '" OR 1=1 --',
    "\x00",
    "\u202e\u200b",
    "💥🦄",
    "ｅｄｉｔｓ",
    "édits",
    "../../etc/passwd",
    "%s%n%x",
    "{{7*7}}${7*7}",
    "null",
    "NaN",
    "Infinity",
    "1e309",
    "-0",
    "__proto__",
    "\\",
)
# Numbers at and past the edges of Java ints and longs, and of doubles.
EDGE_NUMBERS = (
    0,
    -1,
    1,
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    10**30,
    -0.0,
    0.5,
    1e-320,
    1.7976931348623157e308,
    -1e308,
)

# Long text is built lazily, so that hypothesis does not repr it with every strategy.
text = (
    st.sampled_from(HOSTILE_TEXT)
    | st.text(max_size=20)
    | st.integers(300, 5000).map(lambda n: "a" * n)
)
numbers = (
    st.sampled_from(EDGE_NUMBERS)
    | st.sampled_from((400, -400)).map(lambda n: 10 ** abs(n) * (1 if n > 0 else -1))
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
)
# NaN and the infinities: Python's json writes them, JSON itself has no such numbers.
non_finite = st.sampled_from((math.nan, math.inf, -math.inf))
scalars = st.none() | st.booleans() | numbers | text


def junk(*, finite: bool = True) -> st.SearchStrategy[Any]:
    """Any JSON value, nested a little."""
    leaves = scalars if finite else scalars | non_finite
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
        max_leaves=12,
    )


def maybe(strategy: st.SearchStrategy[Any], *, finite: bool = True) -> st.SearchStrategy[Any]:
    """Mostly the strategy's values, sometimes junk in their place."""
    return st.one_of(strategy, strategy, strategy, junk(finite=finite))


@st.composite
def mangled(draw: st.DrawFn, obj: dict[str, Any]) -> dict[str, Any]:
    """An object with some keys dropped, some values replaced by junk, and extra keys."""
    result = dict(obj)
    for key in draw(st.lists(st.sampled_from(sorted(obj)), max_size=2, unique=True)) if obj else []:
        if draw(st.booleans()):
            del result[key]
        else:
            result[key] = draw(junk())
    result.update(draw(st.dictionaries(text, junk(), max_size=1)))
    return result


def sometimes_mangled(strategy: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy, strategy.flatmap(mangled))


# --- Druid's vocabulary --------------------------------------------------------------------------

DATASOURCES = ("edits", "no_such_datasource")
COLUMNS = ("channel", "page", "user", "added", "deleted", "count", "__time", "missing")
columns = st.sampled_from(COLUMNS) | text
INTERVALS = (
    "2024-01-01/2024-01-03",
    "2024-01-01T00:00:00Z/2024-01-01T02:00:00Z",
    "2024-01-01/P1D",
    "P1D/2024-01-03",
    "1000/3000",
    "-146136543-09-08T08:23:32.096Z/146140482-04-24T15:36:27.903Z",
    "2024-01-03/2024-01-01",
    "2024-02-30/2024-03-01",
    "2024-01-01",
    "PT1H",
    "P7D/now",
    "2024-01-01/2024-01-01",
    "/",
    "2024-W01-1/2024-001",
    "2024-01-01T00:00:00+14:00/2024-01-02T00:00:00-12:00",
)
intervals_text = st.sampled_from(INTERVALS) | text
GRANULARITY_NAMES = (
    "all",
    "none",
    "second",
    "minute",
    "five_minute",
    "fifteen_minute",
    "thirty_minute",
    "hour",
    "six_hour",
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "DAY",
    "fortnight",
)
PERIODS = ("PT1H", "P1D", "P1W", "P1M", "PT0S", "P-1D", "PT1.5S", "P1000000Y", "PT1S", "X")
TIME_ZONES = ("UTC", "America/Los_Angeles", "Asia/Kathmandu", "+05:30", "Mars/Olympus_Mons")
granularities = (
    st.sampled_from(GRANULARITY_NAMES)
    | st.fixed_dictionaries(
        {"type": st.just("period"), "period": st.sampled_from(PERIODS)},
        optional={
            "timeZone": st.sampled_from(TIME_ZONES),
            "origin": st.sampled_from(("2024-01-01T00:30:00Z", "2024-01-01", "soon")),
        },
    )
    | st.fixed_dictionaries(
        {"type": st.just("duration"), "duration": st.sampled_from((1, 3_600_000, 0, -5, 10**20))},
        optional={"origin": st.sampled_from(("2024-01-01T00:30:00Z", "x"))},
    )
    | st.fixed_dictionaries({"type": st.sampled_from(GRANULARITY_NAMES)})
)

AGGREGATOR_TYPES = (
    "count",
    "longSum",
    "doubleSum",
    "floatSum",
    "longMin",
    "longMax",
    "doubleMin",
    "doubleMax",
    "longFirst",
    "longLast",
    "doubleFirst",
    "stringFirst",
    "stringLast",
    "longAny",
    "stringAny",
    "hyperUnique",
    "cardinality",
    "filtered",
    "javascript",
    "thetaSketch",
    "quantilesDoublesSketch",
    "expression",
    "longSumm",
)
OUTPUT_NAMES = ("rows", "added", "n", "x", "__time", "")
output_names = st.sampled_from(OUTPUT_NAMES) | text
aggregator = sometimes_mangled(
    st.fixed_dictionaries(
        {"type": st.sampled_from(AGGREGATOR_TYPES), "name": output_names},
        optional={
            "fieldName": columns,
            "fields": st.lists(columns, max_size=3),
            "expression": st.sampled_from(("added * 2", "added +", "'; DROP TABLE x")),
            "maxStringBytes": numbers,
            "round": st.booleans(),
            "byRow": st.booleans(),
            "aggregator": st.fixed_dictionaries({"type": st.just("count"), "name": output_names}),
            "filter": st.fixed_dictionaries(
                {"type": st.just("selector"), "dimension": columns, "value": text}
            ),
        },
    )
)
aggregations = st.lists(aggregator, max_size=4)


def _filter_leaf() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("selector"), "dimension": columns, "value": st.none() | scalars}
        ),
        st.fixed_dictionaries(
            {"type": st.just("equals"), "column": columns, "matchValue": scalars},
            optional={"matchValueType": st.sampled_from(("STRING", "LONG", "DOUBLE", "ARRAY"))},
        ),
        st.fixed_dictionaries(
            {"type": st.just("in"), "dimension": columns, "values": st.lists(scalars, max_size=4)}
        ),
        st.fixed_dictionaries(
            {"type": st.just("bound"), "dimension": columns},
            optional={
                "lower": scalars,
                "upper": scalars,
                "lowerStrict": st.booleans(),
                "upperStrict": st.booleans(),
                "ordering": st.sampled_from(("lexicographic", "numeric", "strlen", "bogus")),
            },
        ),
        st.fixed_dictionaries(
            {"type": st.just("range"), "column": columns, "matchValueType": st.just("LONG")},
            optional={"lower": scalars, "upper": scalars},
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("regex"),
                "dimension": columns,
                "pattern": st.sampled_from(("^e", "(", "[a-", "(?i)E", "\\p{L}+", "a{99999}")),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("like"),
                "dimension": columns,
                "pattern": st.sampled_from(("e%", "_", "%'%", "\\%")),
            },
            optional={"escape": st.sampled_from(("\\", "ab", ""))},
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("search"),
                "dimension": columns,
                "query": st.fixed_dictionaries(
                    {"type": st.sampled_from(("contains", "insensitive_contains", "fragment"))},
                    optional={"value": text, "values": st.lists(text, max_size=2)},
                ),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("interval"),
                "dimension": columns,
                "intervals": st.lists(intervals_text, max_size=2),
            }
        ),
        st.fixed_dictionaries({"type": st.sampled_from(("true", "false", "null"))}),
        st.fixed_dictionaries({"type": st.just("null"), "column": columns}),
        st.fixed_dictionaries({"type": st.just("expression"), "expression": text}),
        st.fixed_dictionaries(
            {"type": st.sampled_from(("javascript", "spatial", "bloom", "nope"))}
        ),
    )


filters = st.recursive(
    sometimes_mangled(_filter_leaf()),
    lambda inner: st.one_of(
        st.fixed_dictionaries(
            {"type": st.sampled_from(("and", "or")), "fields": st.lists(inner, max_size=3)}
        ),
        st.fixed_dictionaries({"type": st.just("not"), "field": inner}),
    ),
    max_leaves=6,
)


def nested_not(depth: int) -> dict[str, Any]:
    """A filter of `depth` nested nots around a selector."""
    found: dict[str, Any] = {"type": "selector", "dimension": "channel", "value": "en"}
    for _ in range(depth):
        found = {"type": "not", "field": found}
    return found


post_aggregators = st.recursive(
    sometimes_mangled(
        st.one_of(
            st.fixed_dictionaries(
                {"type": st.sampled_from(("fieldAccess", "finalizingFieldAccess"))},
                optional={"name": output_names, "fieldName": output_names},
            ),
            st.fixed_dictionaries(
                {"type": st.just("constant"), "name": output_names}, optional={"value": scalars}
            ),
            st.fixed_dictionaries(
                {"type": st.just("expression"), "name": output_names, "expression": text}
            ),
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(
                        ("javascript", "hyperUniqueCardinality", "quantile", "what")
                    )
                }
            ),
        )
    ),
    lambda inner: st.fixed_dictionaries(
        {
            "type": st.sampled_from(("arithmetic", "doubleGreatest", "longLeast")),
            "name": output_names,
            "fields": st.lists(inner, max_size=3),
        },
        optional={
            "fn": st.sampled_from(("+", "-", "*", "/", "quotient", "pow", "%", "^")),
            "ordering": st.sampled_from(("numericFirst", "x")),
        },
    ),
    max_leaves=5,
)
dimension_specs = st.one_of(
    columns,
    sometimes_mangled(
        st.fixed_dictionaries(
            {"type": st.sampled_from(("default", "extraction", "listFiltered", "what"))},
            optional={
                "dimension": columns,
                "outputName": output_names,
                "outputType": st.sampled_from(("STRING", "LONG", "DOUBLE", "COMPLEX")),
                "extractionFn": st.fixed_dictionaries(
                    {"type": st.sampled_from(("substring", "timeFormat", "upper", "regex"))},
                    optional={"index": numbers, "length": numbers, "format": text, "expr": text},
                ),
            },
        )
    ),
)
metric_specs = st.one_of(
    output_names,
    st.fixed_dictionaries(
        {"type": st.sampled_from(("numeric", "dimension", "inverted", "alphaNumeric", "lol"))},
        optional={
            "metric": output_names | st.fixed_dictionaries({"type": st.just("numeric")}),
            "ordering": st.sampled_from(("lexicographic", "numeric")),
        },
    ),
)
having_specs = st.recursive(
    sometimes_mangled(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(("greaterThan", "lessThan", "equalTo")),
                    "aggregation": output_names,
                    "value": scalars,
                }
            ),
            st.fixed_dictionaries(
                {"type": st.just("dimSelector"), "dimension": columns, "value": scalars}
            ),
            st.fixed_dictionaries({"type": st.just("filter"), "filter": filters}),
        )
    ),
    lambda inner: st.one_of(
        st.fixed_dictionaries(
            {"type": st.sampled_from(("and", "or")), "havingSpecs": st.lists(inner, max_size=3)}
        ),
        st.fixed_dictionaries({"type": st.just("not"), "havingSpec": inner}),
    ),
    max_leaves=4,
)
limit_specs = sometimes_mangled(
    st.fixed_dictionaries(
        {"type": st.sampled_from(("default", "other"))},
        optional={
            "limit": numbers,
            "offset": numbers,
            "columns": st.lists(
                output_names
                | st.fixed_dictionaries(
                    {"dimension": output_names},
                    optional={
                        "direction": st.sampled_from(("ascending", "descending", "sideways")),
                        "dimensionOrder": st.sampled_from(("numeric", "lexicographic", "x")),
                    },
                ),
                max_size=3,
            ),
        },
    )
)
contexts = st.dictionaries(
    st.sampled_from(
        ("timeout", "priority", "queryId", "useCache", "populateCache", "skipEmptyBuckets",
         "grandTotal", "sqlTimeZone", "minTopNThreshold", "vectorize", "maxOnDiskStorage")
    ),
    scalars,
    max_size=3,
)  # fmt: skip
