"""Deterministic generator of a Sparkify-like data set in the S3 source layout.

Writes ``song_data/A/B/C/TR….json`` (one song object per line, ~2% of files hold two),
``log_data/YYYY/MM/YYYY-MM-DD-events.json`` (events in ts order) and ``log_json_path.json``.
The same :class:`GeneratorSpec` gives byte-identical files (one ``random.Random(seed)``).
Sessions are simulated and merged in time order with a heap, so each day streams to disk.
Lines look like the real ones: compact, ASCII-only, ``\\/`` slashes, no final newline.
"""
from __future__ import annotations

import argparse
import os
import heapq
import json
import math
import random
import shutil
import sys
from collections import namedtuple
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from itertools import islice
from pathlib import Path
from typing import Iterator

import orjson

from sparkify.paths import STATE_DIR
from sparkify.staging.schema import STAGING_EVENTS, STAGING_SONGS

EVENT_KEYS = STAGING_EVENTS.source_keys
SONG_KEYS = STAGING_SONGS.source_keys
DEFAULT_SAMPLE_DIR = STATE_DIR / "sample"
LOG_JSON_PATH = '{\n"jsonpaths": [\n' + ",\n".join(f"\"$['{k}']\"" for k in EVENT_KEYS) + "\n]\n}"

DAY_MS, DAY_END_MARGIN_MS = 86_400_000, 60_000
CATALOGUE_PLAY_SHARE, YEAR_ZERO_SHARE, NO_COORDINATES_SHARE = 0.9, 0.4, 0.6
SESSION_MEAN_LENGTH = 24
SESSION_MS_PER_EVENT = 240_000  # a little over the mean gap, to start sessions early enough
GUEST_SHARE, LOGGED_OUT_START_SHARE, PAID_SHARE = 0.01, 0.03, 0.3
# page: (weight per ~1000 logged-in events, the only level it is shown to, if any)
LOGGED_IN_PAGES = {
    "NextSong": (800, None), "Home": (40, None), "Thumbs Up": (45, None),
    "Add to Playlist": (23, None), "Add Friend": (15, None), "Roll Advert": (15, "free"),
    "Logout": (12, None), "Thumbs Down": (9, None), "Downgrade": (7, "paid"), "Settings": (6, None),
    "Help": (5, None), "Upgrade": (4, "free"), "About": (2, None), "Save Settings": (1, None),
    "Error": (1, None), "Submit Upgrade": (2, "free"), "Submit Downgrade": (1, "paid")}
LOGGED_OUT_PAGES = ("Home",) * 6 + ("About", "Help") + ("Login",) * 4
GUEST_PAGES = ("Home", "Home", "Home", "About", "Help")
PAGE_HTTP = {"NextSong": ("PUT", 200), "Add to Playlist": ("PUT", 200), "Error": ("GET", 404),
             **dict.fromkeys(("Logout", "Login", "Save Settings", "Submit Upgrade", "Thumbs Up",
                              "Submit Downgrade", "Thumbs Down", "Add Friend"), ("PUT", 307))}
LEVEL_AFTER = {"Submit Upgrade": "paid", "Submit Downgrade": "free"}
AUTH_AFTER = {"Logout": "Logged Out", "Login": "Logged In"}

ADJ = ("Black Blue Broken Burning Cold Crazy Dark Electric Empty Final Golden Green Happy Heavy "
       "Hidden Holy Last Lonely Lost Midnight Perfect Quiet Red Restless Secret Silent Silver "
       "Simple Sweet Wild Young Velvet").split()
NOUN = ("Angel Baby Boy City Dance Dream Eyes Fire Girl Heart Highway Home Light Love Machine "
        "Moon Night Ocean Paradise Rain River Road Rose Sky Song Star Storm Summer Sun Thunder "
        "Train Water Wind World Garden Mirror").split()
SYLLABLES = "ka lo mi ra ne to su vi da ze ri po la mo ki na be ru so te fa gu".split()
ACCENTED = "Corazón Señorita Café Niño Mañana Canción Fiancé Ángel Santafè Über Déjà".split()
VERSIONS = ("Live", "Remix", "Album Version", "Radio Edit", "Acoustic", "Demo")
FIRST = {"M": "James John Ryan Jacob Walter Aiden Kevin Lucas Noah Ethan Jayden Sean".split(),
         "F": "Kaylee Lily Chloe Aleena Jacqueline Layla Tegan Sara Jordyn Ava Emily".split()}
LAST = ("Summers Frye Kirby Smith Barrett Lynch Cruz Koch Klein Levine Hoffman Cox Lee Garrison "
        "Miller Jones Hughes Reyes Parker Morris Owens Stone Price Bell").split()
CITIES = ("San Francisco-Oakland-Hayward, CA|Phoenix-Mesa-Scottsdale, AZ|Waterloo-Cedar Falls, IA|"
          "New York-Newark-Jersey City, NY-NJ-PA|Atlanta-Sandy Springs-Roswell, GA|Eugene, OR|"
          "Chicago-Naperville-Elgin, IL-IN-WI|Lansing-East Lansing, MI|Houston-The Woodlands-Sugar"
          " Land, TX|Las Cruces, NM|Tampa-St. Petersburg-Clearwater, FL|Columbia, SC").split("|")
_WEBKIT = " AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36\""
AGENTS = ('"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4)' + _WEBKIT,
          '"Mozilla/5.0 (Windows NT 6.1; WOW64)' + _WEBKIT,
          '"Mozilla/5.0 (X11; Linux x86_64)' + _WEBKIT,
          "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0",
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0",
          "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; WOW64; Trident/6.0)")
ARTIST_PLACES = (
    ("Nashville, TN.", 36.16778, -86.77836), ("California - SF", 37.77916, -122.42005),
    ("Chicago, IL", 41.88415, -87.63241), ("New York, NY", 40.71455, -74.00712),
    ("London, England", 51.50632, -0.12714), ("Denmark", 56.27609, 9.51695),
    ("Gainesville, FL", 29.65163, -82.32483), ("Zagreb Croatia", 45.80726, 15.9676))
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALNUM = UPPER + "0123456789"
ANONYMOUS = (None, None, None, None, None, None, "")  # identity of a logged-out visitor

Artist = namedtuple("Artist", "artist_id name location latitude longitude")
Song = namedtuple("Song", "artist song_id title duration year")
Play = tuple[str, str, float]  # artist name, song title, length


@dataclass(frozen=True)
class GeneratorSpec:
    """Size and seed of a generated data set."""

    songs: int = 300
    users: int = 60
    days: int = 30
    events_per_day: int = 400
    seed: int = 42
    start: date = date(2018, 11, 1)

    def __post_init__(self) -> None:
        if min(self.songs, self.users, self.days, self.events_per_day) < 1:
            raise ValueError("songs, users, days and events_per_day must all be at least 1")

    @classmethod
    def for_events(cls, events: int, seed: int = 42) -> GeneratorSpec:
        """About ``events`` events over 30 days (more days when one would top 200k events)."""
        days = max(30, math.ceil(events / 200_000))
        return cls(songs=min(max(events // 100, 50), 100_000), days=days,
                   users=min(max(events // 1000, 20), 20_000),
                   events_per_day=max(1, round(events / days)), seed=seed)


@dataclass(frozen=True)
class GeneratedSummary:
    """What :func:`generate` wrote."""

    song_files: int
    songs: int
    event_files: int
    events: int
    plays: int


@dataclass
class User:
    identity: tuple  # firstName, gender, lastName, location, registration, userAgent, userId
    level: str
    active: bool = False  # in a session right now


@dataclass
class Ids:
    """Random ids shaped like the real ones (``SOGVQGJ12AB017F169``), never handed out twice."""

    rng: random.Random
    used: set = field(default_factory=set)

    def new(self, prefix: str, lead: str = UPPER) -> str:
        """``prefix``, a letter of ``lead``, 4 letters, then 11 letters or digits."""
        rng = self.rng
        ident = prefix + "".join([rng.choice(lead)] + rng.choices(UPPER, k=4) +
                                 rng.choices(ALNUM, k=11))
        if ident in self.used:
            return self.new(prefix, lead)
        self.used.add(ident)
        return ident


def _word(rng: random.Random) -> str:
    return "".join(rng.choices(SYLLABLES, k=rng.randint(2, 3))).capitalize()


def _title(rng: random.Random) -> str:
    adj, noun, r = rng.choice(ADJ), rng.choice(NOUN), rng.random()
    if r < 0.03:
        return f"{rng.choice(ACCENTED)} {noun}"
    if r < 0.25:
        return f"{noun} Of {_word(rng)}" if r < 0.15 else f"{adj} {noun} ({rng.choice(VERSIONS)})"
    if r < 0.6:
        return f"{adj} {noun}"
    return f"The {adj} {noun}" if r < 0.8 else f"{_word(rng)} {noun}"


def _artist_name(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.3:
        return f"{rng.choice(FIRST[rng.choice('MF')])} {rng.choice(LAST)}"
    if r < 0.6:
        return f"The {_word(rng)}s" if r < 0.45 else f"{rng.choice(ADJ)} {_word(rng)}"
    return f"{_word(rng)} {_word(rng)}" if r < 0.9 else f"DJ {_word(rng)}"


def _new_artist(rng: random.Random, ids: Ids) -> Artist:
    place, lat, lon = rng.choice(ARTIST_PLACES)
    location = "" if rng.random() < 0.3 else place
    if rng.random() < NO_COORDINATES_SHARE:
        lat = lon = None
    return Artist(ids.new("AR"), _artist_name(rng), location, lat, lon)


def _duration(rng: random.Random) -> float:
    return round(max(30.0, rng.gauss(240.0, 70.0)), 5)


def build_catalogue(rng: random.Random, ids: Ids, n: int) -> list[Song]:
    """Songs with the real data's quirks. Of every 50: one repeats an earlier (title, artist)
    with another id and duration, one reuses an earlier title under a new artist."""
    songs: list[Song] = []
    artists: list[Artist] = []
    for i in range(n):
        if songs and i % 50 == 49:
            base = rng.choice(songs)
            shift = rng.choice((-1, 1)) * rng.uniform(5, 40)
            songs.append(base._replace(song_id=ids.new("SO"),
                                       duration=round(max(20.0, base.duration + shift), 5)))
            continue
        shared_title = bool(songs) and i % 50 == 24
        if shared_title or not artists or rng.random() < 0.6:
            artists.append(_new_artist(rng, ids))
        artist = artists[-1] if shared_title else rng.choice(artists)
        title = rng.choice(songs).title if shared_title else _title(rng)
        year = 0 if rng.random() < YEAR_ZERO_SHARE else rng.randint(1956, 2010)
        songs.append(Song(artist, ids.new("SO"), title, _duration(rng), year))
    return songs


def write_songs(root: Path, rng: random.Random, ids: Ids, songs: list[Song]) -> int:
    """Write ``root/A/B/C/TRABC….json`` files, about 2% with two songs; return the file count.
    Like the real data, the first letter is "A" (or the first few) and leaves hold many files."""
    lead = UPPER[:min(26, math.ceil(len(songs) / (50 * 26 * 26)))]
    files = i = 0
    while i < len(songs):
        group = songs[i:i + 2] if rng.random() < 0.02 else songs[i:i + 1]
        track = ids.new("TR", lead)
        path = root / track[2] / track[3] / track[4] / f"{track}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes("\n".join(json.dumps(_song_record(s)) for s in group).encode())
        files, i = files + 1, i + len(group)
    return files


def _song_record(s: Song) -> dict:
    a = s.artist
    return dict(zip(SONG_KEYS, (1, a.artist_id, a.latitude, a.longitude, a.location, a.name,
                                s.song_id, s.title, s.duration, s.year)))


def unknown_songs(rng: random.Random, catalogue: list[Song], n: int) -> list[Play]:
    """Songs that get played but match no catalogue song by (title, artist name)."""
    known = {(s.title, s.artist.name) for s in catalogue}
    plays: list[Play] = []
    while len(plays) < n:
        title, artist = _title(rng), _artist_name(rng)
        if (title, artist) not in known:
            plays.append((artist, title, _duration(rng)))
    return plays


def build_users(rng: random.Random, n: int, start_ms: int) -> list[User]:
    users = []
    for uid in range(1, n + 1):
        gender = rng.choice("MF")
        registration = float(start_ms - rng.randint(DAY_MS, 150 * DAY_MS))
        identity = (rng.choice(FIRST[gender]), gender, rng.choice(LAST), rng.choice(CITIES),
                    registration, rng.choice(AGENTS), str(uid))
        users.append(User(identity, "paid" if rng.random() < PAID_SHARE else "free"))
    return users


class EventSimulator:
    """Sessions of users (and guests) turned into time-ordered event dicts, day by day."""

    def __init__(self, rng: random.Random, users: list[User], catalogue: list[Song],
                 unknown: list[Play]) -> None:
        self.rng, self.users, self.unknown = rng, users, unknown
        self.catalogue = [(s.artist.name, s.title, s.duration) for s in catalogue]
        self.pages = {level: tuple(p for p, (w, only) in LOGGED_IN_PAGES.items()
                                   if only in (None, level) for _ in range(w))
                      for level in ("free", "paid")}
        self.last_session_id = 0

    def day(self, day_start: int, target: int) -> Iterator[dict]:
        """``target`` events of one day (but for a rare few cut at midnight), ts increasing."""
        rnd, span = self.rng.random, DAY_MS - DAY_END_MARGIN_MS
        heap: list = sorted(  # (ts, seq, next event or None, session or the plan of one)
            (day_start + int(rnd() * max(0, span - length * SESSION_MS_PER_EVENT)), i, None,
             (auth, length)) for i, (auth, length) in enumerate(self.plan_sessions(target)))
        end, last = day_start + span, 0
        while heap:
            ts, seq, ev, session = heap[0]
            if ev is None:  # a planned session starts
                session = self.session(ts, end, *session)
                ev = next(session)
            else:
                if ts <= last:
                    ev["ts"] = ts = last + 1
                last = ts
                yield ev
                ev = next(session, None)
            if ev is None:
                heapq.heappop(heap)
            else:
                heapq.heapreplace(heap, (ev["ts"], seq, ev, session))

    def plan_sessions(self, events: int) -> list[tuple[str, int]]:
        """(auth at the start, length) of sessions that add up to ``events`` events."""
        plans: list[tuple[str, int]] = []
        while events > 0:
            kind = self.rng.random()
            if kind < GUEST_SHARE:
                auth, length = "Guest", self.rng.randint(1, 3)
            else:
                auth = "Logged Out" if kind < GUEST_SHARE + LOGGED_OUT_START_SHARE else "Logged In"
                length = 1 + int(self.rng.expovariate(1 / SESSION_MEAN_LENGTH))
            plans.append((auth, min(length, events)))
            events -= length
        return plans

    def session(self, ts: int, end: int, auth: str, length: int) -> Iterator[dict]:
        """One session: logged in (maybe logging out and in again), or a guest's visit."""
        rnd = self.rng.random
        self.last_session_id += 1
        sid, user = self.last_session_id, None if auth == "Guest" else self._idle_user()
        for item in range(length):
            pages = (self.pages[user.level] if auth == "Logged In"
                     else LOGGED_OUT_PAGES if user else GUEST_PAGES)
            page = pages[int(rnd() * len(pages))]
            ev = self._event(user, auth, sid, item, page, ts)
            yield ev
            ts += (int(ev["length"] * 1000) + int(rnd() * 2000) if ev["length"]
                   else 1000 + int(rnd() * 60_000))
            if page in LEVEL_AFTER:
                user.level = LEVEL_AFTER[page]
            auth = AUTH_AFTER.get(page, auth)
            if ts >= end:
                break
        if user is not None:
            user.active = False

    def _idle_user(self) -> User:
        for _ in range(5):  # prefer someone who is not in a session already
            user = self.users[int(self.rng.random() * len(self.users))]
            if not user.active:
                break
        user.active = True
        return user

    def _song(self) -> Play:
        rnd = self.rng.random
        if rnd() < CATALOGUE_PLAY_SHARE:
            return self.catalogue[int(len(self.catalogue) * rnd() ** 2)]  # some songs are hits
        return self.unknown[int(len(self.unknown) * rnd())]

    def _event(self, user: User | None, auth: str, sid: int, item: int, page: str,
               ts: int) -> dict:
        logged_in = auth == "Logged In"
        first, gender, last, location, registration, agent, uid = (
            user.identity if logged_in else ANONYMOUS)
        artist, song, length = self._song() if page == "NextSong" else (None, None, None)
        method, status = PAGE_HTTP.get(page, ("GET", 200))
        return {"artist": artist, "auth": auth, "firstName": first, "gender": gender,
                "itemInSession": item, "lastName": last, "length": length,
                "level": user.level if logged_in else "free", "location": location,
                "method": method, "page": page, "registration": registration, "sessionId": sid,
                "song": song, "status": status, "ts": ts, "userAgent": agent, "userId": uid}


def event_line(ev: dict) -> bytes:
    """One event as the real logs show it: compact, ASCII-only, slashes escaped."""
    line = orjson.dumps(ev)
    if not line.isascii():
        line = json.dumps(ev, separators=(",", ":")).encode()
    return line.replace(b"/", b"\\/")


def write_events(path: Path, events: Iterator[dict]) -> tuple[int, int]:
    """Stream events into one file (no newline after the last); return (events, plays)."""
    count = plays = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        while chunk := list(islice(events, 8192)):
            f.write((b"\n" if count else b"") + b"\n".join(map(event_line, chunk)))
            count += len(chunk)
            plays += sum(ev["page"] == "NextSong" for ev in chunk)
    return count, plays


def daily_targets(rng: random.Random, spec: GeneratorSpec) -> list[int]:
    """Events per day, each within about ±20% of ``events_per_day``, together days × that."""
    weights = [rng.uniform(0.8, 1.2) for _ in range(spec.days)]
    total, scale = spec.days * spec.events_per_day, spec.days / sum(weights)
    targets = [round(spec.events_per_day * w * scale) for w in weights]
    targets[-1] = max(1, targets[-1] + total - sum(targets))
    return targets


def generate(out_dir: Path, spec: GeneratorSpec = GeneratorSpec()) -> GeneratedSummary:
    """Write the data set of ``spec`` under ``out_dir``, which must not hold one already."""
    out_dir = Path(out_dir)
    if (out_dir / "song_data").exists() or (out_dir / "log_data").exists():
        raise FileExistsError(f"{out_dir} already holds song_data/ or log_data/")
    rng = random.Random(spec.seed)
    ids = Ids(rng)
    catalogue = build_catalogue(rng, ids, spec.songs)
    song_files = write_songs(out_dir / "song_data", rng, ids, catalogue)
    (out_dir / "log_json_path.json").write_text(LOG_JSON_PATH)
    start_ms = int(datetime(*spec.start.timetuple()[:3], tzinfo=timezone.utc).timestamp()) * 1000
    simulator = EventSimulator(rng, build_users(rng, spec.users, start_ms), catalogue,
                               unknown_songs(rng, catalogue, max(100, spec.songs)))
    events = plays = 0
    for d, target in enumerate(daily_targets(rng, spec)):
        day = spec.start + timedelta(days=d)
        path = out_dir / "log_data" / f"{day:%Y/%m/%Y-%m-%d}-events.json"
        n, p = write_events(path, simulator.day(start_ms + d * DAY_MS, target))
        events, plays = events + n, plays + p
    return GeneratedSummary(song_files, len(catalogue), spec.days, events, plays)


def default_sample() -> Path:
    """The project's own generated sample, written on first use: into a directory of this
    process's own, then renamed into place, so runs started together never read a half one."""
    marker = DEFAULT_SAMPLE_DIR / ".complete"
    if not marker.exists():
        building = DEFAULT_SAMPLE_DIR.with_name(f"{DEFAULT_SAMPLE_DIR.name}.{os.getpid()}")
        shutil.rmtree(building, ignore_errors=True)
        generate(building, GeneratorSpec())
        (building / ".complete").touch()
        if DEFAULT_SAMPLE_DIR.exists() and not marker.exists():  # left by a crashed writer
            shutil.rmtree(DEFAULT_SAMPLE_DIR, ignore_errors=True)
        try:
            building.rename(DEFAULT_SAMPLE_DIR)
        except OSError:  # another run put its (identical) sample there first
            shutil.rmtree(building, ignore_errors=True)
    return DEFAULT_SAMPLE_DIR


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m sparkify.local.generator OUT_DIR [--events N | --songs … ] [--seed S]``."""
    sizes = ("songs", "users", "days", "events_per_day")
    parser = argparse.ArgumentParser(prog="python -m sparkify.local.generator",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--events", type=int, help="total events; the other sizes follow")
    for name in sizes:
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, dest=name)
    parser.add_argument("--seed", type=int, default=GeneratorSpec.seed)
    parser.add_argument("--start", type=date.fromisoformat, default=GeneratorSpec.start)
    args = parser.parse_args(argv)
    given = {k: getattr(args, k) for k in sizes if getattr(args, k) is not None}
    if args.events is not None and given:
        parser.error("--events cannot be combined with --songs/--users/--days/--events-per-day")
    try:
        base = GeneratorSpec() if args.events is None else GeneratorSpec.for_events(args.events)
        s = generate(args.out_dir, replace(base, **given, seed=args.seed, start=args.start))
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"generated {args.out_dir}: {s.song_files} song files ({s.songs} songs), "
          f"{s.event_files} event files ({s.events} events, {s.plays} plays)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
