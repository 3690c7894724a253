"""The documentation's console examples run as tests (issue 28.5): the docs are the contract.

Every fenced ```console block of README.md, CONTRIBUTING.md and docs/**/*.md is an example a
reader can follow, and this test follows it against the demo world:

- A line starting with `$ ` is a command (run by bash; a line ending with `\\` goes on at the
  next). The lines after it, up to the next command, are its output: stdout and stderr
  together, as a terminal shows them. It must exit 0, unless the command ends with a comment
  `# exit N`.
- The output must be the same, line for line, except:
  - a line `...` stands for any number of lines (none included);
  - `...` inside a line stands for any text (a path, a long list);
  - example values, marked by an HTML comment on the line before the block's fence:
    `<!-- example values: times -->` lets clock times, dates of the run and durations
    (`54.1 s`, `"seconds": 71.2`) differ; `<!-- example values: numbers -->` lets every
    number differ. Nothing else may: counts, columns, status words and JSON keys are checked.
- `python -m simweb ... &` is the test's own simulated web: started with the example's
  options on a free port (the documented port is an example value), its own startup lines
  are the output. In `export` lines, the variables simweb's printed line sets (`http_proxy`,
  `https_proxy`, `SSL_CERT_FILE`) take that simulated web's values, as a reader pastes them.
- Each document is one reader's session: its blocks run in order in a scratch folder holding
  a copy of `examples/` and the repository's `simweb/` and `seeds/`, sharing the shell's
  variables and working directory (a block that crawls leaves its database to the next), so
  the demo world is crawled once per example that crawls, never per command.
- The periodic-job example of docs/operations.md (issue 27, item 7) is run as written whatever
  its output, then its `govaudit run` a second time in the same shell and folder, and
  `test_the_periodic_job_example_twice_with_chromium` checks the two runs
  (tests/periodic_job_example.py): the documented job runs twice in the suite, not three times.

Blocks of commands that are not examples (```sh, ```shell, ```bash, ```cron, ```ini) are
listed in NOT_RUN with the reason; a new one fails `test_every_command_block_is_run_or_listed`
until it is a console example or listed. When an output changes, the docs change with it, in
the same commit (CONTRIBUTING.md, "How to add or change a docs example").
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.periodic_job_example import (
    EXAMPLE_DOC,
    JobRun,
    check_operator_env,
    check_the_example,
    check_two_runs,
    example_fence_line,
    is_job_command,
)

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def documents() -> list[Path]:
    found = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted(REPO.glob("docs/**/*.md"))]
    return [p for p in found if p.is_file()]


# Blocks of commands that are not run, and why: a text each block contains, once.
NOT_RUN = {
    "make demo   # installs govaudit": "the set-up itself: `make demo` and `make test` install "
    "the venv and system packages (apt); `.ci/run` runs exactly these, and `make wheel-check` "
    "runs the demo from a built wheel",
    "0 3 * * 1  GOVAUDIT_DB=": "a crontab line: cron and a PostgreSQL server of one's own; the "
    "command it runs is the `govaudit run` example",
    "Description=govaudit periodic audit of the .gov web": "a systemd unit (root, systemd)",
    "Description=Weekly govaudit run": "a systemd timer (root, systemd)",
    "Description=govaudit crawl worker": "a systemd unit (root, systemd, PostgreSQL)",
    "govaudit evidence 42 --out evidence-42.warc.gz": "needs jq, a finding id and a file name "
    "of one particular crawl; tests/test_warc.py runs `evidence --out` and reads the records "
    "back with warcio",
    "sudo useradd --system": "system administration as root on another machine (useradd, "
    "systemctl); tests/test_distributed*.py run `govaudit worker` processes",
    "$EDITOR draft.toml": "interactive ($EDITOR); tests/test_guidelines_crawl.py runs "
    "`guidelines --policy` and `--compare` on drafts",
    "curl -x http://127.0.0.1:8899 http://www.nsf.gov/": "curl against the simulated web: "
    "tests/test_simweb.py makes the same requests",
    ".venv/bin/pytest tests/test_report_html.py": "runs tests: the suite runs them itself",
    "--archive https://web.archive.org/web/": "reads the Wayback Machine over the internet; "
    "tests/test_archive_replay.py crawls a pywb archive of the simulated web the same way",
    "govaudit rdap            # each domain's registration date": "asks the real registry's "
    "RDAP service over the internet; tests/test_rdap.py asks a simulated one",
    "govaudit crawl                  # every federal domain's site": "crawls the real .gov web "
    "over the internet; the demo world's crawl, DNS and report are run in docs/operations.md",
    "make install-test                        # once": "the dev loop itself: installs the venvs "
    "and system packages and runs tests",
    "from alembic.script import ScriptDirectory": "prints the migration head, which changes with "
    "every migration; tests/test_sqlite_schema.py checks the recorded schema",
}
COMMAND_LANGS = {"sh", "shell", "bash", "cron", "ini", "console"}

# Examples that fail today for a reason another issue fixes: the command (a text it
# contains) and why. The test fails when such an example passes, so that the entry goes.
KNOWN_FAILING: dict[str, str] = {}

SIMWEB_SETS = ("http_proxy", "https_proxy", "SSL_CERT_FILE")
EXIT_MARK = re.compile(r"#\s*exit\s+(\d+)\s*$")
EXAMPLE_MARK = re.compile(r"<!--\s*example values:\s*([\w ,]+?)\s*-->")
TIMES = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:?\d\d:?\d\d(?:\.\d+)?Z"), "<time>"),
    (re.compile(r"\b\d+(?:\.\d+)? s\b"), "<n> s"),
    (re.compile(r'"seconds": \d+(?:\.\d+)?'), '"seconds": <n>'),
]
NUMBERS = [(re.compile(r"\d+(?:\.\d+)?"), "<n>")]
# Shell state that is not the reader's: never carried from one command to the next.
SHELL_OWN = {"_", "SHLVL", "PWD", "OLDPWD"}


@dataclass
class Command:
    text: str
    line: int
    expected: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        found = EXIT_MARK.search(self.text)
        return int(found.group(1)) if found else 0


@dataclass
class Block:
    doc: Path
    line: int  # of the opening fence
    lang: str
    lines: list[str]
    examples: set[str]  # the kinds of example values marked

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(REPO)}:{self.line}"

    def commands(self) -> list[Command]:
        out: list[Command] = []
        continuing = False
        for number, line in enumerate(self.lines, self.line + 1):
            if continuing:
                out[-1].text += "\n" + line.removeprefix("> ")
            elif line.startswith("$ "):
                out.append(Command(line[2:], number))
            elif out:
                out[-1].expected.append(line)
            continuing = bool(out) and out[-1].text.endswith("\\")
        return out


def blocks(doc: Path) -> list[Block]:
    found: list[Block] = []
    lines = doc.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("```"):
            i += 1
            continue
        start, lang = i, lines[i][3:].strip()
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines))
        mark = EXAMPLE_MARK.search(lines[i - 1]) if i else None
        kinds = {k.strip() for k in re.split(r"[ ,]+", mark.group(1))} - {""} if mark else set()
        found.append(Block(doc, start + 1, lang, lines[start + 1 : end], kinds))
        i = end + 1
    return found


def normalised(lines: list[str], kinds: set[str]) -> list[str]:
    rules = (TIMES if "times" in kinds else []) + (NUMBERS if "numbers" in kinds else [])
    out = []
    for line in lines:
        for pattern, replacement in rules:
            line = pattern.sub(replacement, line)
        out.append(line.rstrip())
    while out and not out[-1]:
        out.pop()
    return out


def output_matches(expected: list[str], actual: list[str], kinds: set[str]) -> bool:
    """`actual` is what `expected` documents (the module docstring's convention)."""
    pattern = []
    for line in normalised(expected, kinds):
        if line.strip() == "...":
            pattern.append(r"(?:.*\n)*?")
        else:
            pattern.append(".*?".join(re.escape(part) for part in line.split("...")) + r"\n")
    text = "".join(f"{line}\n" for line in normalised(actual, kinds))
    return re.fullmatch("".join(pattern), text) is not None


# -- running a document as a reader would ------------------------------------------------------


class SimulatedWebProcess:
    """`python -m simweb ARGS` on a free port: its startup lines, then its output drained."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.documented_port: str | None = None
        run_args = list(args)
        if "--port" in run_args:
            at = run_args.index("--port") + 1
            self.documented_port, run_args[at] = run_args[at], "0"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simweb", *run_args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        self.startup: list[str] = []
        for line in self.proc.stdout:
            self.startup.append(line.rstrip("\n"))
            if line.startswith("simweb: try"):
                break
        else:
            raise AssertionError(f"python -m simweb {shlex.join(args)}: {self.startup}")
        export = next(line for line in self.startup if line.startswith("export "))
        self.env = dict(word.split("=", 1) for word in shlex.split(export)[1:])
        self.port = self.env["http_proxy"].rsplit(":", 1)[1]
        # Request lines (without --quiet) must not fill the pipe and stall the server.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def shown(self) -> list[str]:
        """The startup lines, with the documented port where the free one is."""
        if self.documented_port is None:
            return self.startup
        return [
            line.replace(f"127.0.0.1:{self.port}", f"127.0.0.1:{self.documented_port}")
            for line in self.startup
        ]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


class ReaderSession:
    """One reader's shell: variables and working directory carried from command to command."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.cwd = scratch
        self.simwebs: dict[tuple[str, ...], SimulatedWebProcess] = {}
        keep = {"GOVAUDIT_CHROMIUM"}  # the machine's browser, as `make test` sets it
        # COLUMNS too: the documented tables are as printed to a wide terminal or a file.
        drop = {"http_proxy", "https_proxy", "no_proxy", "all_proxy", "ssl_cert_file"}
        drop |= {"requests_ca_bundle", "columns"}
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k.lower() not in drop and (not k.startswith("GOVAUDIT_") or k in keep)
        }
        self.env["PATH"] = f"{VENV_BIN}{os.pathsep}{self.env.get('PATH', '')}"
        # State govaudit writes itself stays in the scratch folder, not the user's home.
        self.env["GOVAUDIT_DATA_DIR"] = str(scratch / ".data")
        # Lines in the order a terminal shows them.
        self.env["PYTHONUNBUFFERED"] = "1"

    def run(self, command: Command) -> tuple[int, list[str]]:
        text = EXIT_MARK.sub("", command.text).strip()
        words = shlex.split(text, comments=True)
        if words[:3] == ["python", "-m", "simweb"] and words[-1] == "&":
            key = tuple(words[3:-1])
            if key not in self.simwebs:
                self.simwebs[key] = SimulatedWebProcess(list(key), self.cwd, self.env)
            return 0, self.simwebs[key].shown()
        if text.endswith("&"):
            raise AssertionError(f"background command not supported here: {text}")
        state = self.scratch / ".shell-state"
        # The shell's state is kept however the command ends (`exit N` included).
        keep = f'__rc=$?; env -0 > "{state}.env"; pwd > "{state}.pwd"; exit $__rc'
        script = f"trap {shlex.quote(keep)} EXIT\n{text}\n"
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=900,
            check=False,
        )
        pairs = Path(f"{state}.env").read_text().split("\0")
        self.env = dict(
            p.split("=", 1) for p in pairs if "=" in p and p.split("=")[0] not in SHELL_OWN
        )
        self.cwd = Path(Path(f"{state}.pwd").read_text().strip())
        for web in self.simwebs.values():
            for name in SIMWEB_SETS:
                if name in self.env:
                    self.env[name] = web.env[name]
        return done.returncode, done.stdout.splitlines()

    def close(self) -> None:
        for web in self.simwebs.values():
            web.stop()


def scratch_folder(tmp: Path) -> Path:
    shutil.copytree(REPO / "examples", tmp / "examples")
    for name in ("simweb", "seeds"):
        (tmp / name).symlink_to(REPO / name, target_is_directory=True)
    return tmp


@dataclass
class Failure:
    where: str
    command: str
    message: str
    known: str | None


@dataclass
class PeriodicJob:
    """The periodic-job example of docs/operations.md as the reader's session ran it: its job
    commands' first runs (compared with the docs) and second runs (in the same shell and
    folder), and what issue 27 requires of the pair (None: all of it holds)."""

    first: list[JobRun] = field(default_factory=list)
    second: list[JobRun] = field(default_factory=list)
    problem: Exception | None = None


@dataclass
class Followed:
    failures: list[Failure]
    passed_known: list[str]  # known-failing examples that passed
    job: PeriodicJob | None  # docs/operations.md's periodic-job example, once it has run


def follow(doc: Path, session: ReaderSession) -> Followed:
    """Run every console block of `doc` in order. The periodic-job example's block is run as
    written whatever its output (issue 27 requires the job to run as documented), then its
    job commands a second time and the pair checked."""
    failures: list[Failure] = []
    passed_known: list[str] = []
    job: PeriodicJob | None = None
    for block in blocks(doc):
        if block.lang != "console":
            continue
        is_job_block = doc == EXAMPLE_DOC and block.line == example_fence_line()
        ran_jobs: list[tuple[Command, JobRun]] = []
        for command in block.commands():
            where = f"{doc.relative_to(REPO)}:{command.line}"
            known = next((why for key, why in KNOWN_FAILING.items() if key in command.text), None)
            code, actual = session.run(command)
            if is_job_block and is_job_command(command.text):
                ran_jobs.append((command, JobRun(command.text, code, actual)))
            problems = []
            if code != command.exit_code:
                problems.append(f"exit {code}, documented {command.exit_code}")
            if not output_matches(command.expected, actual, block.examples):
                diff = difflib.unified_diff(
                    normalised(command.expected, block.examples),
                    normalised(actual, block.examples),
                    "documented",
                    "actual",
                    lineterm="",
                    n=1,
                )
                problems.append("output differs:\n" + "\n".join(list(diff)[:60]))
            if problems:
                failures.append(Failure(where, command.text, "; ".join(problems), known))
                if not is_job_block:
                    break  # the block's next commands build on this one
            elif known is not None:
                passed_known.append(f"{where}: `{command.text}`")
        if ran_jobs:
            job = PeriodicJob(first=[run for _, run in ran_jobs])
            for command, _ in ran_jobs:
                job.second.append(JobRun(command.text, *session.run(command)))
            # Checked now, before the document's next blocks run in the same folder.
            try:
                check_operator_env(session.env)
                check_two_runs(job.first[-1], job.second[-1], session.scratch, session.env)
            except Exception as problem:  # reported by the periodic-job test
                job.problem = problem
    return Followed(failures, passed_known, job)


def console_documents() -> list[Path]:
    return [d for d in documents() if any(b.lang == "console" for b in blocks(d))]


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Followed]:
    """Each document's reader session, followed once for this module's tests: the periodic-job
    test reads the job runs of the docs/operations.md session (the documented job runs twice
    in the suite, not three times). A session that raised raises again, without re-running."""
    done: dict[Path, Followed | Exception] = {}

    def follow_once(doc: Path) -> Followed:
        if doc not in done:
            session = ReaderSession(scratch_folder(tmp_path_factory.mktemp("reader")))
            try:
                done[doc] = follow(doc, session)
            except Exception as problem:
                done[doc] = problem
            finally:
                session.close()
        found = done[doc]
        if isinstance(found, Exception):
            raise found
        return found

    return follow_once


@pytest.mark.integration
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("doc", console_documents(), ids=lambda d: str(d.relative_to(REPO)))
def test_console_examples_do_what_the_docs_show(
    doc: Path, followed: Callable[[Path], Followed]
) -> None:
    found = followed(doc)
    failures = found.failures
    report = [f"{f.where}: `{f.command}`: {f.message}" for f in failures if f.known is None]
    report += [f"{p} passes now: remove its KNOWN_FAILING entry" for p in found.passed_known]
    assert not report, "\n\n".join(report)
    if failures:
        pytest.xfail(
            "; ".join(f"{f.where}: {f.message.splitlines()[0]} ({f.known})" for f in failures)
        )


@pytest.mark.integration
@pytest.mark.browser
@pytest.mark.timeout(1800)
def test_the_periodic_job_example_twice_with_chromium(
    followed: Callable[[Path], Followed],
) -> None:
    """Issue 27, item 7: the periodic-job example of docs/operations.md, run exactly as
    written, twice, with Chromium present (tests/periodic_job_example.py says what the two
    runs must show). The runs are those of docs/operations.md's reader session: the first
    is compared with the docs by the test above, the second follows it in the same shell."""
    check_the_example()
    found = followed(EXAMPLE_DOC)
    shown = "\n".join(f"{f.where}: `{f.command}`: {f.message}" for f in found.failures)
    assert found.job is not None, f"the periodic-job example did not run its job:\n{shown}"
    if found.job.problem is not None:
        raise found.job.problem


# -- the convention itself ---------------------------------------------------------------------


def test_every_command_block_is_run_or_listed() -> None:
    """A block of commands is a console example (run above) or listed in NOT_RUN with why;
    every NOT_RUN and KNOWN_FAILING entry names exactly one block of today's docs."""
    every = [b for d in documents() for b in blocks(d)]
    assert any(b.lang == "console" for b in every)
    unlisted = []
    for block in every:
        if block.lang not in COMMAND_LANGS or block.lang == "console":
            continue
        text = "\n".join(block.lines)
        if not any(key in text for key in NOT_RUN):
            unlisted.append(f"{block.where} ```{block.lang}: {block.lines[:1]}")
    assert unlisted == [], "make these console examples, or list them in NOT_RUN with why"
    for key in NOT_RUN:
        holders = [b.where for b in every if key in "\n".join(b.lines)]
        assert len(holders) == 1, f"NOT_RUN {key!r} is in {holders or 'no block'}"
    commands = [c.text for b in every if b.lang == "console" for c in b.commands()]
    for key in KNOWN_FAILING:
        assert sum(key in c for c in commands) >= 1, f"KNOWN_FAILING {key!r} names no example"


def test_output_matching_follows_the_convention(tmp_path: Path) -> None:
    documented = [
        "2026-11-30T03:41:14Z INFO run 1: step audit done in 0.5 s: total 144, new 144",
        "...",
        '{"report": ".../runs/2026-11-30T034114Z/index.html", "seconds": 71.2}',
    ]
    actual = [
        "2026-12-07T16:21:33Z INFO run 1: step audit done in 0.7 s: total 144, new 144",
        "2026-12-07T16:21:34Z INFO report written",
        "2026-12-07T16:21:34Z INFO prune: nothing to do",
        '{"report": "/tmp/x/runs/2026-12-07T162133Z/index.html", "seconds": 49.9}',
    ]
    assert output_matches(documented, actual, {"times"})
    # Times are example values only where marked.
    assert not output_matches(documented, actual, set())
    # A count is never an example value unless numbers are marked.
    stale = [documented[0].replace("total 144, new 144", "total 24, new 24"), *documented[1:]]
    assert not output_matches(stale, actual, {"times"})
    assert output_matches(stale, actual, {"numbers"})
    # A missing, extra or changed line fails; `...` lines may stand for none.
    assert not output_matches(documented[:1], actual, {"times"})
    assert not output_matches([*documented, "done"], actual, {"times"})
    assert output_matches(["a", "...", "b"], ["a", "b"], set())
    assert not output_matches(["domain,status"], ["domain,status,https"], set())
    assert output_matches(
        ["export SSL_CERT_FILE=/tmp/simweb-.../ca.pem"],
        ["export SSL_CERT_FILE=/tmp/simweb-k2x9/ca.pem"],
        set(),
    )
    # A block's marks, exit codes and commands are read as documented.
    doc_text = (
        "<!-- example values: times -->\n```console\n$ govaudit --db mysql://x@y/z db upgrade"
        "   # exit 2\ngovaudit: error: ...\n$ echo a \\\n  b\na b\n```\n"
    )
    sample = tmp_path / "sample.md"
    sample.write_text(doc_text, encoding="utf-8")
    [block] = blocks(sample)
    assert block.lang == "console" and block.examples == {"times"}
    first, second = block.commands()
    assert first.exit_code == 2 and first.expected == ["govaudit: error: ..."]
    assert second.text == "echo a \\\n  b" and second.expected == ["a b"]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[ReaderSession]:
    reader = ReaderSession(scratch_folder(tmp_path))
    yield reader
    reader.close()


@pytest.mark.integration
def test_a_reader_session_keeps_variables_and_folder(session: ReaderSession) -> None:
    assert session.run(Command("export GREETING=hello && mkdir -p sub && cd sub", 1)) == (0, [])
    code, out = session.run(Command("echo $GREETING from $(basename $PWD); exit 3", 2))
    assert (code, out) == (3, ["hello from sub"])
    assert session.run(Command("ls ../examples", 3))[1] == ["govaudit.toml"]
    assert session.run(Command("echo a \\\n  b", 4)) == (0, ["a b"])
