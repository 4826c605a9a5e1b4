"""The sample dataset `make run` loads: Wikipedia-edit-like rows over the last two days."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from localdruid import timeutil

CHANNELS = [
    ("#en.wikipedia", "en", 40),
    ("#de.wikipedia", "de", 12),
    ("#fr.wikipedia", "fr", 10),
    ("#ja.wikipedia", "ja", 8),
    ("#es.wikipedia", "es", 7),
    ("#ru.wikipedia", "ru", 6),
    ("#it.wikipedia", "it", 5),
    ("#zh.wikipedia", "zh", 4),
    ("#pt.wikipedia", "pt", 4),
    ("#nl.wikipedia", "nl", 3),
    ("#pl.wikipedia", "pl", 3),
    ("#sv.wikipedia", "sv", 2),
]
NAMESPACES = [
    ("article", 70),
    ("talk", 10),
    ("user", 8),
    ("wikipedia", 6),
    ("file", 4),
    ("template", 2),
]
COUNTRIES = [
    "United States",
    "Germany",
    "France",
    "Japan",
    "Spain",
    "Russia",
    "Italy",
    "China",
    "Brazil",
    "Netherlands",
    "Poland",
    "Sweden",
    "India",
    "United Kingdom",
    None,
]
PAGES = [
    f"{topic} {n}"
    for topic in ("History of", "List of", "Battle of", "University of", "Geography of")
    for n in ("Rome", "Paris", "Tokyo", "Berlin", "Lagos", "Lima", "Oslo", "Kyiv")
]


def sample_rows(
    count: int = 5000, *, end_ms: int | None = None, seed: int = 7
) -> list[dict[str, Any]]:
    """Deterministic given `end_ms` and `seed`: skewed channels, pages and users over 48 hours."""
    rng = random.Random(seed)
    end = end_ms if end_ms is not None else int(time.time() * 1000)
    start = end - 48 * 3600 * 1000
    users = [f"user{n}" for n in range(400)]
    rows = []
    for _ in range(count):
        channel, language, _ = rng.choices(CHANNELS, weights=[c[2] for c in CHANNELS])[0]
        added = int(rng.paretovariate(1.2) * 20)
        deleted = int(rng.paretovariate(1.5) * 5) if rng.random() < 0.4 else 0
        robot = rng.random() < 0.15
        rows.append(
            {
                "timestamp": timeutil.format_instant(rng.randrange(start, end)),
                "channel": channel,
                "language": language,
                "namespace": rng.choices([n for n, _ in NAMESPACES], [w for _, w in NAMESPACES])[0],
                "page": PAGES[min(int(rng.expovariate(0.12)), len(PAGES) - 1)],
                "user": users[min(int(rng.expovariate(0.02)), len(users) - 1)],
                "isRobot": "true" if robot else "false",
                "isAnonymous": "true" if rng.random() < 0.2 else "false",
                "countryName": rng.choice(COUNTRIES),
                "added": added,
                "deleted": deleted,
                "delta": added - deleted,
            }
        )
    return rows


def sample_task(data_dir: Path) -> dict[str, Any]:
    """Write the sample rows under the data directory and return the index task that loads them."""
    folder = (data_dir / "samples").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "wikipedia-sample.json"
    path.write_text("\n".join(json.dumps(r) for r in sample_rows()) + "\n")
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": "wikipedia",
                "timestampSpec": {"column": "timestamp", "format": "iso"},
                "dimensionsSpec": {
                    "dimensions": [
                        "channel",
                        "language",
                        "namespace",
                        "page",
                        "user",
                        "isRobot",
                        "isAnonymous",
                        "countryName",
                    ]
                },
                "metricsSpec": [
                    {"type": "count", "name": "count"},
                    {"type": "longSum", "name": "added", "fieldName": "added"},
                    {"type": "longSum", "name": "deleted", "fieldName": "deleted"},
                    {"type": "longSum", "name": "delta", "fieldName": "delta"},
                    {"type": "hyperUnique", "name": "user_unique", "fieldName": "user"},
                ],
                "granularitySpec": {
                    "segmentGranularity": "hour",
                    "queryGranularity": "minute",
                    "rollup": True,
                },
            },
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {
                    "type": "local",
                    "baseDir": str(folder),
                    "filter": "wikipedia-sample.json",
                },
                "inputFormat": {"type": "json"},
                "appendToExisting": False,
            },
            "tuningConfig": {"type": "index_parallel"},
        },
    }
