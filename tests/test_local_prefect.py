"""The kept local Prefect server (sparkify/local_prefect.py): started once per PREFECT_HOME,
found by the commands after it, replaced when stale, and stopped when idle. Real servers."""

from __future__ import annotations

import contextvars
import json
import threading

import httpx
import psutil
import pytest
from prefect.settings import PREFECT_HOME, temporary_settings

from sparkify import local_prefect
from sparkify.local_prefect import STATE_FILE, kept_server_url, stop_kept_server


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "prefect-home"
    with temporary_settings(updates={PREFECT_HOME: str(home)}):
        yield home
    stop_kept_server(home)


def state_of(home) -> dict:
    return json.loads((home / STATE_FILE).read_text())


def test_the_first_command_starts_it_and_the_next_one_finds_it(home):
    first = kept_server_url()
    assert httpx.get(f"{first}/health", timeout=10).status_code == 200
    pid = state_of(home)["pid"]
    assert kept_server_url() == first and state_of(home)["pid"] == pid
    assert stop_kept_server(home)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_two_commands_at_once_share_one_server(home):
    urls: list[str] = []
    threads = [threading.Thread(target=contextvars.copy_context().run,  # this test's PREFECT_HOME
                                args=(lambda: urls.append(kept_server_url()),))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(urls) == 2 and urls[0] == urls[1] == state_of(home)["url"]


def test_a_dead_or_foreign_server_is_replaced(home):
    first = kept_server_url()
    old = state_of(home)
    stale = {**old, "identity": {**old["identity"], "prefect": "0.0.0"}}
    (home / STATE_FILE).write_text(json.dumps(stale))
    second = kept_server_url()  # another Prefect version's server: stopped, and a new one
    assert second != first and state_of(home)["pid"] != old["pid"]
    assert not psutil.pid_exists(old["pid"]) or \
        psutil.Process(old["pid"]).status() == psutil.STATUS_ZOMBIE
    (home / STATE_FILE).write_text(json.dumps({**state_of(home), "pid": 1, "url": first}))
    assert kept_server_url() != first  # an address nothing answers on: a new server


def test_it_stops_itself_when_idle(home, monkeypatch):
    monkeypatch.setenv(local_prefect.IDLE_ENV, "0.05")  # 3 s
    kept_server_url()
    process = psutil.Process(state_of(home)["pid"])
    process.wait(timeout=60)  # raises if it is still serving


def test_a_bad_setting_is_a_clear_error(home, monkeypatch):
    monkeypatch.setenv(local_prefect.MODE_ENV, "forever")
    with pytest.raises(ValueError, match="SPARKIFY_PREFECT_SERVER='forever': expected one of"):
        with local_prefect.local_api():
            pass
    monkeypatch.setenv(local_prefect.MODE_ENV, "kept")
    monkeypatch.setenv(local_prefect.IDLE_ENV, "soon")
    with pytest.raises(ValueError, match="SPARKIFY_PREFECT_IDLE_MINUTES='soon'"):
        kept_server_url()
