"""One section of the report per question: its chart and the figures behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sparkify.analytics.charts import Series, bar_chart, column_chart, count, percent
from sparkify.analytics.figures import Figures

NO_LOCATION = "(no location)"
NO_TITLE = "(no title)"


@dataclass(frozen=True)
class Section:
    slug: str  # the section's id in the page
    title: str
    note: str  # what is counted, in a sentence
    chart: str  # inline SVG
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # the figures, formatted


def sections(figures: Figures) -> list[Section]:
    return [build(figures) for build in (
        _plays_by_hour, _plays_by_weekday, _plays_per_day, _top_songs, _top_artists,
        _free_vs_paid, _level_changes, _sessions_per_user, _songs_per_session,
        _plays_by_location, _matched_share, _top_unmatched_titles,
    )]


def _section(slug: str, title: str, note: str, chart: str, headers: tuple[str, ...],
             rows) -> Section:
    return Section(slug, title, note, chart, headers,
                   tuple(tuple(_cell(value) for value in row) for row in rows))


def _cell(value) -> str:
    """Counts with thousands separators, shares as percentages, days as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, int):
        return count(value)
    if isinstance(value, float):
        return percent(value)
    return value.isoformat() if isinstance(value, date) else str(value)


def _plays_by_hour(figures: Figures) -> Section:
    hours = figures.plays_by_hour()
    title = "Plays by hour of day (UTC)"
    chart = column_chart([f"{hour:02d}" for hour, _ in hours],
                         [Series("plays", [plays for _, plays in hours])], title=title)
    return _section("plays-by-hour", title, "Plays started in each hour of the day, UTC.",
                    chart, ("hour", "plays"), [(f"{h:02d}:00", n) for h, n in hours])


def _plays_by_weekday(figures: Figures) -> Section:
    days = figures.plays_by_weekday()
    title = "Plays by day of the week (UTC)"
    chart = column_chart([name[:3] for name, _ in days],
                         [Series("plays", [plays for _, plays in days])], title=title)
    return _section("plays-by-weekday", title, "Plays on each day of the week, UTC.", chart,
                    ("weekday", "plays"), days)


def _plays_per_day(figures: Figures) -> Section:
    days = figures.plays_per_day()
    title = "Plays per day"
    chart = column_chart([_short_date(day) for day, _ in days],
                         [Series("plays", [plays for _, plays in days])], title=title)
    return _section("plays-per-day", title, "Plays on each day from the first play to the "
                    "last (UTC); a day without plays shows 0.", chart, ("day", "plays"), days)


def _top_songs(figures: Figures) -> Section:
    songs = figures.top_songs()
    title = "Top songs"
    chart = bar_chart([f"{t} — {a or '?'}" for _, t, a, _ in songs], [n for *_, n in songs],
                      title=title, empty="no play matched a song yet")
    return _section("top-songs", title, "The ten songs played most, among the plays matched "
                    "to a song.", chart, ("song", "artist", "song_id", "plays"),
                    [(t, a or "", song_id, n) for song_id, t, a, n in songs])


def _top_artists(figures: Figures) -> Section:
    artists = figures.top_artists()
    title = "Top artists"
    chart = bar_chart([name for _, name, _ in artists], [n for *_, n in artists], title=title,
                      empty="no play matched a song yet")
    return _section("top-artists", title, "The ten artists played most, among the plays "
                    "matched to a song.", chart, ("artist", "artist_id", "plays"),
                    [(name, artist_id, n) for artist_id, name, n in artists])


def _free_vs_paid(figures: Figures) -> Section:
    levels = figures.free_vs_paid()
    users = sum(u for _, u, _, _ in levels) or 1
    title = "Free and paid"
    chart = column_chart([level for level, *_ in levels], [
        Series("share of users", [u / users for _, u, _, _ in levels]),
        Series("share of plays", [share for *_, share in levels]),
    ], title=title, fmt=percent)
    return _section("free-vs-paid", title, "Users by their level now (users.level); plays by "
                    "the level the user had when playing.", chart,
                    ("level", "users", "plays", "share of plays"), levels)


def _level_changes(figures: Figures) -> Section:
    days = figures.level_changes_per_day()
    title = "Upgrades and downgrades per day"
    chart = column_chart([_short_date(day) for day, *_ in days], [
        Series("upgrades", [up for _, up, _ in days]),
        Series("downgrades", [down for *_, down in days]),
    ], title=title, empty="no upgrade or downgrade yet")
    return _section("level-changes", title, "Changes of level from user_level_history: free to "
                    "paid is an upgrade, paid to free a downgrade (UTC days).", chart,
                    ("day", "upgrades", "downgrades"), days)


def _sessions_per_user(figures: Figures) -> Section:
    buckets = figures.sessions_per_user()
    title = "Sessions per user"
    chart = column_chart([b for b, _ in buckets], [Series("users", [n for _, n in buckets])],
                         title=title)
    return _section("sessions-per-user", title, "Users by the number of sessions they played "
                    "in (a session: a user's session_id with at least one play).", chart,
                    ("sessions", "users"), buckets)


def _songs_per_session(figures: Figures) -> Section:
    buckets = figures.songs_per_session()
    title = "Songs per session"
    chart = column_chart([b for b, _ in buckets], [Series("sessions", [n for _, n in buckets])],
                         title=title)
    return _section("songs-per-session", title, "Sessions by the number of plays in them.",
                    chart, ("plays in the session", "sessions"), buckets)


def _plays_by_location(figures: Figures) -> Section:
    places = [(location or NO_LOCATION, n) for location, n in figures.plays_by_location()]
    title = "Plays by location"
    chart = bar_chart([p for p, _ in places], [n for _, n in places], title=title)
    return _section("plays-by-location", title, "The ten locations with the most plays, as "
                    "the events gave them.", chart, ("location", "plays"), places)


def _matched_share(figures: Figures) -> Section:
    matched, plays, share = figures.matched_share
    title = "Plays matched to a song"
    chart = bar_chart(["matched to a song", "not matched"], [matched, plays - matched],
                      title=title)
    rows = [(matched, plays, share if share is not None else "")]
    return _section("matched-share", title, "Plays whose title and artist match a song of the "
                    "catalogue.", chart, ("matched plays", "plays", "share matched"), rows)


def _top_unmatched_titles(figures: Figures) -> Section:
    titles = [(t or NO_TITLE, a or "", n) for t, a, n in figures.top_unmatched_titles()]
    title = "Top unmatched titles"
    chart = bar_chart([f"{t} — {a or '?'}" for t, a, _ in titles], [n for *_, n in titles],
                      title=title, empty="every play matched a song")
    return _section("top-unmatched", title, "The ten titles played most that match no song: "
                    "what the catalogue lacks.", chart, ("title", "artist", "plays"), titles)


def _short_date(day: date) -> str:
    return f"{day:%m-%d}"
