"""The local Prefect server (sparkify/local_prefect.py): kept per PREFECT_HOME and Prefect
version, found by the commands after it, shared by every install, stopped when idle; or one per
command, ending with it. Real servers."""

from __future__ import annotations

import contextvars
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import psutil
import pytest
from prefect.settings import PREFECT_HOME, PREFECT_SERVER_DATABASE_CONNECTION_URL, temporary_settings

from sparkify import local_prefect
from sparkify.local_prefect import STATE_GLOB, kept_server_url, stop_kept_server
from tests.conftest import PROJECT_ROOT


@pytest.fixture
def home(tmp_path):
    """A Prefect home of this test's, with its own database as a command there has: not the
    database of Prefect's test harness, which other modules' tests may have started in this
    process (a command in the same home would then have another server identity)."""
    home = tmp_path / "prefect-home"
    with temporary_settings(updates={PREFECT_HOME: str(home)},
                            restore_defaults={PREFECT_SERVER_DATABASE_CONNECTION_URL}):
        yield home
    stop_kept_server(home)


def states_of(home) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(home.glob(STATE_GLOB))]


def ended(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_the_first_command_starts_it_and_the_next_one_finds_it(home):
    first = kept_server_url()
    assert httpx.get(f"{first}/health", timeout=10).status_code == 200
    [state] = states_of(home)
    assert kept_server_url() == first and states_of(home) == [state]
    assert stop_kept_server(home)
    assert ended(state["pid"])


def test_two_commands_at_once_share_one_server(home):
    urls: list[str] = []
    threads = [threading.Thread(target=contextvars.copy_context().run,  # this test's PREFECT_HOME
                                args=(lambda: urls.append(kept_server_url()),))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(urls) == 2 and urls[0] == urls[1] == states_of(home)[0]["url"]


def another_install(tmp_path: Path) -> str:
    """The Python of another venv with the same packages, as a second checkout has."""
    venv = Path(sys.prefix)
    other = tmp_path / "other-venv"
    (other / "bin").mkdir(parents=True)
    (other / "pyvenv.cfg").write_text((venv / "pyvenv.cfg").read_text())
    (other / "bin" / "python").symlink_to(Path(sys.executable).resolve())
    (other / "lib").symlink_to(venv / "lib")
    return str(other / "bin" / "python")


def test_a_server_in_use_is_never_stopped_by_another_install(home, tmp_path):
    """Two checkouts (a venv each) sharing ~/.prefect stopped each other's server mid-run: the
    runs failed with `Failed to reach API` or `Connection refused`, more often on a busy
    machine. Another install of the same Prefect version shares the server."""
    url = kept_server_url()
    [state] = states_of(home)
    env = {**os.environ, "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    python = another_install(tmp_path)
    other = subprocess.run([python, "-c", "import sys; "
                            "from sparkify.local_prefect import kept_server_url; "
                            "print(sys.executable, kept_server_url())"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert other.returncode == 0, other.stderr[-2000:]
    assert other.stdout.split() == [python, url]
    assert httpx.get(f"{url}/health", timeout=10).status_code == 200
    assert states_of(home) == [state]


def test_a_server_that_died_is_replaced(home):
    first = kept_server_url()
    psutil.Process(states_of(home)[0]["pid"]).kill()
    second = kept_server_url()
    assert second != first and httpx.get(f"{second}/health", timeout=10).status_code == 200


def test_the_server_of_another_prefect_version_is_left_alone(home):
    first = kept_server_url()
    [path] = home.glob(STATE_GLOB)
    path.rename(path.with_name("sparkify-server-0123456789abcdef.json"))  # as another version's
    second = kept_server_url()  # one for this version, beside it
    assert second != first and httpx.get(f"{first}/health", timeout=10).status_code == 200
    pids = [state["pid"] for state in states_of(home)]
    assert stop_kept_server(home) and len(pids) == 2 and all(map(ended, pids))


def test_it_stops_itself_when_idle(home, monkeypatch):
    monkeypatch.setenv(local_prefect.IDLE_ENV, "0.05")  # 3 s
    kept_server_url()
    psutil.Process(states_of(home)[0]["pid"]).wait(timeout=60)  # raises if it is still serving


def test_a_commands_own_server_ends_with_it(tmp_path):
    """SPARKIFY_PREFECT_SERVER=temporary: a server of the command's own, which ends with the
    command, even one killed outright."""
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "home"), "SPARKIFY_PREFECT_SERVER": "temporary"}
    env.pop("PREFECT_API_URL", None)
    command = subprocess.Popen(
        [sys.executable, "-c", "import os, sys\nfrom sparkify.local_prefect import local_api\n"
         "with local_api() as url:\n    print(os.getpid(), url, flush=True)\n    sys.stdin.read()"],
        cwd=PROJECT_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    _, url = command.stdout.readline().split()
    [server] = psutil.Process(command.pid).children()
    assert httpx.get(f"{url}/health", timeout=10).status_code == 200
    command.kill()
    command.wait()
    server.wait(timeout=30)


def test_the_server_is_set_as_prefect_sets_its_temporary_server():
    """SERVER_ENV copies what Prefect sets for its own temporary server (no UI, no scheduler):
    this fails when a Prefect upgrade changes it."""
    import inspect

    from prefect.server.api.server import SubprocessASGIServer

    from sparkify.local.prefect_server import SERVER_ENV

    source = inspect.getsource(SubprocessASGIServer._run_uvicorn_command)
    assert [name for name, value in SERVER_ENV.items() if f'"{name}": "{value}"' not in source] == []
    assert source.count('": "') == len(SERVER_ENV)  # and nothing more


def test_a_bad_setting_is_a_clear_error(home, monkeypatch):
    monkeypatch.setenv(local_prefect.MODE_ENV, "forever")
    with pytest.raises(ValueError, match="SPARKIFY_PREFECT_SERVER='forever': expected one of"):
        with local_prefect.local_api():
            pass
    monkeypatch.setenv(local_prefect.MODE_ENV, "kept")
    monkeypatch.setenv(local_prefect.IDLE_ENV, "soon")
    with pytest.raises(ValueError, match="SPARKIFY_PREFECT_IDLE_MINUTES='soon'"):
        kept_server_url()
