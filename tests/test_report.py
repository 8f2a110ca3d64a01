"""The analytics report: every query's known answer on hand-made data loaded by the real flow
(an older day backfilled after a newer one), the page and its artifact, the report command,
a failed run that leaves the page alone, and the page opened in a real headless Chromium.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
from datetime import date, datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pydantic import SecretStr

from flows.main import elt
from flows.report import report
from sparkify.analytics.figures import QUESTIONS, Figures
from sparkify.analytics.page import REPORT_PAGE, ReportContext, render
from sparkify.errors import MalformedRecordError
from sparkify.warehouse.postgres import PostgresWarehouse
from tests.conftest import PROJECT_ROOT, event, query, song, write_dataset

pytestmark = pytest.mark.usefixtures("prefect_harness")

HOUR, MINUTE = 3_600_000, 60_000
D1 = 1541030400000  # 2018-11-01 00:00 UTC, a Thursday
D2, D3 = D1 + 24 * HOUR, D1 + 48 * HOUR
SONGS = {"TRAAAAA1": [song("SO1", "Alpha", "AR1", "Xeno")],
         "TRAAAAB1": [song("SO2", "Beta", "AR2", "Yara")],
         "TRAAAAC1": [song("SO3", "Gamma", "AR1", "Xeno")]}


def ann(ts, item, **fields):  # free all along, one session over two days, in Austin
    return event(userId="1", firstName="Ann", sessionId=10, itemInSession=item, ts=ts,
                 level="free", location="Austin, TX", **fields)


def cat(ts, session, item, level, **fields):  # upgrades, downgrades, upgrades again, in Boston
    return event(userId="7", firstName="Cat", sessionId=session, itemInSession=item, ts=ts,
                 level=level, **{"location": "Boston, MA", **fields})


def dan(ts, session, item, **fields):  # paid all along, in Chicago
    return event(userId="9", firstName="Dan", sessionId=session, itemInSession=item, ts=ts,
                 level="paid", location="Chicago, IL", **fields)


def play(title, artist):
    return {"song": title, "artist": artist, "length": 200.0}


DAYS = {
    "2018-11-01": [ann(D1 + 8 * HOUR, 0, **play("Alpha", "Xeno")),
                   ann(D1 + 8 * HOUR + 5 * MINUTE, 1, **play("Beta", "Yara")),
                   cat(D1 + 9 * HOUR, 20, 0, "free", **play("Alpha", "Xeno")),
                   cat(D1 + 9 * HOUR + 10 * MINUTE, 20, 1, "free", page="Home"),
                   dan(D1 + 20 * HOUR, 30, 0, **play("Nope", "Nobody"))],
    "2018-11-02": [ann(D2 + 8 * HOUR, 2, **play("Alpha", "Xeno")),
                   ann(D2 + 8 * HOUR + 3 * MINUTE, 3, **play("Zeta", "Nobody")),
                   cat(D2 + 12 * HOUR, 21, 0, "paid", **play("Gamma", "Xeno")),
                   event(userId="", auth="Logged Out", page="Home", sessionId=99, ts=D2 + 13 * HOUR)],
    "2018-11-03": [cat(D3 + 10 * HOUR, 22, 0, "free", **play("Beta", "Yara")),
                   cat(D3 + 18 * HOUR, 22, 1, "paid", page="Home"),
                   cat(D3 + 18 * HOUR + 5 * MINUTE, 22, 2, "paid", location="",
                       **play("Alpha", "Xeno")),
                   dan(D3 + 20 * HOUR + 30 * MINUTE, 31, 0, **play("Nope", "Nobody")),
                   dan(D3 + 20 * HOUR + 35 * MINUTE, 31, 1, **play("Alpha", "Xeno"))],
}


def at(ts: int) -> datetime:
    return datetime.utcfromtimestamp(ts / 1000)


# Worked out by hand from DAYS: 11 plays, 8 of them matched.
KNOWN_ANSWERS = {
    "time_range": [(at(D1 + 8 * HOUR), at(D3 + 20 * HOUR + 35 * MINUTE), 3)],
    "plays_by_hour": [(8, 4), (9, 1), (10, 1), (12, 1), (18, 1), (20, 3)],
    "plays_by_weekday": [(4, 4), (5, 3), (6, 4)],
    "plays_per_day": [(date(2018, 11, 1), 4), (date(2018, 11, 2), 3), (date(2018, 11, 3), 4)],
    "top_songs": [("SO1", "Alpha", "Xeno", 5), ("SO2", "Beta", "Yara", 2),
                  ("SO3", "Gamma", "Xeno", 1)],
    "top_artists": [("AR1", "Xeno", 6), ("AR2", "Yara", 2)],
    "free_vs_paid": [("free", 1, 6, 6 / 11), ("paid", 2, 5, 5 / 11)],
    "level_changes_per_day": [(date(2018, 11, 2), 1, 0), (date(2018, 11, 3), 1, 1)],
    "sessions_per_user": [(1, 1, 1), (2, 3, 2)],
    "songs_per_session": [(1, 1, 3), (2, 3, 2), (4, 7, 1)],
    "plays_by_location": [("Austin, TX", 4), ("Boston, MA", 3), ("Chicago, IL", 3), (None, 1)],
    "matched_share": [(8, 11, 8 / 11)],
    "top_unmatched_titles": [("Nope", "Nobody", 2), ("Zeta", "Nobody", 1)],
}
CAT_PERIODS = [
    ("7", "free", at(D1 + 9 * HOUR), at(D2 + 12 * HOUR)),
    ("7", "paid", at(D2 + 12 * HOUR), at(D3 + 10 * HOUR)),
    ("7", "free", at(D3 + 10 * HOUR), at(D3 + 18 * HOUR)),
    ("7", "paid", at(D3 + 18 * HOUR), None),
]
STAR = {"songplay": "SELECT start_time, user_id, level, song_id, artist_id, session_id, "
                    "item_in_session, location FROM songplay ORDER BY 1, 2",
        "users": "SELECT * FROM users ORDER BY user_id",
        "time": "SELECT * FROM time ORDER BY start_time",
        "user_level_history": "SELECT * FROM user_level_history ORDER BY user_id, valid_from"}


@pytest.fixture(scope="module")
def loaded(prefect_harness, module_databases, tmp_path_factory):
    """Days 1 and 3 loaded, then day 2 backfilled, then a rerun that finds nothing new; and
    the same days loaded at once into another warehouse. Yields both URLs and the page."""
    data = tmp_path_factory.mktemp("report-data")
    url, reference = module_databases.create(), module_databases.create()
    write_dataset(data, {day: DAYS[day] for day in ("2018-11-01", "2018-11-03")}, SONGS)
    first = elt(data=str(data), warehouse_url=SecretStr(url))
    history_before = query(url, STAR["user_level_history"])
    write_dataset(data, {"2018-11-02": DAYS["2018-11-02"]}, {}, jsonpaths=False)
    elt(data=str(data), warehouse_url=SecretStr(url), start=date(2018, 11, 2),
        end=date(2018, 11, 2))
    star_after_backfill = {table: query(url, sql) for table, sql in STAR.items()}
    rerun = elt(data=str(data), warehouse_url=SecretStr(url))
    page = Path(rerun.report_page).read_text(encoding="utf-8")
    elt(data=str(data), warehouse_url=SecretStr(reference))
    yield {"url": url, "reference": reference, "first": first, "rerun": rerun, "page": page,
           "history_before_backfill": history_before, "star_after_backfill": star_after_backfill}


# ---- the figures -------------------------------------------------------------------------

@pytest.mark.parametrize("question", QUESTIONS)
def test_every_query_gives_its_known_answer(loaded, question):
    answer = Figures.collect(PostgresWarehouse(loaded["url"])).rows(question)
    assert rounded(answer) == rounded(KNOWN_ANSWERS[question])


def rounded(rows: list[tuple]) -> list[tuple]:
    """Shares to 12 digits: a division in the warehouse, another here."""
    return [tuple(round(v, 12) if isinstance(v, float) else v for v in row) for row in rows]


def test_the_known_answers_cover_every_question():
    assert set(KNOWN_ANSWERS) == set(QUESTIONS)


def test_the_backfilled_day_splits_the_level_history_and_equals_a_full_reload(loaded):
    url = loaded["url"]
    assert [row for row in loaded["history_before_backfill"] if row[0] == "7"] == [
        ("7", "free", at(D1 + 9 * HOUR), at(D3 + 18 * HOUR)),
        ("7", "paid", at(D3 + 18 * HOUR), None)]
    assert query(url, "SELECT * FROM user_level_history WHERE user_id = '7' "
                      "ORDER BY valid_from") == CAT_PERIODS
    assert query(url, "SELECT level FROM users WHERE user_id = '7'") == [("paid",)]
    star = {table: query(url, sql) for table, sql in STAR.items()}
    assert star == {table: query(loaded["reference"], sql) for table, sql in STAR.items()}
    assert star == loaded["star_after_backfill"]  # the rerun changed nothing
    assert loaded["rerun"].staged == {}


# ---- the page, the artifact, the summary ----------------------------------------------------

class Cells(HTMLParser):
    """The text of every table cell, by the id of the section holding it."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, list[str]] = {}
        self.section = ""
        self.in_cell = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("figure", "div") and attrs.get("id"):
            self.section = attrs["id"]
        self.in_cell = tag == "td"

    def handle_endtag(self, tag):
        self.in_cell = False if tag == "td" else self.in_cell

    def handle_data(self, data):
        if self.in_cell:
            self.cells.setdefault(self.section, []).append(data)


def cells(page: str) -> dict[str, list[str]]:
    parser = Cells()
    parser.feed(page)
    return parser.cells


def test_each_chart_has_the_numbers_behind_it(loaded):
    found = cells(loaded["page"])
    hours = found["plays-by-hour"]
    assert list(zip(hours[::2], hours[1::2]))[8:10] == [("08:00", "4"), ("09:00", "1")]
    assert len(hours) == 48  # every hour, those without plays too
    assert found["plays-by-weekday"] == ["Sunday", "0", "Monday", "0", "Tuesday", "0",
                                         "Wednesday", "0", "Thursday", "4", "Friday", "3",
                                         "Saturday", "4"]
    assert found["level-changes"] == ["2018-11-01", "0", "0", "2018-11-02", "1", "0",
                                      "2018-11-03", "1", "1"]
    assert found["free-vs-paid"] == ["free", "1", "6", "54.5%", "paid", "2", "5", "45.5%"]
    assert found["sessions-per-user"] == ["1", "1", "2-3", "2"]
    assert found["plays-by-location"][-2:] == ["(no location)", "1"]
    assert found["matched-share"] == ["8", "11", "72.7%"]
    assert found["row-counts"][found["row-counts"].index("user_level_history") + 1] == "6"
    assert len(re.findall(r"<svg class=\"chart\"", loaded["page"])) == 12


def test_the_page_tops_with_the_run_its_quality_and_the_time_range(loaded):
    page = loaded["page"]
    assert "Plays covered: 2018-11-01 08:00 to 2018-11-03 20:35 UTC (3 days, 3 with plays)" in page
    assert re.search(r"Rendered <time datetime=\"[\d\-T:]+Z\">[\d\- :]+ UTC</time> by "
                     r"sparkify-elt run '[\w-]+'", page)
    assert "No checks ran: nothing new was loaded." in page  # the rerun loaded nothing
    first = Path(loaded["first"].report_page)
    assert first == REPORT_PAGE and loaded["rerun"].report_page == str(REPORT_PAGE)


def test_the_run_summary_ends_with_the_page_and_the_artifact_has_the_headline(loaded):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    assert loaded["rerun"].text().endswith(f"\n\nreport: {REPORT_PAGE}")
    assert "report" in loaded["rerun"].seconds
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["sparkify-report"])), sort=ArtifactSort.CREATED_DESC,
            limit=1)
    assert artifact.type == "markdown"
    for line in ("| plays | 11 |", "| users | 3 now (1 free, 2 paid) |",
                 "| plays matched to a song | 8 of 11 (72.7%) |",
                 "| busiest hour (UTC) | 08:00-08:59 (4 plays) |",
                 "| top song | Alpha by Xeno (5 plays) |", "| upgrades / downgrades | 2 / 1 |"):
        assert line in artifact.data


def test_a_failed_run_leaves_the_previous_page_as_it_was(loaded, tmp_path, warehouse_url):
    before = REPORT_PAGE.read_bytes()
    write_dataset(tmp_path, {"2018-11-04": [event(userId="5"), b"{not json"]}, SONGS)
    with pytest.raises(MalformedRecordError):
        elt(data=str(tmp_path), warehouse_url=SecretStr(warehouse_url))
    assert REPORT_PAGE.read_bytes() == before
    assert b"Rendered <time" in before  # its date stays visible


def test_the_report_command_renders_from_the_warehouse_as_it_is(loaded):
    from prefect.settings import PREFECT_API_URL

    page = Path(report(warehouse_url=SecretStr(loaded["url"])))
    text = page.read_text(encoding="utf-8")
    assert "by sparkify-report run" in text and "not checked by this command" in text
    assert cells(text)["matched-share"] == ["8", "11", "72.7%"]

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    done = subprocess.run([sys.executable, "flows/report.py", "--warehouse-url", loaded["url"]],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith(f"report: {REPORT_PAGE}")


def test_the_report_command_on_an_empty_warehouse_is_one_clear_line(warehouse_url):
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    done = subprocess.run([sys.executable, "flows/report.py", "--warehouse-url", warehouse_url],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(errors) == 1 and "run the ELT (flows/main.py) first" in errors[0], done.stderr


def test_an_empty_warehouse_draws_no_bar_and_the_page_shows_no_secret():
    target = PostgresWarehouse.target_from_url(
        SecretStr("postgresql://sparkify:Pw-secret-7@db.example.com/sparkify"), "public",
        dry_run=False)
    page = render(Figures({}), ReportContext(datetime(2018, 12, 1, 9, 30), "a test",
                                             target.describe(), {"songplay": 0}, None))
    charts = re.findall(r"<svg class=\"chart\".*?</svg>", page)
    assert len(charts) == 12 and all('class="no-data"' in chart for chart in charts)
    assert "Plays covered: no plays yet." in page
    assert "Pw-secret-7" not in page and "postgresql://sparkify:****@db.example.com" in page
    assert_nothing_to_fetch(page)


# ---- the page in a real browser ----------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="no headless browser: /usr/bin/chromium is absent (Debian: apt-get install chromium)")
WINDOW_WIDTH = 1400
# Injected into a copy of the page only: reads what the browser drew and fetched. The copy's
# policy still forbids every fetch; it only lets this one script run.
MEASURE = """<script nonce="measure">
const violations = [];
document.addEventListener("securitypolicyviolation", e => violations.push(e.blockedURI));
window.addEventListener("load", () => setTimeout(() => {
  const charts = [...document.querySelectorAll("figure.chart-card")].map(card => {
    const svg = card.querySelector("svg");
    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    const drawn = svg ? [...svg.querySelectorAll("rect.bar")].filter(bar => {
      const b = bar.getBBox(); return b.width > 0 && b.height > 0; }).length : 0;
    return {id: card.id, width: box.width, height: box.height, bars: drawn};
  });
  const out = document.createElement("pre");
  out.id = "measurements";
  out.textContent = JSON.stringify({charts, violations,
    resources: performance.getEntriesByType("resource").map(r => r.name),
    height: document.documentElement.scrollHeight});
  document.body.appendChild(out);
}, 200));
</script>"""


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium whose every network request would go to a closed loopback port."""
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--no-first-run",
         f"--user-data-dir={profile}", "--proxy-server=http://127.0.0.1:9",
         "--proxy-bypass-list=<-loopback>", "--hide-scrollbars", *args],
        capture_output=True, text=True, timeout=120, check=False)


@requires_chromium
def test_chromium_draws_every_chart_and_fetches_nothing(loaded, tmp_path):
    page = tmp_path / "index.html"
    page.write_text(loaded["page"], encoding="utf-8")
    assert_nothing_to_fetch(loaded["page"])

    measured_copy = tmp_path / "measured.html"
    measured_copy.write_text(loaded["page"].replace(
        "style-src 'unsafe-inline'\">", "style-src 'unsafe-inline'; script-src 'nonce-measure'\">"
        + MEASURE, 1), encoding="utf-8")
    dom = chromium(tmp_path / "profile", f"--window-size={WINDOW_WIDTH},1000",
                   "--virtual-time-budget=5000", "--dump-dom", measured_copy.as_uri())
    found = re.search(r'<pre id="measurements">(.*?)</pre>', dom.stdout, re.DOTALL)
    assert found, dom.stderr[-2000:]
    measured = json.loads(unescape(found.group(1)))

    assert measured["resources"] == [] and measured["violations"] == []
    assert len(measured["charts"]) == 12
    for chart in measured["charts"]:
        assert chart["width"] > 300 and chart["height"] >= 60, chart
        assert chart["bars"] >= 1, chart  # at least one bar with an area

    screenshot = tmp_path / "report.png"
    height = min(int(measured["height"]), 8000)
    shot = chromium(tmp_path / "profile", f"--window-size={WINDOW_WIDTH},{height}",
                    f"--screenshot={screenshot}", page.as_uri())
    assert screenshot.is_file(), shot.stderr[-2000:]
    assert png_size(screenshot) == (WINDOW_WIDTH, height)
    assert screenshot.stat().st_size > 50_000  # a page of charts, not a blank one
    shutil.copy(screenshot, REPORT_PAGE.with_name("screenshot.png"))


def assert_nothing_to_fetch(page: str) -> None:
    """The page asks for nothing: a policy forbidding every fetch, and no reference to fetch."""
    assert "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';" in page
    assert not re.search(r"<(script|link|img|iframe|object|embed|image|use)\b", page)
    assert not re.search(r"\b(src|href|srcset|xlink:href|action|poster)\s*=", page)
    assert not re.search(r"url\(|@import|https?:", page)


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])

