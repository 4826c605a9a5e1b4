"""`manage.py run_query SLUG [--format json|csv]`: run a saved query and print its result."""

from __future__ import annotations

import csv
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from explorer import services
from explorer.errors import ExplorerError
from explorer.models import SavedQuery


class Command(BaseCommand):
    help = "Run a saved query through Druid (or the cache) and print the result table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the saved query's slug")
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--interval", help="override the interval (e.g. PT6H)")
        parser.add_argument("--refresh", action="store_true", help="bypass the cache")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            saved = SavedQuery.objects.get(slug=options["slug"])
        except SavedQuery.DoesNotExist:
            raise CommandError(f"No saved query with slug {options['slug']!r}") from None
        try:
            result = services.saved_query_run(
                saved_query=saved,
                user=None,
                overrides=services.Overrides(interval=options.get("interval")),
                refresh=options["refresh"],
            )
        except ExplorerError as exc:
            raise CommandError(f"{exc.status_code}: {exc.detail}") from None
        if options["format"] == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow([c["name"] for c in result["columns"]])
            writer.writerows(result["rows"])
        else:
            self.stdout.write(json.dumps(result, indent=2, default=str))
        meta = result["meta"]
        sys.stderr.write(
            f"{len(result['rows'])} rows in {meta['duration_ms']} ms"
            f"{' (cached)' if meta['cached'] else ''}\n"
        )
