"""The documented periodic-job example (docs/operations.md, once the README's), run exactly as
written, twice, with Chromium present (issue 27, item 7): the commands of the console block
under "The periodic job" (the
simulated web started by `python -m simweb`, the proxy variables, `govaudit run --config
examples/govaudit.toml`), in a scratch copy of the checkout's `examples/` and demo seeds so
that `../govaudit-run` is the scratch folder's. Whatever the block exports (a trusted CA
with `SSL_CERT_FILE` included) applies; the environment is otherwise the operator's, without
proxy, CA or GOVAUDIT_* settings of its own (Chromium's path excepted).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from crawler.a11y import CHROMIUM

pytestmark = [pytest.mark.integration, pytest.mark.browser]

REPO = Path(__file__).resolve().parent.parent
DOCUMENTED_PORT = "8899"


EXAMPLE_DOC = REPO / "docs" / "operations.md"
EXAMPLE_HEADING = "## The periodic job: `govaudit run`"


def readme_commands() -> list[str]:
    """The `$ ` lines of the first console block of the documented periodic-job section."""
    text = EXAMPLE_DOC.read_text(encoding="utf-8")
    section = text[text.index(EXAMPLE_HEADING) :]
    block = section[section.index("```console") + len("```console") :]
    block = block[: block.index("```")]
    return [line[2:] for line in block.splitlines() if line.startswith("$ ")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def operator_env() -> dict[str, str]:
    """A shell as an operator has it: this venv first on PATH, no proxy, CA or govaudit
    settings (the example sets what it needs), Chromium where the machine has it."""
    dropped = ("http_proxy", "https_proxy", "ssl_cert_file", "requests_ca_bundle", "no_proxy")
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in dropped and not k.startswith("GOVAUDIT_")
    }
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    if os.environ.get("GOVAUDIT_CHROMIUM"):
        env["GOVAUDIT_CHROMIUM"] = os.environ["GOVAUDIT_CHROMIUM"]
    return env


def exported(command: str, env: dict[str, str], cwd: Path) -> dict[str, str]:
    """The environment after an `export ...` line, as bash leaves it."""
    out = subprocess.run(
        ["bash", "-c", f"{command}\nenv -0"],
        env=env,
        cwd=cwd,
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout.decode()
    return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


def wait_for_port(port: int, proc: subprocess.Popen[bytes], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the simulated web exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port}")


@pytest.mark.timeout(1800)
def test_the_readme_periodic_job_example_twice_with_chromium(tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (make test installs it)"
    commands = readme_commands()
    assert any(c.startswith("python -m simweb") for c in commands), commands
    assert "govaudit run --config examples/govaudit.toml" in commands, commands
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO / "examples", checkout / "examples")
    shutil.copytree(REPO / "simweb" / "demo" / "seeds", checkout / "simweb" / "demo" / "seeds")
    port = free_port()
    env = operator_env()
    simweb_log = tmp_path / "simweb.out"
    background: list[subprocess.Popen[bytes]] = []
    runs: list[subprocess.CompletedProcess[str]] = []
    try:
        jobs: list[str] = []
        for command in (c.replace(DOCUMENTED_PORT, str(port)) for c in commands):
            line = command.split(" #", 1)[0].strip()
            if line.endswith("&"):
                with simweb_log.open("wb") as out:
                    background.append(
                        subprocess.Popen(
                            ["bash", "-c", line.rstrip("&").strip()],
                            env=env,
                            cwd=checkout,
                            stdout=out,
                            stderr=subprocess.STDOUT,
                            start_new_session=True,
                        )
                    )
                wait_for_port(port, background[-1])
            elif line.startswith("export "):
                env = exported(line, env, checkout)
                ca = env.get("SSL_CERT_FILE")
                if ca and not Path(ca).is_file():
                    # The docs show an example path: the reader exports the one simweb printed.
                    printed = re.search(r"(/\S*?simweb-ca\.pem)", simweb_log.read_text())
                    assert printed, simweb_log.read_text()
                    env["SSL_CERT_FILE"] = printed.group(1)
            else:
                jobs.append(line)
        for _ in range(2):
            for line in jobs:
                runs.append(
                    subprocess.run(
                        ["bash", "-c", line],
                        env=env,
                        cwd=checkout,
                        capture_output=True,
                        text=True,
                        timeout=900,
                        check=False,
                    )
                )
    finally:
        for proc in background:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)

    first, second = runs[-2], runs[-1]
    for result in (first, second):
        assert result.returncode == 0, result.stderr[-4000:]
        assert "Traceback" not in result.stderr
    one, two = (json.loads(r.stdout.strip().splitlines()[-1]) for r in (first, second))
    assert (one["run"], one["status"], one["failed_steps"]) == (1, "done", [])
    assert (two["run"], two["status"], two["failed_steps"]) == (2, "done", [])
    assert "run 2: started at step registry" in second.stderr  # a new run, not a resumed one
    out = checkout / "govaudit-run"
    reports = [Path(one["report"]), Path(two["report"])]
    assert reports[0] != reports[1] and all(r.is_file() for r in reports)
    assert (out / "latest").resolve() == reports[1].parent

    db = sqlite3.connect(out / "govaudit.db")
    a11y_runs = [
        json.loads(state)["a11y_run"]
        for (state,) in db.execute("select state from job_run order by id")
    ]
    assert len(set(a11y_runs)) == 2
    trusted = bool(env.get("SSL_CERT_FILE"))
    for run in a11y_runs:
        rows = {
            url: (json.loads(roles), state)
            for url, roles, state in db.execute(
                "select url, roles, state from a11y_check where run_id = ?", (run,)
            )
        }
        states = dict(
            db.execute(
                "select state, count(*) from crawl_task where run_id = ? group by state", (run,)
            )
        )
        assert states == {"done": len(rows)}
        # nsf.gov answers only on plain http; its /open page is also its plan: one check.
        assert rows["http://www.nsf.gov/"] == (["homepage"], "checked")
        assert rows["http://www.nsf.gov/open"] == (["open", "plan"], "checked")
        if trusted:  # the documented commands trust the simulated web's CA
            assert {state for _, state in rows.values()} == {"checked"}
            assert rows["https://www.usda.gov/open"] == (["open", "plan"], "checked")

    page = BeautifulSoup((out / "latest" / "accessibility.html").read_text(), "lxml")
    text = " ".join(page.get_text(" ", strip=True).split())
    assert "No accessibility check yet" not in text
    assert f"Run {a11y_runs[1]}" in text
    impacts = {
        tr.find("th").get_text(strip=True): int(tr.find("td").get_text(strip=True))
        for tr in page.find(id="a11y-impacts-table").find("tbody").find_all("tr")
    }
    assert sum(impacts.values()) >= 2
    if trusted:
        # The demo world plants one axe-core violation of each impact.
        assert all(impacts[name] >= 1 for name in ("minor", "moderate", "serious", "critical"))
