"""The web as it was (issue 22): `crawl --archive URL --as-of DATE` against a real replay
engine (pywb's `wayback`, started and stopped here) serving what govaudit itself captured of a
simulated 2011 web (tests/archive_world.py), `archive first-seen`, and WACZ evidence.

Nothing reaches the network: the simulated web and pywb listen on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import itertools
import json
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from govaudit.replay_archive import ReplayServer
from tests.archive_world import COLLECTION, build_archive, registry_files, wayback_program
from tests.crawl_world import govaudit, govaudit_here

pytestmark = pytest.mark.integration

FIRST, LATER = "2011-10-24", "2012-01-10"


class ArchiveRuns:
    """The archive database: two crawls of the archive (as of FIRST, then LATER)."""

    def __init__(self, folder: Path, archive_url: str) -> None:
        self.folder = folder
        self.url = archive_url
        self.db = f"sqlite:///{folder / 'archive.db'}"
        self.common = ["--agencies", str(folder / "agencies.csv")]
        self.first_run = 0
        self.later_run = 0
        self.crawl_output = ""
        self._plans: dict[int, dict[str, dict[str, Any]]] = {}

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # No proxy: a local archive is reached directly (crawler/archive.py bypasses any).
        return govaudit(None, self.db, *self.common, *args, check=check, timeout=300)

    def json(self, *args: str) -> Any:
        # Exports only read the database: in this process, no process start.
        return json.loads(govaudit_here(self.db, *self.common, *args, "--format", "json").stdout)

    def plans(self, run: int) -> dict[str, dict[str, Any]]:
        # A finished run's plans do not change: exported once per run, read by several tests.
        if run not in self._plans:
            exported = self.json("export", "plans", "--run", str(run))
            self._plans[run] = {p["agency"]: p for p in exported}
        return json.loads(json.dumps(self._plans[run]))  # each test its own copy

    def sites(self, run: int) -> dict[str, dict[str, Any]]:
        return {s["domain"]: s for s in self.json("export", "sites", "--run", str(run))}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchiveRuns]:
    wayback_program()
    folder = tmp_path_factory.mktemp("archive-world")
    root = build_archive(folder, ["--agencies", str(folder / "agencies.csv")])
    # A local replay server may be asked faster than the policy's public-archive pace (which
    # test_the_archive_is_asked_politely checks).
    fast = folder / "fast-archive.toml"
    fast.write_text("[archive]\nconcurrent_requests = 4\nrequests_per_second = 50.0\n")
    with ReplayServer(root) as server:
        runs = ArchiveRuns(folder, server.url(COLLECTION))
        runs.run("inventory", "load", *registry_files(folder))
        first = runs.run(
            "--policy",
            str(fast),
            "crawl",
            "--workers",
            "1",
            "--archive",
            runs.url,
            "--as-of",
            FIRST,
            "--warc",
            str(folder / "evidence"),
        )
        runs.crawl_output = first.stderr + first.stdout
        later = runs.run(
            "--policy",
            str(fast),
            "crawl",
            "--workers",
            "1",
            "--archive",
            runs.url,
            "--as-of",
            LATER,
        )
        runs.first_run = _run_id(first.stdout)
        runs.later_run = _run_id(later.stdout)
        yield runs


def _run_id(summary: str) -> int:
    # "crawl run 3 (as archived near 2011-10-24) finished: ..."
    line = next(line for line in summary.splitlines() if line.startswith("crawl run "))
    return int(line.split()[2])


def test_the_run_says_it_is_archived(archive: ArchiveRuns) -> None:
    assert f"as archived near {FIRST}" in archive.crawl_output
    assert archive.later_run > archive.first_run


def test_plans_as_they_stood_near_the_deadline(archive: ArchiveRuns) -> None:
    plans = archive.plans(archive.first_run)
    status = {agency: p["status"] for agency, p in plans.items()}
    assert status == {
        "Alpha Agency": "published",
        "Beta Agency": "no-plan",  # its plan came in December
        "Gamma Agency": "unreachable",  # /open never archived
        "Delta Agency": "published",  # captured only in December: far, but in the window
        "Epsilon Agency": "published",  # behind a captured redirect
        "Zeta Agency": "unreachable",  # never archived at all
    }
    alpha = plans["Alpha Agency"]
    assert alpha["archive"] == archive.url
    assert alpha["as_of"] == FIRST
    assert alpha["memento_datetime"] == "2011-10-20T12:00:00"
    assert alpha["late"] is False
    captured = alpha["evidence"]["archive"]["plan"]
    assert captured["capture_url"] == (
        f"{archive.url}20111020120000/https://www.alpha.gov/open/plan.html"
    )
    assert captured["distance_days"] == -4 and captured["far"] is False


def test_not_archived_is_couldnt_check_with_the_date(archive: ArchiveRuns) -> None:
    plans = archive.plans(archive.first_run)
    assert plans["Gamma Agency"]["status_reason"] == (
        f"not archived near {FIRST}: no capture of /open"
    )
    assert plans["Zeta Agency"]["status_reason"] == (
        f"not archived near {FIRST}: no capture of the homepage"
    )
    assert plans["Zeta Agency"]["memento_datetime"] is None
    sites = archive.sites(archive.first_run)
    assert sites["zeta.gov"]["status"] == "not-archived"
    assert sites["zeta.gov"]["status_reason"] == f"no endpoint was archived near {FIRST}"
    assert sites["gamma.gov"]["status"] == "active"
    assert sites["gamma.gov"]["memento_datetime"] == "2011-10-20T12:00:00"
    # newsite.gov's only capture (March 2011) is outside the 60-day window.
    assert sites["newsite.gov"]["status"] == "not-archived"


def test_a_far_capture_says_so_in_the_evidence(archive: ArchiveRuns) -> None:
    delta = archive.plans(archive.first_run)["Delta Agency"]
    assert delta["memento_datetime"] == "2011-12-05T09:30:00"
    captured = delta["evidence"]["archive"]["plan"]
    assert captured["far"] is True and captured["distance_days"] == 42
    assert "42 days after 2011-10-24 (far from the date" in captured["note"]


def test_a_captured_redirect_is_followed_as_captured(archive: ArchiveRuns) -> None:
    epsilon = archive.plans(archive.first_run)["Epsilon Agency"]
    assert epsilon["open_page_url"] == "https://www.epsilon.gov/open/customer-service.html"
    hops = epsilon["evidence"]["open_redirect_chain"]
    assert hops[0]["url"] == "https://www.epsilon.gov/open"
    assert hops[0]["status"] == 301
    assert hops[0]["location"] == "https://www.epsilon.gov/open/customer-service.html"
    assert hops[0]["memento_datetime"] == "2011-10-20T12:00:00"


def test_the_later_date_gives_the_later_state(archive: ArchiveRuns) -> None:
    plans = archive.plans(archive.later_run)
    beta = plans["Beta Agency"]
    assert beta["status"] == "published"
    assert beta["stated_date"] == "2011-12-15"
    assert beta["late"] is True
    assert beta["memento_datetime"] == "2011-12-20T12:00:00"
    assert beta["as_of"] == LATER
    assert plans["Alpha Agency"]["memento_datetime"] == "2011-12-20T12:00:00"
    assert plans["Gamma Agency"]["status_reason"] == (
        f"not archived near {LATER}: no capture of /open"
    )
    delta = plans["Delta Agency"]["evidence"]["archive"]["plan"]
    assert delta["distance_days"] == -36 and delta["far"] is True


def test_pages_export_carries_the_captures(archive: ArchiveRuns) -> None:
    pages = archive.json("export", "pages", "--run", str(archive.first_run))
    alpha = [p for p in pages if p["domain"] == "alpha.gov" and p["status"] == 200]
    assert alpha, pages
    assert all(p["memento_datetime"] == "2011-10-20T12:00:00" for p in alpha)
    assert all(p["as_of"] == FIRST and p["archive"] == archive.url for p in alpha)
    header = archive.run("export", "pages", "--run", str(archive.first_run)).stdout.splitlines()[0]
    assert header.endswith(",archive,as_of,memento_datetime")


def test_a_host_s_captures_are_listed_once(archive: ArchiveRuns) -> None:
    log = (archive.folder / "archive" / "wayback.log").read_text(errors="replace").splitlines()
    replays = [line for line in log if "id_/https://www.alpha.gov/" in line]
    listings = [line for line in log if "/cdx?" in line and "url=www.alpha.gov&" in line]
    # Once per host in each crawler process: two crawls, each a sites and an /open process;
    # every URL of the host is then replayed without asking the CDX server again.
    assert len(listings) == 4, listings
    assert len(replays) > 2 * len(listings)


def test_first_seen_narrows_the_freeze(archive: ArchiveRuns) -> None:
    def newsite() -> dict[str, Any]:
        rows = json.loads(archive.run("audit", "freeze", "--all", "--format", "json").stdout)
        return next(r for r in rows if r["domain"] == "newsite.gov" and "1" in r["window"])

    before = newsite()
    assert before["classification"] == "possibly-in-freeze"
    out = archive.run("archive", "first-seen", "--archive", archive.url, "--domain", "newsite.gov")
    assert "newsite.gov: first archived 2011-03-01T08:00:00" in out.stdout
    after = newsite()
    assert after["classification"] == "outside"
    assert after["basis"] == "archive"
    assert after["first_capture"]["first_capture"] == "2011-03-01T08:00:00"
    assert after["first_capture"]["capture_url"] == (
        f"{archive.url}20110301080000/https://newsite.gov/"
    ) or after["first_capture"]["capture_url"].startswith(f"{archive.url}20110301080000/")
    assert "archived on 2011-03-01" in after["note"]


def test_evidence_wacz_validates_and_replays(archive: ArchiveRuns, tmp_path: Path) -> None:
    audited = archive.run("audit", "--run", str(archive.first_run)).stdout
    assert f"as archived near {FIRST}" in audited.splitlines()[0]
    findings = archive.json("export", "findings")
    beta = next(f for f in findings if f["agency"] == "Beta Agency" and f["warc_file"] is not None)
    target = tmp_path / "beta.wacz"
    archive.run("evidence", str(beta["finding_id"]), "--wacz", str(target))
    check = subprocess.run(
        [sys.executable, "-m", "wacz", "validate", "-f", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "is valid" in check.stdout
    with zipfile.ZipFile(target) as package:
        names = set(package.namelist())
        assert {"datapackage.json", "pages/pages.jsonl", "indexes/index.cdx.gz"} <= names
        pages = [json.loads(line) for line in package.read("pages/pages.jsonl").splitlines()]
    cited = [p for p in pages[1:] if p["url"] == "https://www.beta.gov/open"]
    assert cited and cited[0]["ts"].startswith("2011-10-20T12:00:00"), pages
    # Replayed by pywb from the package alone, at the capture's date.
    root = tmp_path / "replay"
    root.mkdir()
    manager = str(Path(wayback_program()).parent / "wb-manager")
    for args in (["init", "evidence"], ["add", "--unpack-wacz", "evidence", str(target)]):
        subprocess.run([manager, *args], cwd=root, check=True, capture_output=True)
    with ReplayServer(root) as server:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        url = f"{server.url('evidence')}20111020120000id_/https://www.beta.gov/open"
        with opener.open(url, timeout=10) as answer:
            assert b"Open Government at Beta" in answer.read()
            assert answer.headers["Memento-Datetime"] == "Thu, 20 Oct 2011 12:00:00 GMT"


def test_report_names_the_archive_and_packages_its_evidence(
    archive: ArchiveRuns, tmp_path: Path
) -> None:
    archive.run("audit", "--run", str(archive.first_run))
    out = tmp_path / "report"
    result = archive.run("report", "--out", str(out), "--wacz")
    assert "wacz:" in result.stderr
    plans_page = (out / "plans.html").read_text(encoding="utf-8")
    # No live crawl: the newest crawl of the archive is the report's; the other date is a
    # table of its own.
    assert f"as archived near {LATER}" in plans_page
    assert f"Plans as archived near {FIRST}" in plans_page
    assert 'data-as-of="2011-10-24"' in plans_page
    # Changes compare the later date with the earlier one, never with a live crawl.
    changes = (out / "changes.html").read_text(encoding="utf-8")
    assert f"compared with crawl run {archive.first_run} " in changes
    assert f"as archived near {FIRST}" in changes
    check = subprocess.run(
        [sys.executable, "-m", "wacz", "validate", "-f", str(out / "evidence.wacz")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    with zipfile.ZipFile(out / "evidence.wacz") as package:
        index = package.read("indexes/index.cdx.gz")
    lines = gzip.decompress(index).decode().splitlines()
    assert any(" 2011102012" in line for line in lines)


class RateLimitedFront:
    """An archive's front door in front of pywb: answers the first CDX query 429 with
    Retry-After, and records when each request came, with which User-Agent, and how many
    were in flight at once."""

    def __init__(self, upstream: str) -> None:
        front = self
        self.upstream = upstream.rstrip("/")
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.seen: list[tuple[float, str, str, int]] = []  # time, path, user agent, status
        self.refused_once = False
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with front.lock:
                    front.in_flight += 1
                    front.most_in_flight = max(front.most_in_flight, front.in_flight)
                    refuse = "/cdx?" in self.path and not front.refused_once
                    front.refused_once = front.refused_once or refuse
                started = time.monotonic()
                try:
                    if refuse:
                        status, headers, body = 429, [("Retry-After", "2")], b"slow down"
                    else:
                        request = urllib.request.Request(front.upstream + self.path)
                        try:
                            with opener.open(request, timeout=20) as answer:
                                status, body = answer.status, answer.read()
                                headers = list(answer.headers.items())
                        except urllib.error.HTTPError as error:
                            status, body = error.code, error.read()
                            headers = list(error.headers.items())
                    time.sleep(0.05)  # a real archive takes a moment: overlaps would show
                    self.send_response(status)
                    for name, value in headers:
                        if name.lower() not in ("transfer-encoding", "content-length", "date"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with front.lock:
                        front.in_flight -= 1
                        agent = self.headers.get("User-Agent", "")
                        front.seen.append((started, self.path, agent, status))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_archive_is_asked_politely(archive: ArchiveRuns) -> None:
    upstream = archive.url.rsplit("/", 2)[0]
    front = RateLimitedFront(upstream)
    try:
        archive.run(
            "crawl",
            "--only",
            "open",
            "--agency",
            "Alpha",
            "--workers",
            "1",
            "--archive",
            f"{front.url}/{COLLECTION}/",
            "--as-of",
            FIRST,
            "--user-agent",
            "govaudit-test/1.0 (+mailto:audit@example.gov)",
        )
    finally:
        front.stop()
    seen = sorted(front.seen)
    assert len(seen) > 4
    # One request at a time (policy [archive] concurrent_requests = 1) ...
    assert front.most_in_flight == 1
    # ... at most three a second (requests_per_second = 3.0: a third of a second apart) ...
    starts = [t for t, *_ in seen]
    assert min(b - a for a, b in itertools.pairwise(starts)) >= 0.3
    # ... with the crawl's User-Agent, and the 429's Retry-After waited before asking again.
    assert {agent for _, _, agent, _ in seen} == {"govaudit-test/1.0 (+mailto:audit@example.gov)"}
    refused = next(i for i, (*_, status) in enumerate(seen) if status == 429)
    again = next(t for t, path, _, status in seen[refused + 1 :] if path == seen[refused][1])
    assert again - seen[refused][0] >= 1.9
    plans = archive.plans(_run_id_of_newest(archive))
    assert plans["Alpha Agency"]["status"] == "published"


def _run_id_of_newest(archive: ArchiveRuns) -> int:
    with sqlite3.connect(archive.folder / "archive.db") as db:
        (newest,) = db.execute("SELECT max(id) FROM crawl_run WHERE as_of IS NOT NULL").fetchone()
    return int(newest)


def test_the_periodic_job_crawls_the_archive_of_its_config(archive: ArchiveRuns) -> None:
    folder = archive.folder / "job"
    folder.mkdir()
    registry = ", ".join(f'"{f}"' for f in registry_files(archive.folder))
    config = folder / "govaudit.toml"
    config.write_text(
        f"registry = [{registry}]\nbundled_registry = false\n"
        f'agencies = "{archive.folder / "agencies.csv"}"\n'
        f'policy = "{archive.folder / "fast-archive.toml"}"\n'
        f'output = "{folder / "out"}"\nrdap = false\nworkers = 1\n'
        f'[archive]\nurls = ["{archive.url}"]\nas_of = {FIRST}\n',
        encoding="utf-8",
    )
    db = f"sqlite:///{folder / 'job.db'}"
    done = govaudit(None, db, "run", "--config", str(config), timeout=600)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["status"] == "done", done.stderr
    assert "a11y: skipped: the crawl read web archives" in done.stderr
    plans = {
        p["agency"]: p
        for p in json.loads(govaudit_here(db, "export", "plans", "--format", "json").stdout)
    }
    assert plans["Beta Agency"]["status"] == "no-plan"
    assert plans["Beta Agency"]["as_of"] == FIRST
    assert plans["Alpha Agency"]["memento_datetime"] == "2011-10-20T12:00:00"
