"""The report's figures: one query per question (sql/analytics/), all asked on one connection.

`Figures` keeps the rows as the warehouse returned them and gives each question's answer in
the shape a chart needs: every hour and weekday, every day of the range (zero where nothing
happened), the buckets of a distribution with their labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sparkify.warehouse.base import Warehouse

QUESTIONS = (
    "time_range", "plays_by_hour", "plays_by_weekday", "plays_per_day",
    "top_songs", "top_artists", "free_vs_paid", "level_changes_per_day",
    "sessions_per_user", "songs_per_session", "plays_by_location",
    "matched_share", "top_unmatched_titles",
)
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


@dataclass(frozen=True)
class TimeRange:
    first_play_at: datetime
    last_play_at: datetime
    days_with_plays: int

    @property
    def days(self) -> int:
        return (self.last_play_at.date() - self.first_play_at.date()).days + 1


@dataclass(frozen=True)
class Figures:
    """The rows of every analytics query, by question (the file name under sql/analytics/)."""

    answers: dict[str, list[tuple]]

    @classmethod
    def collect(cls, warehouse: Warehouse) -> Figures:
        rows = warehouse.query_each(f"analytics/{question}" for question in QUESTIONS)
        return cls({name.removeprefix("analytics/"): answer for name, answer in rows.items()})

    def rows(self, question: str) -> list[tuple]:
        return list(self.answers.get(question) or [])

    @property
    def time_range(self) -> TimeRange | None:
        """None when there are no plays."""
        found = self.rows("time_range")
        if not found or found[0][0] is None:
            return None
        return TimeRange(*found[0])

    @property
    def plays(self) -> int:
        return int(self.matched_share[1])

    @property
    def matched_share(self) -> tuple[int, int, float | None]:
        """(matched plays, plays, share matched: None without plays)."""
        found = self.rows("matched_share")
        if not found:
            return 0, 0, None
        matched, plays, share = found[0]
        return int(matched), int(plays), None if share is None else float(share)

    def plays_by_hour(self) -> list[tuple[int, int]]:
        """Every hour of the day, 0 to 23, with its plays."""
        counted = {int(hour): int(plays) for hour, plays in self.rows("plays_by_hour")}
        return [(hour, counted.get(hour, 0)) for hour in range(24)]

    def plays_by_weekday(self) -> list[tuple[str, int]]:
        """Every day of the week, Sunday first, with its plays."""
        counted = {int(day): int(plays) for day, plays in self.rows("plays_by_weekday")}
        return [(name, counted.get(number, 0)) for number, name in enumerate(WEEKDAYS)]

    def plays_per_day(self) -> list[tuple[date, int]]:
        """Every day from the first play to the last, with its plays."""
        counted = {day: int(plays) for day, plays in self.rows("plays_per_day")}
        return [(day, counted.get(day, 0)) for day in _days_between(counted)]

    def level_changes_per_day(self) -> list[tuple[date, int, int]]:
        """(day, upgrades, downgrades) for every day of the plays' range and of any change."""
        changes = {day: (int(up), int(down)) for day, up, down in self.rows("level_changes_per_day")}
        covered = dict.fromkeys(changes)
        if self.time_range is not None:
            covered.update(dict.fromkeys((self.time_range.first_play_at.date(),
                                          self.time_range.last_play_at.date())))
        return [(day, *changes.get(day, (0, 0))) for day in _days_between(covered)]

    def free_vs_paid(self) -> list[tuple[str, int, int, float]]:
        """(level, users on it now, plays on it, share of plays)."""
        return [(level, int(users), int(plays), float(share or 0))
                for level, users, plays, share in self.rows("free_vs_paid")]

    def sessions_per_user(self) -> list[tuple[str, int]]:
        """(bucket of sessions, users)."""
        return [(_bucket(low, high), int(users))
                for low, high, users in self.rows("sessions_per_user")]

    def songs_per_session(self) -> list[tuple[str, int]]:
        """(bucket of plays in a session, sessions)."""
        return [(_bucket(low, high), int(sessions))
                for low, high, sessions in self.rows("songs_per_session")]

    def top_songs(self) -> list[tuple[str, str, str | None, int]]:
        return [(song_id, title, artist, int(plays))
                for song_id, title, artist, plays in self.rows("top_songs")]

    def top_artists(self) -> list[tuple[str, str, int]]:
        return [(artist_id, name, int(plays)) for artist_id, name, plays in self.rows("top_artists")]

    def plays_by_location(self) -> list[tuple[str | None, int]]:
        return [(location, int(plays)) for location, plays in self.rows("plays_by_location")]

    def top_unmatched_titles(self) -> list[tuple[str | None, str | None, int]]:
        return [(title, artist, int(plays))
                for title, artist, plays in self.rows("top_unmatched_titles")]


def _days_between(days) -> list[date]:
    if not days:
        return []
    first, last = min(days), max(days)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _bucket(low: int, high: int | None) -> str:
    if high is None:
        return f"{low}+"
    return str(low) if low == high else f"{low}-{high}"
