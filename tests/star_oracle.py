"""A small Python oracle of the contract's semantics: the six star tables from the source
records, written from docs/contract.md ("Semantics") and docs' rules, not from the SQL.

Records are the source's dicts (camelCase keys) as the staging tables hold them; the property
test feeds it well-formed records only (every ts, page, sessionId and itemInSession present).
`Oracle.load(events, songs)` folds one load in, as the pipeline does: a new play gets the next
songplay_id, numbered in (start_time, user_id, sessionId, itemInSession) order; a play keeps
its id afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

EPOCH = datetime(1970, 1, 1)


def _blank(value):
    """Trailing blanks go (staging drops them on both engines); empty strings become NULL."""
    if isinstance(value, str):
        value = value.rstrip(" ")
    return None if value == "" else value


def _asc(value):
    """Sort key: ascending, NULLs last."""
    return (value is None, value if value is not None else 0)


def _desc(value):
    """Sort key for a number: descending, NULLs last."""
    return (value is None, -value if value is not None else 0)


def _desc_text(value):
    """Sort key for a text: descending, NULLs last (code points, as C collation compares)."""
    return (value is None, tuple(-ord(c) for c in value) + (1,) if value is not None else ())


def _copy_order(e: "Event") -> tuple:
    """The earliest copy of a play: by ts, then its content."""
    return (e.ts, _asc(e.song), _asc(e.artist), _asc(e.length), _asc(e.level), _asc(e.location),
            _asc(e.user_agent))


def start_time(ts: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ts)


@dataclass(frozen=True)
class Event:
    user_id: str
    session_id: int
    item: int
    ts: int
    is_play: bool
    level: str | None
    first_name: str | None
    last_name: str | None
    gender: str | None
    song: str | None
    artist: str | None
    length: float | None
    location: str | None
    user_agent: str | None

    @classmethod
    def of(cls, record: dict) -> Event | None:
        """The event as staged: blanks around the userId and after the page dropped; a play is
        page 'NextSong' exactly (docs/data-rules.md, "One rule per oddity")."""
        user_id = (record.get("userId") or "").strip(" ")
        if not user_id:
            return None
        play = record["page"].rstrip(" ") == "NextSong"
        return cls(user_id, record["sessionId"], record["itemInSession"], record["ts"],
                   play, _blank(record["level"]), _blank(record["firstName"]),
                   _blank(record["lastName"]), _blank(record["gender"]),
                   _blank(record["song"]) if play else None,
                   _blank(record["artist"]) if play else None,
                   record["length"] if play else None,
                   _blank(record["location"]) if play else None,
                   _blank(record["userAgent"]) if play else None)

    @property
    def play_key(self) -> tuple:
        return (self.user_id, self.session_id, self.item)


@dataclass(frozen=True)
class SongRecord:
    song_id: str
    title: str | None
    artist_id: str | None
    artist_name: str | None
    location: str | None
    latitude: float | None
    longitude: float | None
    duration: float | None
    year: int | None

    @classmethod
    def of(cls, record: dict) -> SongRecord | None:
        if _blank(record.get("song_id")) is None:
            return None
        return cls(_blank(record["song_id"]), _blank(record["title"]), _blank(record["artist_id"]),
                   _blank(record["artist_name"]), _blank(record["artist_location"]),
                   record["artist_latitude"], record["artist_longitude"], record["duration"],
                   record["year"])


@dataclass
class Oracle:
    events: set[Event] = field(default_factory=set)
    songs: set[SongRecord] = field(default_factory=set)
    ids: dict[tuple, int] = field(default_factory=dict)  # play key -> songplay_id

    def load(self, events: list[dict], songs: list[dict]) -> None:
        self.events |= {e for e in map(Event.of, events) if e is not None}
        self.songs |= {s for s in map(SongRecord.of, songs) if s is not None}
        new = sorted((row for row in self.plays() if row[0] not in self.ids),
                     key=lambda row: (row[1][0], row[0]))
        for key, _ in new:
            self.ids[key] = len(self.ids) + 1

    # -- the star tables, as sorted lists of tuples in the tables' column order ------------

    def tables(self) -> dict[str, list[tuple]]:
        song = self.song()
        artist_of = {row[0]: row[2] for row in song}
        songplay = [(self.ids[key], row[0], key[0], row[1], row[2], artist_of.get(row[2]),
                     key[1], key[2], row[3], row[4], row[5], row[6]) for key, row in self.plays()]
        return {
            "songplay": sorted(songplay),
            "users": self.users(),
            "song": song,
            "artist": self.artist(),
            "time": self.time({row[1] for row in songplay}),
            "user_level_history": self.level_history(),
        }

    def plays(self) -> list[tuple[tuple, tuple]]:
        """(play key, (start_time, level, song_id, location, user_agent, title, artist)) of
        every play: what its earliest copy says, and the song that matches it."""
        copies: dict[tuple, list[Event]] = {}
        for event in self.events:
            if event.is_play:
                copies.setdefault(event.play_key, []).append(event)
        plays = []
        for key, found in copies.items():
            first = min(found, key=_copy_order)
            plays.append((key, (start_time(first.ts), first.level, self.match(first),
                                first.location, first.user_agent, first.song, first.artist)))
        return plays

    def match(self, play: Event) -> str | None:
        """The song with the play's exact title and artist name, duration closest to its length,
        then the smallest song_id."""
        candidates = [s for s in self.songs
                      if s.title is not None and s.title == play.song
                      and s.artist_name is not None and s.artist_name == play.artist]
        if not candidates:
            return None
        def closeness(s: SongRecord) -> tuple:
            known = s.duration is not None and play.length is not None
            return (_asc(abs(s.duration - play.length) if known else None), s.song_id)

        return min(candidates, key=closeness).song_id

    def users(self) -> list[tuple]:
        latest: dict[str, Event] = {}

        def order(e: Event) -> tuple:
            return (_desc(e.ts), _desc(e.item), _desc(e.session_id), _desc_text(e.level),
                    _asc(e.first_name), _asc(e.last_name), _asc(e.gender))

        for event in self.events:
            best = latest.get(event.user_id)
            if best is None or order(event) < order(best):
                latest[event.user_id] = event
        return sorted((u, e.first_name, e.last_name, e.gender, e.level) for u, e in latest.items())

    def level_history(self) -> list[tuple]:
        instants: dict[tuple, Event] = {}  # (user, ts) -> the last event of that millisecond

        def order(e: Event) -> tuple:
            return (_desc(e.item), _desc(e.session_id), _desc_text(e.level))

        for event in self.events:
            if event.level is None:
                continue
            best = instants.get((event.user_id, event.ts))
            if best is None or order(event) < order(best):
                instants[(event.user_id, event.ts)] = event
        periods = []
        by_user: dict[str, list[Event]] = {}
        for (user, _), event in sorted(instants.items()):
            by_user.setdefault(user, []).append(event)
        for user, events in by_user.items():
            starts = [e for i, e in enumerate(events) if i == 0 or events[i - 1].level != e.level]
            for i, event in enumerate(starts):
                ends = start_time(starts[i + 1].ts) if i + 1 < len(starts) else None
                periods.append((user, event.level, start_time(event.ts), ends))
        return sorted(periods, key=lambda p: (p[0], p[2]))

    def song(self) -> list[tuple]:
        best: dict[str, SongRecord] = {}

        def order(s: SongRecord) -> tuple:
            return (s.year is None or s.year == 0, s.duration is None, _asc(s.title),
                    _asc(s.artist_id), _asc(s.duration), _asc(s.year))

        for record in self.songs:
            if record.song_id not in best or order(record) < order(best[record.song_id]):
                best[record.song_id] = record
        return sorted((s.song_id, s.title, s.artist_id, s.year, s.duration) for s in best.values())

    def artist(self) -> list[tuple]:
        best: dict[str, SongRecord] = {}

        def order(s: SongRecord) -> tuple:
            return (s.location is None, s.latitude is None or s.longitude is None,
                    _asc(s.artist_name), _asc(s.location), _asc(s.latitude), _asc(s.longitude))

        for record in self.songs:
            if record.artist_id is None:
                continue
            if record.artist_id not in best or order(record) < order(best[record.artist_id]):
                best[record.artist_id] = record
        return sorted((s.artist_id, s.artist_name, s.location, s.latitude, s.longitude)
                      for s in best.values())

    @staticmethod
    def time(start_times: set[datetime]) -> list[tuple]:
        return sorted((t, t.hour, t.day, t.isocalendar()[1], t.month, t.year,
                       (t.weekday() + 1) % 7) for t in start_times)
