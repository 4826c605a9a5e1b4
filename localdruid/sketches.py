"""Druid's DataSketches aggregators (theta, HLL, quantiles) as SQL over sketch states.

localdruid does not run Apache DataSketches. It keeps states that SQL can build and merge and
that answer as Druid's sketches would, exactly on small data:

- **Distinct counts** (`thetaSketch`, `HLLSketchBuild`/`HLLSketchMerge`) keep a theta sketch of
  64-bit hashes: a threshold `t` and every distinct hash below it. It is built as a
  K-minimum-values sketch: while a group has fewer than K distinct values, `t` is 2^64 (all
  values kept) and the estimate is the exact count; beyond, `t` is the K-th smallest hash, the
  K-1 smaller ones are kept, and the estimate (K-1)/(t/2^64) has a relative standard error of
  about 1/sqrt(K-2). K is the theta aggregator's `size` (default 16384: 0.78%) or 2^lgK for HLL
  (default lgK 12: 1.6%, as Druid's HLL_4 sketch at lgK 12). Unions keep the smallest threshold,
  so merged estimates are as accurate as their inputs, as with Druid's sketch unions.
- **Quantiles** (`quantilesDoublesSketch`) keep every value, so ranks and quantiles are exact:
  within any bound Druid's sketch gives. The state grows with the data (8 bytes per value).
"""

from __future__ import annotations

from localdruid.errors import InvalidInput

# Druid column types of stored sketch metrics, and the physical types of their states.
THETA = "COMPLEX<thetaSketch>"
HLL = "COMPLEX<HLLSketch>"
QUANTILES = "COMPLEX<quantilesDoublesSketch>"
DISTINCT_STATE = "STRUCT(t UBIGINT, v UBIGINT[])"
QUANTILES_STATE = "DOUBLE[]"
STATE_TYPES = {THETA: DISTINCT_STATE, HLL: DISTINCT_STATE, QUANTILES: QUANTILES_STATE}

# The threshold of an exact sketch: every hash is below it (a hash of 2^64-1 is negligible).
_ALL = "CAST(18446744073709551615 AS UBIGINT)"
EMPTY_DISTINCT = f"CAST({{'t': {_ALL}, 'v': []}} AS {DISTINCT_STATE})"
EMPTY_QUANTILES = f"CAST([] AS {QUANTILES_STATE})"

THETA_DEFAULT_SIZE = 16384
HLL_DEFAULT_LG_K = 12


def theta_size(value: object, where: str) -> int:
    """Druid's theta `size`: a power of two of at least 16."""
    size = THETA_DEFAULT_SIZE if value is None else value
    if not isinstance(size, int) or isinstance(size, bool) or size < 16 or size & (size - 1):
        raise InvalidInput(f"{where}: size must be a power of 2 and at least 16, got [{size}]")
    return size


def hll_size(value: object, where: str) -> int:
    """K for an HLL sketch of Druid's `lgK` (4 to 21)."""
    lg_k = HLL_DEFAULT_LG_K if value is None else value
    if not isinstance(lg_k, int) or isinstance(lg_k, bool) or not 4 <= lg_k <= 21:
        raise InvalidInput(f"{where}: lgK must be an integer from 4 to 21, got [{lg_k}]")
    return 1 << lg_k


def _kmv(hashes: str, k: int, threshold: str = _ALL) -> str:
    """The state of `hashes` (sorted, distinct, all below `threshold`) kept to K-1 values."""
    return (
        f"list_transform([COALESCE({hashes}, [])], lambda l: CASE WHEN len(l) >= {k} "
        f"THEN {{'t': l[{k}], 'v': l[1:{k - 1}]}} "
        f"ELSE {{'t': COALESCE({threshold}, {_ALL}), 'v': l}} END)[1]"
    )


def distinct_build(value: str, k: int, slot: str = "") -> str:
    """Aggregate: the distinct-count state of a column's values (nulls are not counted)."""
    return _kmv(f"min(DISTINCT {_hash(value)}, {k}){slot}", k)


def _hash(value: str) -> str:
    """A value's 64-bit hash; null for null (DuckDB hashes null to a number)."""
    return f"(CASE WHEN {value} IS NOT NULL THEN hash({value}) END)"


def distinct_build_lists(values: str, k: int, slot: str = "") -> str:
    """Aggregate: the state of every value of a multi-value column's lists (nulls and empty
    strings are not counted)."""
    kept = f"list_filter(list_distinct(flatten(list({values}){slot})), lambda x: x <> '')"
    return _kmv(f"list_sort(list_transform({kept}, lambda x: hash(x)))", k)


def distinct_merge(state: str, k: int, slot: str = "") -> str:
    """Aggregate: the union of stored distinct-count states."""
    threshold = f"min(({state}).t){slot}"
    hashes = (
        f"list_sort(list_distinct(list_filter(flatten(list(({state}).v){slot}), "
        f"lambda h: h < {threshold})))"
    )
    return _kmv(hashes, k, threshold)


def distinct_row(value: str) -> str:
    """One input row's state, before rollup."""
    return (
        f"(CASE WHEN {value} IS NULL THEN {EMPTY_DISTINCT} "
        f"ELSE CAST({{'t': {_ALL}, 'v': [{_hash(value)}]}} AS {DISTINCT_STATE}) END)"
    )


def distinct_estimate(state: str) -> str:
    """A state's estimate as a double: the exact count while nothing was dropped."""
    return (
        f"COALESCE(len(({state}).v) / (CAST(({state}).t AS DOUBLE) / 18446744073709551616.0), 0.0)"
    )


def rounded_estimate(state: str) -> str:
    """The estimate rounded to a long, as HLL's `round` asks (Java's Math.round; estimates are
    never negative, where it and SQL's round differ)."""
    return f"CAST(round({distinct_estimate(state)}) AS BIGINT)"


def set_operation(func: str, states: list[str], k: int) -> str:
    """Druid's thetaSketchSetOp over states: UNION, INTERSECT or NOT (the first minus the rest),
    all at the smallest threshold of the inputs."""
    threshold = f"least({', '.join(f'({s}).t' for s in states)})"
    if func == "UNION":
        values = f"flatten([{', '.join(f'({s}).v' for s in states)}])"
    elif func == "INTERSECT":
        values = f"({states[0]}).v"
        for other in states[1:]:
            values = f"list_intersect({values}, ({other}).v)"
    elif func == "NOT":
        rest = f"flatten([{', '.join(f'({s}).v' for s in states[1:])}])"
        values = f"list_filter(({states[0]}).v, lambda h: NOT list_contains({rest}, h))"
    else:
        raise InvalidInput(f"Unknown thetaSketchSetOp func [{func}]; use UNION, INTERSECT or NOT")
    kept = f"list_sort(list_distinct(list_filter({values}, lambda h: h < {threshold})))"
    return _kmv(kept, k, threshold)


def quantiles_build(value: str, slot: str = "") -> str:
    """Aggregate: every non-null value of a numeric column."""
    return f"list_filter(list({value}){slot}, lambda x: x IS NOT NULL)"


def quantiles_merge(state: str, slot: str = "") -> str:
    return f"flatten(list({state}){slot})"


def quantiles_row(value: str) -> str:
    return f"(CASE WHEN {value} IS NULL THEN {EMPTY_QUANTILES} ELSE [{value}] END)"


def quantiles_count(state: str) -> str:
    """The finalized quantiles sketch: N, the number of values."""
    return f"CAST(COALESCE(len({state}), 0) AS BIGINT)"


def quantile(state: str, fraction: float) -> str:
    """The value at normalized rank `fraction` (DataSketches' inclusive criterion: the smallest
    value whose rank, the share of values at or below it, reaches the fraction); NaN when empty."""
    sorted_values = f"list_sort({state})"
    index = f"greatest(CAST(ceil({fraction!r} * len({state})) AS BIGINT), 1)"
    return (
        f"(CASE WHEN COALESCE(len({state}), 0) = 0 THEN CAST('NaN' AS DOUBLE) "
        f"ELSE {sorted_values}[{index}] END)"
    )


def rank(state: str, value: float) -> str:
    """The share of values at or below `value` (inclusive); NaN when empty."""
    return (
        f"(CASE WHEN COALESCE(len({state}), 0) = 0 THEN CAST('NaN' AS DOUBLE) ELSE "
        f"len(list_filter({state}, lambda x: x <= {value!r})) / len({state}) END)"
    )


def check_fraction(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InvalidInput(f"{where}: a fraction must be a number from 0 to 1, got [{value}]")
    return float(value)
