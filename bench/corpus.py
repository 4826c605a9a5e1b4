"""Run Apache Druid's conformance corpus (../shared/druid-corpus) against a fresh localdruid."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.localdruid.harness import LocalDruid  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "druid-corpus"


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Start localdruid on a scratch data directory and run the corpus runner "
        "(run_cases.py) against it. Arguments after `--` go to the runner, e.g. "
        "`python bench/corpus.py -- --case 'it-*' -v`."
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help=f"corpus directory (default {DEFAULT_CORPUS})",
    )
    parser.add_argument("runner_args", nargs="*", help="extra arguments for run_cases.py")
    args = parser.parse_args()
    runner = args.corpus / "run_cases.py"
    if not runner.is_file():
        print(f"error: no corpus runner at {runner}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="localdruid-corpus-") as scratch:
        # The corpus's specs read their input files from the corpus's data directory; its
        # reindex specs were written for Druid's integration-test cluster, which ignores their
        # timestampSpec when reading a datasource (ignoreTimestampSpecForDruidInputSource).
        server = LocalDruid(
            Path(scratch) / "data",
            None,
            "--ignore-timestamp-spec-for-druid-input-source",
            allow_dirs=[args.corpus],
        ).start()
        try:
            done = subprocess.run(
                [sys.executable, str(runner), server.url, *args.runner_args], check=False
            )
            return done.returncode
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
