"""The documented periodic-job example, run exactly as written, twice, with Chromium present
(issue 27, item 7): what the two runs must show.

The example is the first console block under "The periodic job" of docs/operations.md (the
simulated web started by `python -m simweb`, the proxy variables, `govaudit run --config
examples/govaudit.toml`). tests/test_docs_examples.py follows that document as a reader
would, in a scratch folder holding a copy of `examples/` so that `../govaudit-run` is the
scratch folder's: the block's commands run once, their output compared with the docs, then
the block's job commands run a second time in the same shell, and `check_two_runs` says what
issue 27 requires of the pair. Whatever the block exports (a trusted CA with `SSL_CERT_FILE`
included) applies; the environment is otherwise the operator's, without proxy, CA or
GOVAUDIT_* settings of its own (Chromium's path, and the scratch data folder the reader's
session keeps govaudit's own state in, excepted).

Not a test module: its asserts carry their own messages, each naming the fact of issue 27.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

from crawler.a11y import CHROMIUM

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_DOC = REPO / "docs" / "operations.md"
EXAMPLE_HEADING = "## The periodic job: `govaudit run`"
DOCUMENTED_JOB = "govaudit run --config examples/govaudit.toml"
# What the reader's session may set of its own besides what the block exports.
SESSION_OWN = {"GOVAUDIT_CHROMIUM", "GOVAUDIT_DATA_DIR"}
PROXY_AND_CA = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
PROXY_AND_CA |= {"ssl_cert_file", "requests_ca_bundle"}


def example_fence_line() -> int:
    """The line (from 1) of the opening fence of the example's console block."""
    lines = EXAMPLE_DOC.read_text(encoding="utf-8").splitlines()
    heading = lines.index(EXAMPLE_HEADING)
    return next(i for i in range(heading, len(lines)) if lines[i] == "```console") + 1


def example_commands() -> list[str]:
    """The `$ ` lines of the example's console block."""
    lines = EXAMPLE_DOC.read_text(encoding="utf-8").splitlines()
    block = lines[example_fence_line() :]
    block = block[: next(i for i, line in enumerate(block) if line.startswith("```"))]
    return [line[2:] for line in block if line.startswith("$ ")]


def is_job_command(command: str) -> bool:
    """A command of the example that is the job itself: not the simulated web started in the
    background, not an `export` of its variables."""
    line = command.split(" #", 1)[0].strip()
    return not line.endswith("&") and not line.startswith("export ")


@dataclass
class JobRun:
    command: str
    exit_code: int
    output: list[str]  # stdout and stderr together, as a terminal shows them


def check_the_example() -> None:
    """The block is still the periodic job: the simulated web, then `govaudit run`."""
    commands = example_commands()
    assert any(c.startswith("python -m simweb") for c in commands), (
        f"{EXAMPLE_DOC.name}, {EXAMPLE_HEADING!r}: no `python -m simweb ... &` in {commands}"
    )
    assert DOCUMENTED_JOB in commands, (
        f"{EXAMPLE_DOC.name}, {EXAMPLE_HEADING!r}: no `{DOCUMENTED_JOB}` in {commands}"
    )


def check_operator_env(env: dict[str, str]) -> None:
    """The shell the job ran in: Chromium where the machine has it, proxy and CA only as the
    block exported them (the simulated web's), no other GOVAUDIT_* setting."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (make test installs it)"
    assert env.get("GOVAUDIT_CHROMIUM") == os.environ.get("GOVAUDIT_CHROMIUM"), (
        "the job's shell must have the machine's Chromium (GOVAUDIT_CHROMIUM) as given: "
        f"{env.get('GOVAUDIT_CHROMIUM')!r}"
    )
    own = {k for k in env if k.startswith("GOVAUDIT_")} - SESSION_OWN
    assert not own, f"GOVAUDIT_* settings not from the documented block: {sorted(own)}"
    for name in ("http_proxy", "https_proxy"):
        assert env.get(name, "").startswith("http://127.0.0.1:"), (
            f"{name} must be the simulated web's, as the block exports it: {env.get(name)!r}"
        )
    others = {k for k in env if k.lower() in PROXY_AND_CA} - {
        "http_proxy",
        "https_proxy",
        "SSL_CERT_FILE",
    }
    assert not others, f"proxy or CA settings not from the documented block: {sorted(others)}"
    ca = env.get("SSL_CERT_FILE")
    assert ca is None or Path(ca).is_file(), f"SSL_CERT_FILE is not the simulated web's CA: {ca}"


def summary(run: JobRun) -> dict[str, object]:
    """The run's JSON summary line (its last line on stdout)."""
    lines = [line for line in run.output if line.startswith("{")]
    assert lines, f"run `{run.command}` printed no JSON summary:\n" + "\n".join(run.output[-40:])
    found: dict[str, object] = json.loads(lines[-1])
    return found


def check_two_runs(first: JobRun, second: JobRun, scratch: Path, env: dict[str, str]) -> None:
    """Issue 27's facts about the documented job run twice in the same shell and folder."""
    for number, run in ((1, first), (2, second)):
        tail = "\n".join(run.output[-60:])
        assert run.exit_code == 0, f"run {number} of `{run.command}` exit {run.exit_code}:\n{tail}"
        assert not any("Traceback" in line for line in run.output), (
            f"run {number} of `{run.command}` printed a traceback:\n{tail}"
        )
    one, two = summary(first), summary(second)
    for number, facts in ((1, one), (2, two)):
        got = (facts.get("run"), facts.get("status"), facts.get("failed_steps"))
        assert got == (number, "done", []), (
            f"run {number}: (run, status, failed_steps) is {got}, not ({number}, 'done', [])"
        )
    assert any("run 2: started at step registry" in line for line in second.output), (
        "the second run must be a new run from the registry step, not a resumed one:\n"
        + "\n".join(second.output[:5])
    )
    out = scratch / "govaudit-run"
    reports = [Path(str(one["report"])), Path(str(two["report"]))]
    assert reports[0] != reports[1], f"both runs wrote the same report {reports[0]}"
    assert all(r.is_file() for r in reports), f"a report is missing: {reports}"
    latest = (out / "latest").resolve()
    assert latest == reports[1].parent, f"latest is {latest}, not the second run's report"

    db = sqlite3.connect(out / "govaudit.db")
    try:
        a11y_runs = [
            json.loads(state)["a11y_run"]
            for (state,) in db.execute("select state from job_run order by id")
        ]
        assert len(set(a11y_runs)) == 2, f"one accessibility run per job run: {a11y_runs}"
        trusted = bool(env.get("SSL_CERT_FILE"))
        for run in a11y_runs:
            check_a11y_run(db, run, trusted)
    finally:
        db.close()

    page = BeautifulSoup((out / "latest" / "accessibility.html").read_text(), "lxml")
    text = " ".join(page.get_text(" ", strip=True).split())
    assert "No accessibility check yet" not in text, "the Accessibility page shows no check"
    assert f"Run {a11y_runs[1]}" in text, f"the Accessibility page is not run {a11y_runs[1]}'s"
    impacts = {
        tr.find("th").get_text(strip=True): int(tr.find("td").get_text(strip=True))
        for tr in page.find(id="a11y-impacts-table").find("tbody").find_all("tr")
    }
    assert sum(impacts.values()) >= 2, f"the Accessibility page's impacts: {impacts}"
    if trusted:
        # The demo world plants one axe-core violation of each impact.
        missing = [
            name
            for name in ("minor", "moderate", "serious", "critical")
            if impacts.get(name, 0) < 1
        ]
        assert not missing, f"no {missing} violation on the Accessibility page: {impacts}"


def check_a11y_run(db: sqlite3.Connection, run: int, trusted: bool) -> None:
    """One accessibility check per crawled page of the run, with the roles it plays."""
    rows = {
        url: (json.loads(roles), state)
        for url, roles, state in db.execute(
            "select url, roles, state from a11y_check where run_id = ?", (run,)
        )
    }
    states = dict(
        db.execute("select state, count(*) from crawl_task where run_id = ? group by state", (run,))
    )
    assert states == {"done": len(rows)}, (
        f"a11y run {run}: {len(rows)} pages checked, tasks of the run by state {states}"
    )
    # nsf.gov answers only on plain http; its /open page is also its plan: one check.
    expected = {
        "http://www.nsf.gov/": (["homepage"], "checked"),
        "http://www.nsf.gov/open": (["open", "plan"], "checked"),
    }
    if trusted:  # the documented commands trust the simulated web's CA
        expected["https://www.usda.gov/open"] = (["open", "plan"], "checked")
        seen = {state for _, state in rows.values()}
        assert seen == {"checked"}, f"a11y run {run}: pages by state {seen}: {rows}"
    for url, want in expected.items():
        assert rows.get(url) == want, f"a11y run {run}: {url} is {rows.get(url)}, not {want}"
