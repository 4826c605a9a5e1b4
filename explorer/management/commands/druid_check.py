"""`manage.py druid_check`: can the site reach Druid, which version, which datasources."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from explorer import client
from explorer.errors import ExplorerError


class Command(BaseCommand):
    help = "Check the connection to DRUID_URL: status, version and datasources."

    def handle(self, *args: Any, **options: Any) -> None:
        url = settings.DRUID_URL
        try:
            status = client.druid_get("status")
            names = client.druid_get("druid/v2/datasources")
        except ExplorerError as exc:
            raise CommandError(f"Druid at {url}: {exc.detail}") from None
        self.stdout.write(f"Druid at {url}: reachable, version {status.get('version', '?')}")
        self.stdout.write(f"{len(names)} datasource(s): {', '.join(sorted(names)) or '(none)'}")
