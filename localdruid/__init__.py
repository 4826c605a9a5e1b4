"""localdruid: an embedded Apache-Druid-compatible broker and indexer on DuckDB."""

__version__ = "0.1.0"
# The version string Druid tools read from /status; the Druid release whose semantics we follow.
DRUID_COMPAT_VERSION = "34.0.0"
