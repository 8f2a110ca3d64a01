"""The records a quiet rule affected in a run, counted for its summary and warnings.

The table "One rule per oddity" of docs/data-rules.md has every rule. Most refuse a record, which the run
names as malformed; the rules here change a record at staging, or leave it as it is where a
reader might expect otherwise, without an error: the run says how many records each affected.
Each count comes from the warehouse's SQL (sql/oddities/), so both engines count alike.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sparkify.warehouse.base import StageResult, Warehouse


@dataclass(frozen=True)
class Oddity:
    """What the run says of the records one rule affected."""

    noun: str  # what is counted, singular
    rest: str  # what is odd about them, and what the rule did

    def says(self, count: int) -> str:
        return f"{count:,} {self.noun}{'' if count == 1 else 's'} {self.rest}"


# Statements that finish a staging load (StagingTable.after_load): the rows each changes are
# the records its rule changed.
CHANGED_AT_STAGING = {
    "staging/trim_user_ids": Oddity("event", "whose userId has blanks around it: staged without them"),
}
PAGES_LIKE_NEXT_SONG = Oddity("event", "whose page is NextSong but for case or blanks: staged, not plays")
UNMATCHED_IN_ANOTHER_FORM = Oddity(
    "NextSong event", "whose song and artist equal a song's title and artist name only in another "
                      "Unicode normalization form: not matched")
QUERIES = ("oddities/pages_like_next_song", "oddities/unmatched_plays_beyond_ascii",
           "oddities/song_names_beyond_ascii")


def oddities_of(warehouse: Warehouse, staged: Sequence[StageResult]) -> tuple[str, ...]:
    """What the run says of each rule that affected records of this load (after its transform),
    in a fixed order; nothing when it staged nothing."""
    if not staged:
        return ()
    counts = [(oddity, sum(result.changed_after_load.get(name, 0) for result in staged))
              for name, oddity in CHANGED_AT_STAGING.items()]
    answers = warehouse.query_each(QUERIES)
    counts.append((PAGES_LIKE_NEXT_SONG, sum(count for (count,) in answers[QUERIES[0]])))
    counts.append((UNMATCHED_IN_ANOTHER_FORM,
                   unmatched_in_another_form(answers[QUERIES[1]], answers[QUERIES[2]])))
    return tuple(oddity.says(count) for oddity, count in counts if count)


def unmatched_in_another_form(plays: Sequence[tuple], songs: Sequence[tuple]) -> int:
    """The unmatched plays (song, artist, events) whose song and artist equal a song's (title,
    artist name) once both are in NFC: canonically equivalent, not the same code points."""
    known = {_nfc(title, name) for title, name in songs if title is not None and name is not None}
    return sum(events for song, artist, events in plays
               if song is not None and artist is not None and _nfc(song, artist) in known)


def _nfc(*texts: str) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", text) for text in texts)
