"""Text from the data never runs as markup: markup in every text column of every table, then
each output the project writes where something renders it, checked as that thing renders it.

Data Docs are opened in headless Chromium (/usr/bin/chromium, as tests/test_report.py drives
it), with every request sent to a closed loopback port.
"""

from __future__ import annotations

import json
import re
import uuid
from html import unescape
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from sparkify.quality.gate import QualityGate
from sparkify.quality.targets import postgres_target
from sparkify.warehouse.postgres import PostgresWarehouse
from tests.test_quality import CLEAN_ROWS
from tests.test_report import chromium, requires_chromium


def markup(column: str) -> str:
    """What a hostile source could put in `column`: an element with a handler, and bold text."""
    return f"<img src=x onerror=\"ran('{column}')\"><b>{column}</b>"


def _execute(url: str, *statements: tuple[str, tuple] | str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(*((statement,) if isinstance(statement, str) else statement))
    finally:
        conn.close()


def text_columns(url: str) -> list[tuple[str, str]]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT table_name, column_name FROM information_schema.columns "
                        "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying') "
                        "ORDER BY 1, 2")
            return cur.fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def database(postgres_server_url):
    name = f"markup_{uuid.uuid4().hex[:10]}"
    _execute(postgres_server_url, f'CREATE DATABASE "{name}"')
    yield make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    _execute(postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- Data Docs ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_docs(database, tmp_path_factory) -> Path:
    """The quality gates' Data Docs over tables whose every text column starts with markup.

    Prefixing keeps a unique column unique and a repeat a repeat, so GX lists the values of
    the expectations that show them: a song_id in two source records (a warning), levels and
    genders outside their sets."""
    PostgresWarehouse(database).create_tables()
    _execute(database, *CLEAN_ROWS, """INSERT INTO staging_songs (artist_id, artist_name, song_id,
                title, duration) VALUES ('AR1', 'Elena', 'SO1', 'Setanta matins', 269.6)""")
    columns = text_columns(database)
    assert ("staging_songs", "song_id") in columns and ("songplay", "user_agent") in columns
    _execute(database, *((f"UPDATE {table} SET {column} = %s || COALESCE({column}, '')",
                          (markup(f"{table}.{column}"),)) for table, column in columns))
    docs = tmp_path_factory.mktemp("data_docs")
    with QualityGate(postgres_target(database), data_docs_dir=docs) as gate:
        staging, warehouse = gate.run("staging"), gate.run("warehouse")
        gate.publish_docs()
    shown = {o.observed for o in (*staging.outcomes, *warehouse.outcomes)}
    assert any("staging_songs.song_id" in text for text in shown)  # GX sampled the values
    return docs


# The values GX lists on the validation pages (unexpected values of the suites' value sets and
# unique keys), each of which must appear as text.
LISTED = ("staging_songs.song_id", "staging_events.level", "staging_events.gender",
          "users.level", "users.gender", "songplay.level", "user_level_history.level")

MEASURE = """<script nonce="measure">
window.ran = [];
const violations = [];
document.addEventListener("securitypolicyviolation", e => violations.push(
  e.violatedDirective + " " + e.blockedURI));
window.addEventListener("load", () => setTimeout(() => {
  const out = document.createElement("pre");
  out.id = "measurements";
  out.textContent = JSON.stringify({ran: window.ran, violations,
    resources: performance.getEntriesByType("resource").map(r => r.name),
    images: document.images.length, bold: document.querySelectorAll("main b").length,
    text: document.body.innerText});
  document.body.appendChild(out);
}, 300));
</script>"""
POLICY = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')


def measure(page: Path, tmp_path: Path, *, keep_policy: bool) -> dict:
    """Open a copy of `page` (beside it, so its links resolve) with MEASURE in it: with the
    page's own policy, which then lets only that script run, or with no policy at all."""
    html = page.read_text(encoding="utf-8")
    policy = POLICY.search(html)
    assert policy, f"{page}: no Content-Security-Policy"
    replacement = (policy.group(0).replace(policy.group(1),
                                           policy.group(1) + "; script-src 'nonce-measure'")
                   if keep_policy else "")
    copy = page.with_name(f"measured-{keep_policy}-{page.name}")
    copy.write_text(html.replace(policy.group(0), replacement + MEASURE, 1), encoding="utf-8")
    dom = chromium(tmp_path / "profile", "--virtual-time-budget=5000", "--dump-dom",
                   copy.as_uri())
    copy.unlink()
    found = re.search(r'<pre id="measurements">(.*?)</pre>', dom.stdout, re.DOTALL)
    assert found, dom.stderr[-2000:]
    return json.loads(unescape(found.group(1)))


def assert_offline(page: Path) -> None:
    """Nothing in the page can fetch: no script, style sheet, image or frame, no URL in a style;
    links (<a href>) only, to other pages of the site or to an anchor."""
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe|object|embed|image|use|video|audio)\b", html)
    assert not re.search(r"<[a-z][^<>]*\b(src|srcset|xlink:href|action|poster|background)\s*=", html)
    assert not re.search(r"url\(|@import", html)
    for target in re.findall(r"<a\b[^>]*\bhref=\"([^\"]*)\"", html):
        assert not re.match(r"[a-z]+:", target) or target == "https://greatexpectations.io", target


@requires_chromium
def test_data_docs_show_markup_from_the_data_as_text_and_fetch_nothing(data_docs, tmp_path):
    pages = sorted(data_docs.rglob("*.html"))
    validations = [p for p in pages if "validations" in p.parts]
    assert len(validations) == 8 and (data_docs / "index.html") in pages
    for page in pages:
        assert_offline(page)
    listed = {name: [] for name in LISTED}
    for page in [data_docs / "index.html", *validations]:
        shipped = measure(page, tmp_path, keep_policy=True)  # the page as a browser gets it
        assert shipped["violations"] == [] and shipped["resources"] == [], page
        bare = measure(page, tmp_path, keep_policy=False)  # escaping alone, without the policy
        assert bare["ran"] == [] and bare["resources"] == [], page
        assert bare["images"] == 0 and bare["bold"] == 0, page
        for name in LISTED:
            if markup(name) in bare["text"]:
                listed[name].append(page)
    assert all(listed.values()), {name: pages for name, pages in listed.items() if not pages}


def test_without_the_escaping_the_markup_would_be_live(data_docs):
    """The test above can fail: GX's own view writes a listed value into the page raw."""
    from great_expectations.render.view import DefaultJinjaPageView

    cell = {"content_block_type": "table", "table": [["<b>x</b>", 1]], "header_row": ["v", "n"]}
    assert "<b>x</b>" in DefaultJinjaPageView().render_content_block({}, cell)
