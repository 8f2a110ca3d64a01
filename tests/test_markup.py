"""Text from the data never runs as markup: markup in every text column of every table, then
each output the project writes where something renders it, checked as that thing renders it.

Data Docs are opened in headless Chromium (/usr/bin/chromium, as tests/test_report.py drives
it), with every request sent to a closed loopback port.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import psycopg2
import pytest

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
            cur.execute("SELECT c.table_name, c.column_name FROM information_schema.columns AS c "
                        "JOIN information_schema.tables AS t USING (table_schema, table_name) "
                        "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' "
                        "AND c.data_type IN ('text', 'character varying') ORDER BY 1, 2")
            return cur.fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def database(module_databases) -> str:
    return module_databases.create()


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


# -- the ELT's own outputs: artifacts, the report page, messages -------------------------------

# Markdown and Slack markup too: a link, an image, emphasis, a table-breaking newline and pipe.
MARKDOWN = "[x](javascript:alert(1)) ![](http://example.invalid/x.png) *em* `c` a\n| b |"


def hostile(column: str) -> str:
    return f"{markup(column)} {MARKDOWN} <!channel> \x1b[31m{column}"


EVENT_TEXT = {"auth": "auth", "firstName": "first_name",
              "lastName": "last_name", "location": "location", "method": "method",
              "userAgent": "user_agent", "userId": "user_id"}
SONG_TEXT = {"artist_id": "artist_id", "artist_location": "artist_location",
             "artist_name": "artist_name", "song_id": "song_id", "title": "title"}


@pytest.fixture(scope="module")
def elt_run(prefect_harness, database, tmp_path_factory):
    """The ELT over data whose every text field holds markup; a song in two files (a
    repeated song_id: a warning the gate reports with the value)."""
    from flows.main import elt
    from pydantic import SecretStr
    from tests.conftest import event, song, write_dataset

    _execute(database, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")
    the_song = song(**{key: hostile(name) for key, name in SONG_TEXT.items()}, duration=200.0)
    events = [event(**{**{key: hostile(name) for key, name in EVENT_TEXT.items()},
                       "artist": the_song["artist_name"], "song": the_song["title"]},
                    length=200.0, itemInSession=n, ts=1541105830796 + n) for n in range(2)]
    root = tmp_path_factory.mktemp("hostile")
    write_dataset(root, {"2018-11-01": events}, {"TRAAAAA1": [the_song], "TRAAAAB1": [the_song]})
    summary = elt(data=str(root), warehouse_url=SecretStr(database))
    assert summary.matched_plays == 2 and summary.rows["songplay"] == 2
    return summary


def latest_artifact(key: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC, limit=1)
    data = artifact.data
    return artifact.type, (json.loads(data) if isinstance(data, str) and artifact.type == "table"
                           else data)


# What the Prefect UI's Markdown renderer (marked) would turn into something other than text.
MARKUP_NODES = {"link", "image", "inline_html", "block_html", "emphasis", "strong", "codespan",
                "strikethrough", "heading", "list", "block_quote", "block_code", "thematic_break"}


def markdown_nodes(text: str) -> tuple[set[str], str]:
    """The node types of `text` parsed as GFM (mistune, as GX installs it), and its text."""
    import mistune

    parse = mistune.create_markdown(renderer=None, plugins=["table", "strikethrough", "url"])
    types, texts = set(), []

    def walk(nodes):
        for node in nodes:
            types.add(node["type"])
            if "raw" in node:
                texts.append(node["raw"])
            walk(node.get("children") or [])
    walk(parse(text))
    return types, "".join(texts)


def test_markdown_artifacts_show_the_data_as_text(elt_run):
    kind, report = latest_artifact("sparkify-report")
    assert kind == "markdown"
    types, text = markdown_nodes(report)
    assert report.startswith("## Sparkify report\n") and report.count("\n#") == 0  # its title
    assert "table" in types and not types & (MARKUP_NODES - {"heading"}), types & MARKUP_NODES
    rows = [line for line in report.splitlines() if line.startswith("| ")]
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 3 for row in rows), rows  # two cells each
    for column in ("title", "artist_name", "location"):
        assert markup(column) in text and "[x](javascript:alert(1))" in text, column

    kind, summary = latest_artifact("sparkify-run-summary")
    types, _ = markdown_nodes(summary)
    assert types <= {"block_code", "blank_line"}, types  # one code block: shown as it is


def test_every_table_artifact_cell_is_markdown_text(elt_run):
    """The Prefect UI renders each text cell of a table artifact as Markdown."""
    keys = ("sparkify-quality-staging", "sparkify-quality-warehouse", "sparkify-sources",
            "sparkify-ledger-delta", "sparkify-row-counts", "sparkify-step-seconds")
    cells = [value for key in keys for row in latest_artifact(key)[1] for value in row.values()
             if isinstance(value, str)]
    for cell in cells:
        types, _ = markdown_nodes(cell)
        assert not types & MARKUP_NODES, (cell, types & MARKUP_NODES)
    observed = [cell for cell in cells if "song_id" in cell and "unexpected" in cell]
    assert observed and "\\x3cimg" in observed[0]  # the sample, made inert


@requires_chromium
def test_the_report_page_shows_the_data_as_text(elt_run, tmp_path):
    from sparkify.analytics.page import REPORT_PAGE

    page = tmp_path / "index.html"
    page.write_text(REPORT_PAGE.read_text(encoding="utf-8"), encoding="utf-8")
    shipped = measure(page, tmp_path, keep_policy=True)
    assert shipped["violations"] == [] and shipped["resources"] == []
    bare = measure(page, tmp_path, keep_policy=False)
    assert bare["ran"] == [] and bare["resources"] == [] and bare["images"] == 0
    for column in ("title", "artist_name", "location"):
        assert markup(column) in bare["text"], column


def test_notifications_carry_the_data_inert():
    """Both rules' messages rendered by Prefect's own template renderer, from a failed run's
    state message and a failed gate's event holding markup from the data: no character that
    makes markup in Slack, HTML or Markdown is left (Slack's <!channel>, a link, a tag)."""
    import yaml
    from prefect.server.utilities import user_templates
    from types import SimpleNamespace

    from sparkify.notify.events import quality_failed_event
    from sparkify.notify.rules import AUTOMATIONS_DIR
    from sparkify.quality.report import ExpectationOutcome, QualityReport

    user_templates.register_user_template_filters({"ui_url": lambda _: "http://ui/run"})
    failed = QualityReport("staging", (ExpectationOutcome(
        "staging_songs", "song_id is unique", "expect_column_values_to_be_unique", False,
        "critical", _observed_sample(hostile("song_id"))),), 0.1)
    event = quality_failed_event(failed, "warn", "sparkify-quality-staging", None)
    context = {
        "flow": SimpleNamespace(name="sparkify-elt"), "deployment": None,
        "flow_run": SimpleNamespace(name="run", id="id", state=SimpleNamespace(
            name="Failed", timestamp="now",
            message=f"Flow run encountered an exception: {hostile('key')}")),
        "event": SimpleNamespace(resource=SimpleNamespace(name="staging"),
                                 payload=event["payload"]),
    }
    rules = yaml.safe_load((AUTOMATIONS_DIR / "notifications.yaml").read_text())["automations"]
    bodies = {}
    for rule in rules:
        action = rule["actions"][0]
        body = bodies[rule["name"]] = user_templates.render_user_template_sync(action["body"],
                                                                              context)
        assert "key" in body or "song_id" in body
        data_part = body.split("Error: ", 1)[-1] if "Error: " in body else body
        assert not re.search(r"[<>\[\]`*~|@]", data_part), (rule["name"], data_part)
        assert "\\x3cimg src=x" in body, body
    run_failed = bodies["sparkify-run-failed"].replace("\\x21", "!")  # the message in full
    assert "\\x3c!channel\\x3e" in run_failed and "\\x5bx\\x5d(javascript" in run_failed


def _observed_sample(value: str) -> str:
    from sparkify.quality.report import _observed

    return _observed("expect_column_values_to_be_unique",
                     {"unexpected_count": 2, "element_count": 3,
                      "partial_unexpected_list": [value]})


def test_log_lines_and_the_error_line_show_control_characters_as_escapes():
    import logging

    from sparkify.cli import _OneLineRecords, one_line

    record = logging.LogRecord("prefect", logging.INFO, __file__, 1, "loaded %s",
                               ("\x1b[31mred\x1b[0m \u202eevil\x07",), None)
    _OneLineRecords().filter(record)
    assert record.getMessage() == "loaded \\x1b[31mred\\x1b[0m \\u202eevil\\x07"
    line = one_line(ValueError("bad \x1b]0;title\x07 \u202eevil"))
    assert line == "bad \\x1b]0;title\\x07 \\u202eevil"


def test_the_dry_run_prints_a_key_with_control_characters_as_escapes():
    import io

    from sparkify.dry_run import StatementLog

    out = io.StringIO()
    log = StatementLog(out)
    log.statement(log.connection_opened(), "ledger/record_objects",
                  "INSERT INTO load_ledger VALUES %s", "('s3://b/\x1b[2Jkey\u202e.json', ...)")
    log.flush()
    assert "\x1b" not in out.getvalue() and "s3://b/\\x1b[2Jkey\\u202e.json" in out.getvalue()
