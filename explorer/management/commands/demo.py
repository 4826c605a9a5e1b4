"""`manage.py demo` (what `make run` runs): set up and start the live demo; Ctrl-C stops it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from explorer.demo import DEMO_DASHBOARD, DEMO_QUERIES, demo_seed

LIVE_MARKER = "live:"  # what a generator prints once its history is written and it goes live
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
ACCESS_LOG = re.compile(r'"[A-Z]+ \S+ HTTP/[\d.]+" [23]\d\d ')  # runserver's successful requests


@dataclass
class Child:
    """A process the demo started, with its output relayed under a name."""

    name: str
    proc: subprocess.Popen[str]
    live: threading.Event = field(default_factory=threading.Event)
    # runserver stops cleanly (writing its queued run-log rows) on Ctrl-C, not on SIGTERM.
    stop_signal: int = signal.SIGTERM


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/status/health", timeout=2) as resp:
            return bool(json.loads(resp.read()))
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _localdruid_auth_env() -> dict[str, str]:
    """With DRUID_USERNAME set, the demo's localdruid asks for the same credentials the site
    sends, and the generators send them too."""
    if not settings.DRUID_USERNAME:
        return {}
    return {
        "LOCALDRUID_USERNAME": settings.DRUID_USERNAME,
        "LOCALDRUID_PASSWORD": settings.DRUID_PASSWORD,
    }


def _interrupt(signum: int, frame: Any) -> None:
    # Set explicitly: a shell starting the demo in the background would have SIGINT ignored.
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = (
        "Set up and run the live demo: migrations, a demo user, saved queries and a dashboard; "
        "localdruid with a week of history and live Wikipedia and web-stream generators; and the "
        "site. Reuses what exists on a re-run. Ctrl-C stops every process it started."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="the site's address (default 127.0.0.1:8000)"
        )
        parser.add_argument(
            "--data-dir",
            default=str(settings.BASE_DIR / "var" / "localdruid"),
            help="localdruid's data directory (default var/localdruid)",
        )
        parser.add_argument(
            "--backfill", default="P7D", help="history to write before going live (default P7D)"
        )
        parser.add_argument(
            "--wikipedia-rate", type=float, default=4.0, help="Wikipedia edits/s (default 4)"
        )
        parser.add_argument(
            "--webstream-rate", type=float, default=40.0, help="web events/s (default 40)"
        )
        parser.add_argument(
            "--setup-only",
            action="store_true",
            help="do the set-up (including the history) and exit instead of serving",
        )
        parser.add_argument("--username", default="demo", help="the demo user (default demo)")

    def handle(self, *args: Any, **options: Any) -> None:
        self.children: list[Child] = []
        druid_url = settings.DRUID_URL.rstrip("/")
        local = urlsplit(druid_url).hostname in LOCAL_HOSTS
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _interrupt)
        try:
            self._setup(options)
            if local:
                self._start_druid(druid_url, options["data_dir"])
                self._start_generators(druid_url, options)
            else:
                self.stdout.write(f"DRUID_URL is {druid_url}: using that cluster, no generators.")
            if options["setup_only"]:
                self._wait_for_generators()
                return
            self._start_site(options["addr"])
            self._wait_for_generators()
            self._banner(options["addr"], druid_url)
            self._watch()
        except KeyboardInterrupt:
            self.stdout.write("\nstopping ...")
        finally:
            self._stop_all()

    # -- set-up ----------------------------------------------------------------------------------

    def _setup(self, options: dict[str, Any]) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        seed = demo_seed(username=options["username"])
        self.seed = seed
        self.stdout.write(
            f"site database ready: {seed.queries_created} of {len(DEMO_QUERIES)} demo queries "
            f"created, dashboard {'created' if seed.dashboard_created else 'already there'}"
        )

    def _spawn(self, name: str, cmd: list[str], stop_signal: int = signal.SIGTERM) -> Child:
        proc = subprocess.Popen(
            cmd,
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **_localdruid_auth_env()},
            start_new_session=True,  # Ctrl-C reaches only this command, which stops them in order
        )
        child = Child(name, proc, stop_signal=stop_signal)
        threading.Thread(target=self._relay, args=(child,), daemon=True).start()
        self.children.append(child)
        return child

    def _relay(self, child: Child) -> None:
        stream: IO[str] | None = child.proc.stdout
        assert stream is not None
        for line in stream:
            text = line.rstrip()
            if text.startswith(LIVE_MARKER):
                child.live.set()
            if text and not ACCESS_LOG.search(text):
                self.stdout.write(f"[{child.name}] {text}")

    def _start_druid(self, url: str, data_dir: str) -> None:
        if _healthy(url):
            self.stdout.write(f"localdruid already answers at {url}; using it")
            return
        port = urlsplit(url).port or 8082
        child = self._spawn(
            "localdruid",
            [
                sys.executable,
                "-m",
                "localdruid",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                data_dir,
            ],
        )
        deadline = time.monotonic() + 60
        while not _healthy(url):
            if child.proc.poll() is not None or time.monotonic() > deadline:
                raise CommandError(f"localdruid did not start on {url}; see its output above")
            time.sleep(0.1)

    def _start_generators(self, url: str, options: dict[str, Any]) -> None:
        for kind, rate, history_rate in (
            ("wikipedia", options["wikipedia_rate"], options["wikipedia_rate"]),
            ("webstream", options["webstream_rate"], 1.0),
        ):
            cmd = [sys.executable, "-m", "localdruid", "generate", kind, "--url", url]
            cmd += ["--rate", str(rate), "--backfill-rate", str(history_rate)]
            if options["backfill"]:
                cmd += ["--backfill", options["backfill"]]
            if options["setup_only"]:
                cmd += ["--duration", "0"]
            self._spawn(kind, cmd)

    def _wait_for_generators(self) -> None:
        for child in self.children:
            if child.name not in ("wikipedia", "webstream"):
                continue
            while not child.live.wait(0.2):
                if child.proc.poll() is not None:
                    if child.proc.returncode != 0:
                        raise CommandError(f"the {child.name} generator failed; see above")
                    break

    def _start_site(self, addr: str) -> None:
        child = self._spawn(
            "site",
            [sys.executable, "manage.py", "runserver", addr, "--noreload", "--skip-checks"],
            stop_signal=signal.SIGINT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://{addr}/accounts/login/", timeout=2).close()
                return
            except (urllib.error.URLError, OSError):
                if child.proc.poll() is not None or time.monotonic() > deadline:
                    raise CommandError(f"the site did not start on {addr}; see above") from None
                time.sleep(0.2)

    # -- running ---------------------------------------------------------------------------------

    def _banner(self, addr: str, druid_url: str) -> None:
        site = f"http://{addr}"
        login = (
            f"log in as {self.seed.username} / {self.seed.password}   (printed once: note it)"
            if self.seed.password
            else f"log in as {self.seed.username} (password printed at the first run; "
            f"`python manage.py changepassword {self.seed.username}` sets a new one)"
        )
        lines = [
            "",
            "Druid Explorer is running.",
            f"  open      {site}/",
            f"  {login}",
            f"  dashboard {site}/dashboards/{DEMO_DASHBOARD['slug']}/",
            f"  live      {site}/charts/web-stream-events-per-second/",
            f"  admin     {site}/admin/   API {site}/api/docs/",
            f"  Druid API {druid_url}/druid/v2/  (localdruid; any Druid client works)",
            "Ctrl-C stops everything.",
            "",
        ]
        self.stdout.write("\n".join(lines))

    def _watch(self) -> None:
        while True:
            for child in self.children:
                code = child.proc.poll()
                if code is not None and not (
                    child.name in ("wikipedia", "webstream") and code == 0
                ):
                    raise CommandError(f"{child.name} exited with code {code}; stopping the demo")
            time.sleep(0.5)

    def _stop_all(self) -> None:
        # In reverse order of start: the site and the generators, then localdruid they use.
        for child in reversed(self.children):
            if child.proc.poll() is None:
                child.proc.send_signal(child.stop_signal)  # each of them then shuts down cleanly
                try:
                    child.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.proc.kill()
                    child.proc.wait()
        if self.children:
            self.stdout.write("stopped: " + ", ".join(c.name for c in reversed(self.children)))
