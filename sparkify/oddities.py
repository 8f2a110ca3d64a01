"""The records a quiet rule affected in a run, counted for its summary and warnings.

The README's table "One rule per oddity" has every rule. Most refuse a record, which the run
names as malformed; the rules here change a record at staging, or leave it as it is where a
reader might expect otherwise, without an error: the run says how many records each affected.
Each count comes from the warehouse's SQL, so both engines count alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sparkify.warehouse.base import StageResult


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


def oddities_of(staged: Sequence[StageResult]) -> tuple[str, ...]:
    """What the run says of each rule that affected records of this load, in a fixed order."""
    said = []
    for name, oddity in CHANGED_AT_STAGING.items():
        count = sum(result.changed_after_load.get(name, 0) for result in staged)
        if count:
            said.append(oddity.says(count))
    return tuple(said)
