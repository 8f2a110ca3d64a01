"""The one place the project publishes Prefect artifacts.

The Prefect UI renders a markdown artifact as Markdown, and every text cell of a table
artifact as Markdown too: each cell goes through sparkify.text.markdown_text here, and the
markdown artifacts are built from markdown_text / markdown_code_block by their callers.
Descriptions are the project's own text, never the data's.
"""

from __future__ import annotations

from uuid import UUID

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from sparkify.text import markdown_cells


def publish_table(key: str, rows: list[dict], description: str) -> UUID:
    return create_table_artifact(key=key, table=markdown_cells(rows), description=description)


def publish_markdown(key: str, markdown: str, description: str) -> UUID:
    """`markdown`: already Markdown, with any text from the data escaped by its builder."""
    return create_markdown_artifact(key=key, markdown=markdown, description=description)
