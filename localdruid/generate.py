"""Demo data source: synthetic wikipedia-edit and web-request events, pushed live or backfilled."""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import signal
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from localdruid import auth, timeutil
from localdruid.cli import error_text, request

HOUR = timeutil.HOUR
DAY = timeutil.DAY
PEAK_HOUR_UTC = 15  # afternoon in Europe, morning in the Americas: the busiest hour worldwide
SWING = 0.5  # the rate goes from (1 - SWING) at night to (1 + SWING) at the peak
TICK_SECONDS = 0.2
MAX_TASK_EVENTS = 300_000  # keeps an inline task body to some tens of megabytes
MAX_TASK_HOURS = 24
MAX_PENDING_EVENTS = 100_000  # kept for retry while the server is away; older ones are dropped
_HEADROOM = 1.6  # an hour at the daily peak holds 1.5x the mean rate, plus Poisson noise


# ------------------------------------------------------------------------------------------------
# The daily rhythm


def rhythm(ms: int) -> float:
    """How busy the world is at this instant, as a factor of the mean rate (mean 1 over a day)."""
    day_fraction = (ms % DAY) / DAY
    return 1.0 + SWING * math.cos(2 * math.pi * (day_fraction - PEAK_HOUR_UTC / 24))


def expected_events(start_ms: int, end_ms: int, rate: float) -> float:
    """The mean number of events in [start, end): `rate` times the rhythm's integral, in seconds."""
    phase = 2 * math.pi * PEAK_HOUR_UTC / 24

    def antiderivative(ms: int) -> float:
        return ms + SWING * DAY / (2 * math.pi) * math.sin(2 * math.pi * (ms % DAY) / DAY - phase)

    return rate * (antiderivative(end_ms) - antiderivative(start_ms)) / 1000


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:  # the normal approximation is good here and costs one draw
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def sample_timestamps(rng: random.Random, start_ms: int, end_ms: int, rate: float) -> list[int]:
    """Event times in [start, end) at `rate` events/s on average, following the daily rhythm."""
    if end_ms <= start_ms or rate <= 0:
        return []
    minute = timeutil.MINUTE
    edges = [start_ms, *range((start_ms // minute + 1) * minute, end_ms, minute), end_ms]
    spans = list(itertools.pairwise(edges))
    weights = [expected_events(lo, hi, 1.0) for lo, hi in spans]
    count = _poisson(rng, rate * sum(weights))
    cum = list(itertools.accumulate(weights))
    random_ = rng.random
    chosen = rng.choices(spans, cum_weights=cum, k=count)
    return sorted(lo + int(random_() * (hi - lo)) for lo, hi in chosen)


def live_timestamps(rng: random.Random, start_ms: int, end_ms: int, rate: float) -> list[int]:
    """The events due in a short live slice [start, end): a Poisson count spread over the slice."""
    if end_ms <= start_ms:
        return []
    count = _poisson(rng, rate * rhythm(end_ms) * (end_ms - start_ms) / 1000)
    return sorted(start_ms + int(rng.random() * (end_ms - start_ms)) for _ in range(count))


def iso_times(timestamps: Sequence[int]) -> list[str]:
    """ISO-8601 UTC strings with milliseconds, formatting each minute once."""
    prefixes: dict[int, str] = {}
    out = []
    for ms in timestamps:
        minute, rest = divmod(ms, timeutil.MINUTE)
        prefix = prefixes.get(minute)
        if prefix is None:
            prefix = prefixes[minute] = timeutil.format_instant(minute * timeutil.MINUTE)[:17]
        out.append(f"{prefix}{rest // 1000:02d}.{rest % 1000:03d}Z")
    return out


# ------------------------------------------------------------------------------------------------
# Vocabularies: fixed word lists, popularity by rank (Zipf)


def _zipf(n: int, s: float = 1.0) -> list[float]:
    """Cumulative weights of ranks 1..n with weight 1/rank^s, for `random.choices`."""
    return list(itertools.accumulate(1 / rank**s for rank in range(1, n + 1)))


def _cum(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


# Wikipedia editions by size of their edit stream; the language's home countries for IP edits.
LANGUAGES = [
    ("en", ["United States", "United Kingdom", "India", "Canada", "Australia"]),
    ("de", ["Germany", "Austria", "Switzerland"]),
    ("fr", ["France", "Belgium", "Canada", "Switzerland"]),
    ("ja", ["Japan"]),
    ("es", ["Spain", "Mexico", "Argentina", "Colombia", "Chile"]),
    ("ru", ["Russia", "Ukraine"]),
    ("it", ["Italy", "Switzerland"]),
    ("zh", ["China", "Taiwan", "Malaysia"]),
    ("pt", ["Brazil", "Portugal"]),
    ("pl", ["Poland"]),
    ("nl", ["Netherlands", "Belgium"]),
    ("uk", ["Ukraine"]),
    ("ar", ["Egypt", "Saudi Arabia"]),
    ("sv", ["Sweden", "Finland"]),
    ("fa", ["Iran"]),
    ("ko", ["South Korea"]),
    ("vi", ["Vietnam"]),
    ("he", ["Israel"]),
]
NAMESPACES = [
    ("article", 65),
    ("talk", 9),
    ("user", 8),
    ("wikipedia", 7),
    ("file", 5),
    ("template", 3),
    ("category", 3),
]
_PAGE_PREFIX = {
    "talk": "Talk:",
    "wikipedia": "Wikipedia:Articles for deletion/",
    "file": "File:",
    "template": "Template:",
    "category": "Category:",
}
COUNTRIES = [
    "United States", "United Kingdom", "India", "Germany", "Canada", "France", "Australia",
    "Japan", "Brazil", "Russia", "Italy", "Spain", "Philippines", "Mexico", "Netherlands",
    "Poland", "Indonesia", "Ukraine", "South Korea", "Sweden", "Turkey", "Iran", "Argentina",
    "Pakistan", "Nigeria", "China", "Taiwan", "Vietnam", "Israel", "South Africa", "Egypt",
    "Saudi Arabia", "Switzerland", "Austria", "Belgium", "Norway", "Finland", "Ireland",
    "Portugal", "Colombia", "Chile", "Malaysia", "Czech Republic", "New Zealand",
]  # fmt: skip
_PLACES = [
    "Paris", "London", "Tokyo", "Berlin", "Rome", "Madrid", "Moscow", "Beijing", "Mumbai",
    "Cairo", "Lagos", "Lima", "Oslo", "Kyiv", "Vienna", "Prague", "Warsaw", "Stockholm",
    "Istanbul", "Seoul", "Bangkok", "Jakarta", "Manila", "Sydney", "Toronto", "Chicago", "Boston",
    "Texas", "California", "Bavaria", "Scotland", "Wales", "Ontario", "Quebec", "Kerala",
    "Sicily", "Crete", "Iceland", "Nepal", "Lisbon", "Dublin", "Athens", "Budapest", "Helsinki",
    "Nairobi", "Santiago", "Havana", "Osaka", "Hamburg", "Milan", "Naples", "Kraków", "Seville",
    "Porto", "Geneva", "Kyoto", "Shanghai", "Delhi", "Karachi", "Tehran",
]  # fmt: skip
_PLACE_TOPICS = [
    "History of {}", "Geography of {}", "Economy of {}", "Culture of {}", "Demographics of {}",
    "List of people from {}", "{} International Airport", "University of {}", "Battle of {}",
    "{} Metro", "Siege of {}", "Flag of {}", "{} Cathedral", "Politics of {}",
]  # fmt: skip
_FIRST = [
    "John", "Mary", "James", "Anna", "Robert", "Maria", "Michael", "Elena", "William", "Sofia",
    "David", "Laura", "Richard", "Julia", "Thomas", "Emma", "Charles", "Olga", "Daniel", "Yuki",
    "Paul", "Ingrid", "Mark", "Fatima", "George", "Chloe", "Kenji", "Lucia", "Ahmed", "Hannah",
    "Pierre", "Greta", "Carlos", "Aiko", "Ivan", "Nadia", "Peter", "Rosa", "Hans", "Leila",
]  # fmt: skip
_LAST = [
    "Smith", "Müller", "García", "Rossi", "Tanaka", "Ivanov", "Dubois", "Kowalski", "Silva",
    "Jensen", "Novak", "Kim", "Nguyen", "Cohen", "Haddad", "Brown", "Wilson", "Moreau", "Fischer",
    "Romano", "Sato", "Petrov", "Lindqvist", "Costa", "Andersen", "Horvat", "Park", "Tran",
    "Levi", "Khalil", "Taylor", "Martin", "Weber", "Ricci", "Suzuki", "Popov", "Nielsen",
    "Santos", "Berg", "Walsh",
]  # fmt: skip
_ROLES = ["", "", "", " (footballer)", " (politician)", " (musician)", " (actor)", " (writer)"]
_FIELDS = [
    "film", "music", "science", "sports", "aviation", "video games", "television", "literature",
]  # fmt: skip
_POPULAR = [
    "Deaths in 2024", "2024 United States presidential election", "Taylor Swift", "ChatGPT",
    "Cristiano Ronaldo", "World War II", "United States", "COVID-19 pandemic", "Climate change",
    "Artificial intelligence", "Python (programming language)", "Black hole", "Photosynthesis",
    "Quantum mechanics", "The Beatles", "Albert Einstein", "Barack Obama", "Elizabeth II",
    "Oppenheimer (film)", "Premier League", "FIFA World Cup", "Olympic Games", "Bitcoin",
    "Roman Empire", "Ancient Egypt", "Solar System", "Moon", "DNA", "Internet", "Wikipedia",
    "Leonardo da Vinci", "Napoleon", "Shakespeare", "Mount Everest", "Amazon River",
    "French Revolution", "Cold War", "Industrial Revolution", "Renaissance", "Periodic table",
]  # fmt: skip
_ADJECTIVES = [
    "Blue", "Quiet", "Clever", "Brave", "Lucky", "Rusty", "Silent", "Happy", "Curious", "Dark",
    "Wild", "Gentle", "Swift", "Old", "Little", "Grand", "Red", "Green", "Cosmic", "Northern",
]  # fmt: skip
_NOUNS = [
    "Fox", "Owl", "River", "Stone", "Wolf", "Falcon", "Editor", "Scholar", "Reader", "Pilot",
    "Tiger", "Maple", "Comet", "Harbor", "Badger", "Heron", "Atlas", "Quill", "Lantern", "Otter",
]  # fmt: skip
_BOTS = [
    "InternetArchiveBot", "ClueBot NG", "Citation bot", "AnomieBOT", "Cewbot", "JJMC89 bot",
    "Xqbot", "EmausBot", "Addbot", "Legobot", "Cydebot", "SieBot", "Rubinbot", "KLBot2",
    "Luckas-bot", "MerlIwBot", "ZéroBot", "BOTijo", "Dexbot", "Lsjbot", "Yobot", "Monkbot",
    "GreenC bot", "DatBot", "Qwerfjkl (bot)", "FrescoBot", "WOSlinkerBot", "HBC AIV helperbot5",
    "Mdann52 bot", "BattyBot", "RMCD bot", "SporkBot", "PrimeBOT", "Ladsgroup bot",
    "Lowercase sigmabot III",
]  # fmt: skip


@cache
def _pages() -> list[str]:
    """About three thousand article titles, most viewed first."""
    rng = random.Random(20_240_101)
    titles = [t.format(p) for t in _PLACE_TOPICS for p in _PLACES]
    titles += [f"{f} {last}{rng.choice(_ROLES)}" for f in _FIRST for last in _LAST]
    titles += [f"{year} in {field}" for year in range(1990, 2026) for field in _FIELDS]
    titles += [f"{year} Summer Olympics" for year in range(1896, 2025, 4)]
    rng.shuffle(titles)
    return _POPULAR + titles


@cache
def _registered_users() -> list[str]:
    rng = random.Random(42)
    names: dict[str, None] = {}
    while len(names) < 30_000:
        style = rng.random()
        if style < 0.4:
            name = f"{rng.choice(_ADJECTIVES)}{rng.choice(_NOUNS)}{rng.randrange(1, 1000)}"
        elif style < 0.75:
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            if name in names:
                name += f" {rng.randrange(2, 99)}"
        else:
            name = f"{rng.choice(_FIRST)}_{rng.choice(_NOUNS).lower()}{rng.randrange(10, 100)}"
        names[name] = None
    return list(names)


@cache
def _ip_users() -> list[str]:
    """Anonymous editors are shown by IP address, as Wikipedia does; a fifth of them IPv6."""
    rng = random.Random(7)
    ips: dict[str, None] = {}
    while len(ips) < 20_000:
        if rng.random() < 0.2:
            groups = [f"{rng.randrange(0x10000):x}" for _ in range(6)]
            ip = f"2{rng.choice('0a6')}{rng.randrange(256):02x}:" + ":".join(groups)
        else:
            first = rng.choice([24, 31, 37, 46, 62, 66, 73, 77, 81, 86, 91, 98, 101, 112, 176])
            ip = f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        ips[ip] = None
    return list(ips)


_PATH_TOPICS = [
    "getting-started", "pricing", "release-notes", "how-we-scaled", "year-in-review",
    "security", "performance-tips", "roadmap", "case-study-acme", "migration-guide",
    "best-practices", "faq", "announcing-v2", "hiring", "architecture", "benchmarks",
    "tutorial-dashboards", "tutorial-alerts", "team-offsite", "open-source",
]  # fmt: skip
_PRODUCTS = [
    f"{adj.lower()}-{noun.lower()}"
    for adj in ("Classic", "Pro", "Mini", "Ultra", "Eco", "Smart")
    for noun in ("Lamp", "Chair", "Desk", "Kettle", "Backpack", "Headphones", "Watch", "Mug",
                 "Jacket", "Speaker", "Camera", "Bottle", "Keyboard", "Monitor", "Sneakers",
                 "Blender", "Tent", "Router", "Charger", "Notebook")
]  # fmt: skip
_CATEGORIES = [
    "home", "office", "kitchen", "outdoor", "audio", "computers", "fashion", "sports", "travel",
    "gifts", "sale", "new",
]  # fmt: skip
_DOC_SECTIONS = ["api", "guides", "reference", "admin", "sdk"]
_DOC_PAGES = [
    "overview", "authentication", "quickstart", "errors", "pagination", "webhooks", "limits",
    "configuration", "deployment", "monitoring",
]  # fmt: skip


@cache
def _urls() -> list[str]:
    """A few hundred paths of a shop with a blog and docs, most requested first."""
    head = [
        "/",
        "/search",
        "/cart",
        "/login",
        "/static/js/app.3f9c2e1.js",
        "/static/css/main.8a41d0b.css",
        "/favicon.ico",
        "/api/v1/cart",
        "/checkout",
        "/api/v1/recommendations",
        "/blog",
        "/docs",
        "/account",
        "/api/v1/session",
    ]
    rest = [f"/products/{p}" for p in _PRODUCTS]
    rest += [f"/category/{c}" for c in _CATEGORIES]
    rest += [f"/blog/{t}" for t in _PATH_TOPICS]
    rest += [f"/docs/{s}/{p}" for s in _DOC_SECTIONS for p in _DOC_PAGES]
    rest += [f"/images/products/{p}.webp" for p in _PRODUCTS[::2]]
    rest += [f"/api/v1/products/{n}" for n in range(1001, 1041)]
    rest += ["/robots.txt", "/sitemap.xml", "/about", "/contact", "/careers", "/privacy", "/terms"]
    random.Random(3).shuffle(rest)
    return head + rest


REFERRERS = [
    "-", "https://www.google.com/", "https://www.bing.com/", "https://t.co/",
    "https://duckduckgo.com/", "https://www.facebook.com/", "https://www.reddit.com/",
    "https://news.ycombinator.com/", "https://www.linkedin.com/", "https://search.yahoo.com/",
    "https://www.youtube.com/", "https://yandex.ru/", "https://www.baidu.com/",
    "https://www.instagram.com/", "https://stackoverflow.com/", "https://www.ecosia.org/",
]  # fmt: skip
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "curl/8.5.0",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
]
METHODS = [("GET", 88), ("POST", 9), ("HEAD", 2), ("PUT", 1)]
STATUS_CODES = [
    ("200", 86),
    ("304", 6),
    ("404", 4),
    ("301", 2),
    ("302", 1),
    ("500", 0.7),
    ("503", 0.3),
]


# ------------------------------------------------------------------------------------------------
# Event builders: one bulk draw per column, so a hundred thousand events take a fraction of a second


@cache
def _wikipedia_tables() -> dict[str, Any]:
    # Who edits: robots 15%; of the people, a fifth anonymous (shown by IP address).
    editors = [(name, "true", "false") for name in _BOTS]
    editors += [(name, "false", "false") for name in _registered_users()]
    editors += [(ip, "false", "true") for ip in _ip_users()]
    editor_cum = _scaled_zipf([(len(_BOTS), 1.2, 15), (len(_registered_users()), 0.8, 66.3),
                               (len(_ip_users()), 0.7, 18.7)])  # fmt: skip
    return {
        "languages": [(f"#{code}.wikipedia", code, homes) for code, homes in LANGUAGES],
        "language_cum": _zipf(len(LANGUAGES), 1.1),
        "namespaces": [name for name, _ in NAMESPACES],
        "namespace_cum": _cum([weight for _, weight in NAMESPACES]),
        "pages": _pages(),
        "page_cum": _zipf(len(_pages()), 0.9),
        "editors": editors,
        "editor_cum": editor_cum,
        "country_cum": _zipf(len(COUNTRIES), 1.1),
    }


def _scaled_zipf(parts: list[tuple[int, float, float]]) -> list[float]:
    """Cumulative weights over consecutive groups: (size, Zipf exponent, share of the total)."""
    weights: list[float] = []
    for size, exponent, share in parts:
        ranks = [1 / rank**exponent for rank in range(1, size + 1)]
        total = sum(ranks)
        weights += [share * w / total for w in ranks]
    return _cum(weights)


def _wikipedia_events(rng: random.Random, times: list[str]) -> list[dict[str, Any]]:
    t = _wikipedia_tables()
    n = len(times)
    choices, random_ = rng.choices, rng.random
    languages = choices(t["languages"], cum_weights=t["language_cum"], k=n)
    namespaces = choices(t["namespaces"], cum_weights=t["namespace_cum"], k=n)
    titles = choices(t["pages"], cum_weights=t["page_cum"], k=n)
    editors = choices(t["editors"], cum_weights=t["editor_cum"], k=n)
    country_cum = t["country_cum"]
    events = []
    for ts, (channel, code, homes), ns, title, (user, robot, anonymous) in zip(
        times, languages, namespaces, titles, editors, strict=True
    ):
        country = None
        if anonymous == "true":  # only IP edits are geolocated; most come from a home country
            if random_() < 0.6:
                country = homes[int(random_() * len(homes))]
            else:
                country = choices(COUNTRIES, cum_weights=country_cum)[0]
        if ns == "article":
            page = title
        elif ns == "user":
            page = "User:" + user
        else:
            page = _PAGE_PREFIX[ns] + title
        # Pareto tails: most edits change a few words, a few add whole sections.
        added = min(250_000, int(30 * ((1.0 - random_()) ** (-1 / 1.2) - 1)))
        deleted = 0
        if random_() < 0.28:
            deleted = min(100_000, int(20 * ((1.0 - random_()) ** (-1 / 1.3) - 1)))
        events.append(
            {
                "timestamp": ts,
                "channel": channel,
                "language": code,
                "namespace": ns,
                "page": page,
                "user": user,
                "isRobot": robot,
                "isAnonymous": anonymous,
                "countryName": country,
                "added": added,
                "deleted": deleted,
                "delta": added - deleted,
            }
        )
    return events


@cache
def _webstream_tables() -> dict[str, Any]:
    return {
        "urls": _urls(),
        "url_cum": _zipf(len(_urls()), 1.1),
        "referrer_cum": _zipf(len(REFERRERS), 1.3),
        "agent_cum": _zipf(len(USER_AGENTS), 1.0),
        "country_cum": _zipf(len(COUNTRIES), 1.2),
        "methods": [m for m, _ in METHODS],
        "method_cum": _cum([w for _, w in METHODS]),
        "statuses": [s for s, _ in STATUS_CODES],
        "status_cum": _cum([w for _, w in STATUS_CODES]),
    }


def _webstream_events(rng: random.Random, times: list[str]) -> list[dict[str, Any]]:
    t = _webstream_tables()
    n = len(times)
    choices, lognormal = rng.choices, rng.lognormvariate
    urls = choices(t["urls"], cum_weights=t["url_cum"], k=n)
    referrers = choices(REFERRERS, cum_weights=t["referrer_cum"], k=n)
    agents = choices(USER_AGENTS, cum_weights=t["agent_cum"], k=n)
    countries = choices(COUNTRIES, cum_weights=t["country_cum"], k=n)
    methods = choices(t["methods"], cum_weights=t["method_cum"], k=n)
    statuses = choices(t["statuses"], cum_weights=t["status_cum"], k=n)
    mu_latency, mu_bytes = math.log(45), math.log(12_000)  # medians: 45 ms, 12 kB
    events = []
    for ts, url, ref, agent, country, method, status in zip(
        times, urls, referrers, agents, countries, methods, statuses, strict=True
    ):
        latency = lognormal(mu_latency, 0.9)
        if status[0] == "5":
            latency *= 8  # failures mostly are timeouts
        events.append(
            {
                "timestamp": ts,
                "url": url,
                "referrer": ref,
                "userAgent": agent,
                "country": country,
                "method": method,
                "statusCode": status,
                "latency": int(latency * 10) / 10,
                "bytes": int(lognormal(mu_bytes, 1.3))
                if status == "200"
                else int(lognormal(5.5, 0.4)),
            }
        )
    return events


# ------------------------------------------------------------------------------------------------
# The two streams: schema, events, default rate


def _count(name: str) -> dict[str, Any]:
    return {"type": "count", "name": name}


def _agg(kind: str, name: str, field: str | None = None) -> dict[str, Any]:
    return {"type": kind, "name": name, "fieldName": field or name}


@dataclass(frozen=True)
class Stream:
    """One kind of synthetic stream."""

    default_rate: float
    dimensions: list[str]
    metrics: list[dict[str, Any]]
    query_granularity: str
    build: Callable[[random.Random, list[str]], list[dict[str, Any]]]


STREAMS: dict[str, Stream] = {
    "wikipedia": Stream(
        default_rate=10,
        dimensions=["channel", "language", "namespace", "page", "user", "isRobot",
                    "isAnonymous", "countryName"],
        metrics=[_count("count"), _agg("longSum", "added"), _agg("longSum", "deleted"),
                 _agg("longSum", "delta"), _agg("hyperUnique", "user_unique", "user")],
        query_granularity="minute",
        build=_wikipedia_events,
    ),
    "webstream": Stream(
        default_rate=25,
        dimensions=["url", "referrer", "userAgent", "country", "method", "statusCode"],
        metrics=[_count("rows"), _agg("longSum", "bytes"), _agg("doubleSum", "latency"),
                 _agg("doubleMax", "latency_max", "latency")],
        query_granularity="second",
        build=_webstream_events,
    ),
}  # fmt: skip


def generate_events(
    kind: str, rng: random.Random, timestamps: Sequence[int]
) -> list[dict[str, Any]]:
    """Events of this kind at these times (epoch ms); the same seed gives the same events."""
    return STREAMS[kind].build(rng, iso_times(timestamps))


def data_schema(kind: str, *, datasource: str | None = None) -> dict[str, Any]:
    """The dataSchema shared by the stream's supervisor and its backfill tasks."""
    stream = STREAMS[kind]
    return {
        "dataSource": datasource or kind,
        "timestampSpec": {"column": "timestamp", "format": "iso"},
        "dimensionsSpec": {"dimensions": list(stream.dimensions)},
        "metricsSpec": [dict(m) for m in stream.metrics],
        "granularitySpec": {
            "segmentGranularity": "hour",
            "queryGranularity": stream.query_granularity,
            "rollup": True,
        },
    }


def supervisor_spec(kind: str, *, datasource: str | None = None) -> dict[str, Any]:
    """The localdruid supervisor that declares the stream (POST /druid/indexer/v1/supervisor)."""
    return {
        "type": "localdruid",
        "spec": {
            "dataSchema": data_schema(kind, datasource=datasource),
            "ioConfig": {
                "lateMessageRejectionPeriod": "PT1H",
                "earlyMessageRejectionPeriod": "PT10M",
            },
        },
    }


def backfill_task(
    kind: str,
    data: str,
    interval: tuple[int, int],
    *,
    datasource: str | None = None,
    append: bool = False,
) -> dict[str, Any]:
    """A native batch task loading newline-delimited events into `interval` (epoch ms).

    Without `append` it replaces the hour chunks it writes, so a re-run repairs a partial load.
    """
    schema = data_schema(kind, datasource=datasource)
    schema["granularitySpec"]["intervals"] = [timeutil.format_interval(*interval)]
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": schema,
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {"type": "inline", "data": data},
                "inputFormat": {"type": "json"},
                "appendToExisting": append,
            },
            "tuningConfig": {"type": "index_parallel"},
        },
    }


# ------------------------------------------------------------------------------------------------
# Backfill planning


def backfill_window(
    now_ms: int, period: timeutil.Period, existing_min_ms: int | None
) -> tuple[int, int] | None:
    """The history still to write: [now - period, end), ending where existing data begins.

    With data already there, the end is floored to its hour chunk, so that no chunk holding
    data is ever replaced; None when there is nothing left to write.
    """
    start = timeutil.add_period(now_ms, period, times=-1)
    end = now_ms
    if existing_min_ms is not None:
        end = min(existing_min_ms, now_ms) // HOUR * HOUR
    return (start, end) if start < end else None


def backfill_slices(start_ms: int, end_ms: int, rate: float) -> list[tuple[int, int, bool]]:
    """Task ranges (start, end, append), newest first, of at most a day or MAX_TASK_EVENTS each.

    Newest first: if a backfill stops halfway, the data written begins at a chunk boundary and a
    re-run fills exactly the older part. An hour too busy for one task is split into pieces; its
    newest piece replaces the chunk and the others append to it.
    """
    peak_hour_events = max(rate, 1e-9) * 3600 * _HEADROOM
    hours = max(1, min(MAX_TASK_HOURS, int(MAX_TASK_EVENTS // peak_hour_events)))
    pieces = max(1, math.ceil(peak_hour_events / MAX_TASK_EVENTS))
    edges = [start_ms, *range(start_ms // HOUR * HOUR + HOUR, end_ms, HOUR), end_ms][::-1]
    slices = []
    for i in range(0, len(edges) - 1, hours):
        high, low = edges[i], edges[min(i + hours, len(edges) - 1)]
        cuts = [high - (high - low) * k // pieces for k in range(pieces + 1)]
        slices += [(lo, hi, k > 0) for k, (hi, lo) in enumerate(itertools.pairwise(cuts))]
    return slices


# ------------------------------------------------------------------------------------------------
# Talking to the server


def supervisor_ensure(url: str, kind: str, *, datasource: str | None = None) -> str:
    """Declare the stream; re-posting the same spec is harmless and keeps its counts."""
    body = json.dumps(supervisor_spec(kind, datasource=datasource)).encode()
    return str(request(f"{url}/druid/indexer/v1/supervisor", body, timeout=10)["id"])


def datasource_min_time(url: str, datasource: str) -> int | None:
    """The datasource's earliest event time (epoch ms), or None when it holds no data."""
    body = json.dumps({"queryType": "timeBoundary", "dataSource": datasource, "bound": "minTime"})
    result = request(f"{url}/druid/v2/", body.encode())
    if not result:
        return None
    return timeutil.parse_instant(result[0]["result"]["minTime"])


def task_submit(url: str, task: dict[str, Any]) -> str:
    """Queue an ingestion task; the server runs its tasks one at a time, in order."""
    return str(
        request(f"{url}/druid/indexer/v1/task", json.dumps(task).encode(), timeout=120)["task"]
    )


def task_wait(url: str, task_id: str) -> dict[str, Any]:
    """Poll a task until it ends; returns its final status document."""
    while True:
        doc = request(f"{url}/druid/indexer/v1/task/{urllib.parse.quote(task_id)}/status")
        if doc["status"]["status"] != "RUNNING":
            return dict(doc)
        time.sleep(0.1)


def events_push(url: str, datasource: str, events: list[dict[str, Any]]) -> dict[str, int]:
    """Send events as newline-delimited JSON; returns the server's row counts once committed."""
    data = "\n".join(map(json.dumps, events)).encode()
    return dict(request(f"{url}/localdruid/v1/push/{urllib.parse.quote(datasource)}", data, 10))


# ------------------------------------------------------------------------------------------------
# The command


class _Stop:
    """The first Ctrl-C or SIGTERM asks the loops to finish cleanly; a second Ctrl-C interrupts."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._saved: dict[int, Any] = {}

    def __enter__(self) -> _Stop:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._saved[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.event.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, flush=True)


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr, flush=True)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _backfill(
    args: argparse.Namespace, rng: random.Random, stop: threading.Event
) -> tuple[int, int | None]:
    """Write the missing history; returns an exit code, and where live events should start
    to continue it without a gap (None: from now)."""
    from tqdm import tqdm

    period = timeutil.parse_period(args.backfill)
    rate = args.backfill_rate if args.backfill_rate is not None else args.rate
    now = _now_ms()
    window = backfill_window(now, period, datasource_min_time(args.url, args.datasource))
    if window is None:
        _say(args, f"history of {args.datasource!r} for {period} is already there; no backfill")
        return 0, None
    slices = backfill_slices(*window, rate)
    _say(
        args,
        f"backfilling {args.datasource!r} over {timeutil.format_interval(*window)} "
        f"at {rate:g} events/s on average, in {len(slices)} task(s)",
    )
    expected = sum(expected_events(low, high, rate) for low, high, _ in slices)
    bar = tqdm(total=round(expected), unit=" events", unit_scale=True, disable=args.quiet,
               desc="backfill")  # fmt: skip
    waiting: tuple[str, int] | None = None  # (task id, events) submitted, not yet done
    loaded = 0
    with bar:
        # Each task is generated while the server loads the one before: the two overlap.
        for task, count in _backfill_tasks(args, rng, slices, rate, stop):
            if waiting is not None:
                if not _task_succeeded(args.url, *waiting, bar):
                    return 1, None
                waiting, loaded = None, loaded + 1
            if stop.is_set():
                break
            waiting = (task_submit(args.url, task), count)
            del task  # the server has it; hold one task body in memory, not two
        if waiting is not None:
            if not _task_succeeded(args.url, *waiting, bar):
                return 1, None
            loaded += 1
        if loaded == len(slices):
            bar.total = bar.n  # the Poisson draw is a little off the mean
    if loaded < len(slices):
        _say(args, "backfill interrupted: the newest history is in, a re-run adds the rest")
    return 0, window[1] if window[1] == now else None


def _backfill_tasks(
    args: argparse.Namespace,
    rng: random.Random,
    slices: list[tuple[int, int, bool]],
    rate: float,
    stop: threading.Event,
) -> Iterator[tuple[dict[str, Any], int]]:
    for low, high, append in slices:
        if stop.is_set():
            return
        times = sample_timestamps(rng, low, high, rate)
        # Serialized in blocks: only the JSON text of a whole task is held, not its dicts.
        data = "\n".join(
            "\n".join(map(json.dumps, generate_events(args.kind, rng, times[i : i + 20_000])))
            for i in range(0, len(times), 20_000)
        )
        task = backfill_task(
            args.kind, data, (low, high), datasource=args.datasource, append=append
        )
        yield task, len(times)


def _task_succeeded(url: str, task_id: str, count: int, bar: Any) -> bool:
    status = task_wait(url, task_id)["status"]
    if status["status"] != "SUCCESS":
        print(f"error: backfill task {task_id} failed: {status.get('errorMsg')}", file=sys.stderr)
        return False
    bar.update(count)
    return True


def _live(
    args: argparse.Namespace, rng: random.Random, stop: threading.Event, since_ms: int | None
) -> int:
    """Push the events due every tick until stopped; `since_ms` continues a fresh backfill."""
    url, kind = args.url, args.kind
    stream: str | None = None  # the supervisor's id, once declared
    totals = dict.fromkeys(("sent", "processed", "thrownAway", "dropped"), 0)
    pending: list[dict[str, Any]] = []
    failures = 0
    began = time.monotonic()
    deadline = None if args.duration is None else began + args.duration
    last = _now_ms() if since_ms is None else since_ms
    _say(
        args,
        f"live: streaming {kind} events at {args.rate:g}/s "
        f"(x{1 - SWING:g}-{1 + SWING:g} over the day) to {url}, datasource {args.datasource!r}; "
        "Ctrl-C stops",
    )
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        tick = time.monotonic()
        now = _now_ms()
        pending += generate_events(kind, rng, live_timestamps(rng, last, now, args.rate))
        last = now
        if len(pending) > MAX_PENDING_EVENTS:
            totals["dropped"] += len(pending) - MAX_PENDING_EVENTS
            pending = pending[-MAX_PENDING_EVENTS:]
        declared = stream is None
        try:
            if stream is None:
                stream = supervisor_ensure(url, kind, datasource=args.datasource)
            if pending:
                counts = events_push(url, stream, pending)
                totals["sent"] += len(pending)
                totals["processed"] += counts.get("processed", 0)
                totals["thrownAway"] += counts.get("thrownAway", 0)
                pending = []
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and not declared:  # the server lost it: a fresh data directory
                stream = None
                continue
            if exc.code < 500:
                print(f"error: the server refused the events: {error_text(exc)}", file=sys.stderr)
                return 1
            failures = _retry_later(failures, f"push failed with HTTP {exc.code}", stop, deadline)
            continue
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            failures = _retry_later(failures, f"cannot reach {url} ({reason})", stop, deadline)
            continue
        if failures:
            _say(args, f"reconnected to {url}")
            failures = 0
        stop.wait(max(0.0, TICK_SECONDS - (time.monotonic() - tick)))
    undelivered = totals["dropped"] + len(pending)
    _say(
        args,
        f"stopped after {time.monotonic() - began:.1f} s: {totals['sent']} {kind} events sent to "
        f"{args.datasource!r} ({totals['processed']} processed, {totals['thrownAway']} thrown away"
        + (f", {undelivered} never delivered)" if undelivered else ")"),
    )
    return 0


def _retry_later(failures: int, reason: str, stop: threading.Event, deadline: float | None) -> int:
    """Warn once per outage, then wait a little longer after each failure."""
    if failures == 0:
        _warn(f"{reason}; retrying")
    delay = min(10.0, 0.5 * 2**failures)
    if deadline is not None:
        delay = max(0.0, min(delay, deadline - time.monotonic()))
    stop.wait(delay)
    return failures + 1


def _generate(args: argparse.Namespace) -> int:
    try:
        auth.credentials_from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.url = args.url.rstrip("/")
    args.datasource = args.datasource or args.kind
    if args.rate is None:
        args.rate = STREAMS[args.kind].default_rate
    rng = random.Random(args.seed)
    try:
        with _Stop() as stop:
            since = None
            if args.backfill is not None:
                try:
                    code, since = _backfill(args, rng, stop.event)
                except urllib.error.HTTPError as exc:
                    print(f"error: the server refused the backfill: {error_text(exc)}",
                          file=sys.stderr)  # fmt: skip
                    return 1
                except (urllib.error.URLError, OSError) as exc:
                    reason = getattr(exc, "reason", exc)
                    print(f"error: cannot reach localdruid at {args.url}: {reason}",
                          file=sys.stderr)  # fmt: skip
                    return 1
                if code or stop.event.is_set():
                    return code
            if args.duration == 0:
                return 0
            return _live(args, rng, stop.event, since)
    except KeyboardInterrupt:  # a second Ctrl-C
        print("interrupted", file=sys.stderr)
        return 130


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _non_negative(text: str) -> float:
    return 0.0 if text.strip() in ("0", "0.0") else _positive(text)


def _period(text: str) -> str:
    try:
        period = timeutil.parse_period(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if timeutil.add_period(0, period) <= 0:
        raise argparse.ArgumentTypeError(f"the period [{text}] must be positive")
    return text


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register `generate` on the command line's subparsers."""
    from localdruid.cli import DEFAULT_URL

    rates = ", ".join(f"{k} {s.default_rate:g}" for k, s in STREAMS.items())
    about = (
        "Generate realistic synthetic events and stream them into a running localdruid "
        "through a `localdruid` supervisor, until Ctrl-C.",
        "wikipedia: edits (channel, language, namespace, page, user, robot and anonymous "
        "flags, country, added, deleted, delta). webstream: web requests (url, referrer, user "
        "agent, country, method, status, latency, bytes). Values follow skewed, plausible "
        "distributions; the rate follows a daily rhythm, x0.5 at 03:00 UTC to x1.5 at 15:00 UTC.",
        "With --backfill, history is first written by batch ingestion, ending where the "
        "datasource's data begins: re-running never duplicates it.",
    )
    parser = sub.add_parser(
        "generate",
        help="stream synthetic events (wikipedia edits or web traffic) into a server",
        description="\n\n".join(textwrap.fill(part, 80) for part in about),
        epilog="examples:\n"
        "  python -m localdruid generate wikipedia\n"
        "  python -m localdruid generate webstream --backfill P7D --backfill-rate 5\n"
        "  python -m localdruid generate wikipedia --rate 50 --url http://127.0.0.1:8082",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", choices=list(STREAMS), help="which stream to generate")
    parser.add_argument(
        "--rate",
        type=_positive,
        metavar="N",
        help=f"mean events per second over a day (default: {rates})",
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"server URL (default {DEFAULT_URL})")
    parser.add_argument(
        "--backfill",
        type=_period,
        metavar="PERIOD",
        help="first write this much history (ISO-8601 period: P7D, PT6H) by batch ingestion, "
        "up to where the datasource's data begins",
    )
    parser.add_argument(
        "--backfill-rate",
        type=_positive,
        metavar="N",
        help="mean events per second of the history (default: --rate); lower is cheaper",
    )
    parser.add_argument(
        "--duration",
        type=_non_negative,
        metavar="SECONDS",
        help="stop after streaming this long; 0 writes the history only (default: until Ctrl-C)",
    )
    parser.add_argument(
        "--datasource",
        metavar="NAME",
        help="datasource and supervisor name (default: the kind, wikipedia or webstream)",
    )
    parser.add_argument("--seed", type=int, help="random seed, for reproducible events")
    parser.add_argument(
        "--quiet", action="store_true", help="no start message, progress bar or summary"
    )
    parser.set_defaults(func=_generate)
    return parser
