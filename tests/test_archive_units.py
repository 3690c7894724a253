"""The web as it was (issue 22), piece by piece and offline: archive URL forms, CDX and
TimeMap answers, the choice of capture, the archive's headers, capture stamping, the
freeze narrowed by a first capture, not-archived statuses, and which runs go together."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from scrapy.http import Headers

from audit.db import Database
from audit.freeze import (
    IN_FREEZE,
    OUTSIDE,
    POSSIBLY,
    UNKNOWN,
    Appearance,
    Evidence,
    FirstCapture,
    SnapshotView,
    classify,
)
from audit.models import CrawlRun, CrawlTask
from audit.plan_status import PlanPolicy, facts_from_rows, judge_plan
from audit.policy_file import FreezeWindow, load_policy
from audit.run_selection import latest_run, previous_run
from audit.site_status import EndpointObservation, classify_site, could_not_check
from crawler.archive import (
    Archive,
    ArchiveConfigError,
    Capture,
    CaptureLog,
    archive_run_settings,
    closest_capture,
    original_headers,
    parse_cdx,
    parse_timemap,
    scrapy_archive_settings,
    stamp_captures,
    url_key,
)
from crawler.fetch_errors import NotArchived, failure_kind
from crawler.items import PlanResult
from govaudit.job_config import ConfigError, load_config

AS_OF = dt.date(2011, 10, 24)


# ------------------------------------------------------------------ archive URL forms
@pytest.mark.parametrize(
    ("given", "prefix", "cdx"),
    [
        (
            "https://web.archive.org/web/",
            "https://web.archive.org/web/",
            "https://web.archive.org/cdx/search/cdx",
        ),
        (
            "web.archive.org",
            "https://web.archive.org/web/",
            "https://web.archive.org/cdx/search/cdx",
        ),
        (
            "https://web.archive.org/web/20111024000000*/http://www.usda.gov/open",
            "https://web.archive.org/web/",
            "https://web.archive.org/cdx/search/cdx",
        ),
        (
            "https://web.archive.org/web/20111020120000id_/http://www.usda.gov/",
            "https://web.archive.org/web/",
            "https://web.archive.org/cdx/search/cdx",
        ),
        ("http://127.0.0.1:8080/gov2011", "http://127.0.0.1:8080/gov2011/", None),
        (
            "http://127.0.0.1:8080/gov2011/20111020120000/https://www.x.gov/open",
            "http://127.0.0.1:8080/gov2011/",
            None,
        ),
        (
            "https://archive.example.org/wayback/ cdx=https://archive.example.org/cdx",
            "https://archive.example.org/wayback/",
            "https://archive.example.org/cdx",
        ),
    ],
)
def test_archive_url_forms(given: str, prefix: str, cdx: str | None) -> None:
    archive = Archive.from_url(given)
    assert archive.prefix == prefix
    assert archive.cdx_url == (cdx or prefix + "cdx")


def test_bad_archive_url_is_refused() -> None:
    with pytest.raises(ArchiveConfigError, match="not an http"):
        Archive.from_url("ftp://archive.example.org/")


def test_replay_and_original_urls() -> None:
    archive = Archive.from_url("http://127.0.0.1:8080/gov2011/")
    assert archive.replay_url("20111020120000", "https://www.x.gov/open") == (
        "http://127.0.0.1:8080/gov2011/20111020120000id_/https://www.x.gov/open"
    )
    assert archive.replay_url("20111020120000", "https://www.x.gov/", raw=False) == (
        "http://127.0.0.1:8080/gov2011/20111020120000/https://www.x.gov/"
    )
    for location in (
        "http://127.0.0.1:8080/gov2011/20111020120005id_/https://www.x.gov/open/",
        "http://127.0.0.1:8080/gov2011/20111020120005/https://www.x.gov/open/",
        "http://127.0.0.1:8080/gov2011/20111020120005mp_/https:/www.x.gov/open/",
    ):
        assert archive.original_url(location) == "https://www.x.gov/open/"
    assert archive.original_url("https://www.x.gov/open/") is None
    assert archive.slot == "archive:127.0.0.1:8080"


# ------------------------------------------------------------------ CDX and TimeMap answers
PYWB = (
    b'{"urlkey": "gov,x)/", "timestamp": "20111020120000", "url": "https://www.x.gov/", '
    b'"mime": "text/html", "status": "200"}\n'
    b'{"urlkey": "gov,x)/open", "timestamp": "20111020120005", "url": "https://www.x.gov/open",'
    b' "mime": "unk", "status": "301"}\n'
)
IA = json.dumps(
    [
        ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"],
        ["gov,x)/", "20111020120000", "http://www.x.gov:80/", "text/html", "200", "A", "9"],
        ["gov,x)/open", "20111101", "http://www.x.gov/open", "warc/revisit", "-", "B", "9"],
    ]
).encode()
CDXJ = b'gov,x)/ 20111020120000 {"url": "https://www.x.gov/", "status": "200"}\n'
CLASSIC = b"gov,x)/ 20111020120000 http://www.x.gov/ text/html 200 ABC 123\n"


def test_cdx_answers_in_every_form() -> None:
    pywb = parse_cdx(PYWB)
    assert [(c.timestamp, c.url, c.status) for c in pywb] == [
        ("20111020120000", "https://www.x.gov/", 200),
        ("20111020120005", "https://www.x.gov/open", 301),
    ]
    ia = parse_cdx(IA)
    assert [(c.timestamp, c.url, c.status) for c in ia] == [
        ("20111020120000", "http://www.x.gov:80/", 200),
        ("20111101000000", "http://www.x.gov/open", None),  # short timestamps are padded
    ]
    assert parse_cdx(CDXJ)[0].url == "https://www.x.gov/"
    assert parse_cdx(CLASSIC)[0].status == 200
    assert parse_cdx(b"") == []
    with pytest.raises(ValueError):
        parse_cdx(b"<html><body>Service unavailable</body></html>")


def test_timemap_answer() -> None:
    body = (
        b'<https://www.x.gov/open>; rel="original",\n'
        b'<http://a.example/tg/https://www.x.gov/open>; rel="timegate",\n'
        b'<http://a.example/web/20110901000000/https://www.x.gov/open>; rel="first memento"; '
        b'datetime="Thu, 01 Sep 2011 00:00:00 GMT",\n'
        b'<http://a.example/web/20111020120000/https://www.x.gov/open>; rel="memento"; '
        b'datetime="Thu, 20 Oct 2011 12:00:00 GMT"\n'
    )
    captures = parse_timemap(body)
    assert [c.timestamp for c in captures] == ["20110901000000", "20111020120000"]
    assert {c.url for c in captures} == {"https://www.x.gov/open"}
    assert captures[1].memento_url == "http://a.example/web/20111020120000/https://www.x.gov/open"


# ------------------------------------------------------------------ which capture
def cap(stamp: str, url: str = "https://www.x.gov/open") -> Capture:
    return Capture(stamp, url, 200)


def test_the_newest_capture_on_or_before_the_date_wins() -> None:
    captures = [cap("20110901000000"), cap("20111024235959"), cap("20111025000000")]
    chosen = closest_capture(captures, "https://www.x.gov/open", AS_OF, 60)
    assert chosen is not None and chosen.timestamp == "20111024235959"


def test_else_the_oldest_after_it_within_the_window() -> None:
    captures = [cap("20111210000000"), cap("20111105000000"), cap("20110801000000")]
    chosen = closest_capture(captures, "https://www.x.gov/open", AS_OF, 60)
    assert chosen is not None and chosen.timestamp == "20111105000000"
    assert closest_capture(captures, "https://www.x.gov/open", AS_OF, 10) is None


def test_only_the_same_url_counts() -> None:
    captures = [
        cap("20111020000000", "http://www.x.gov/open"),  # http says nothing of https
        cap("20111020000000", "https://www.x.gov/open/"),  # another URL
        cap("20111020000000", "https://WWW.X.GOV:443/open#top"),  # the same one
    ]
    chosen = closest_capture(captures, "https://www.x.gov/open", AS_OF, 60)
    assert chosen is not None and chosen.url == "https://WWW.X.GOV:443/open#top"
    assert closest_capture(captures[:2], "https://www.x.gov/open", AS_OF, 60) is None
    assert url_key("http://www.x.gov:80") == "http://www.x.gov/"


def test_the_archive_s_headers_are_dropped_and_originals_restored() -> None:
    headers = Headers(
        {
            "Content-Type": "text/html",
            "Memento-Datetime": "Thu, 20 Oct 2011 12:00:00 GMT",
            "Link": '<https://www.x.gov/>; rel="original"',
            "Content-Location": "http://a/web/20111020120000id_/https://www.x.gov/",
            "X-Archive-Src": "crawl-1.warc.gz",
            "X-Archive-Orig-Server": "Apache/2.2",
            "X-Archive-Orig-Content-Length": "123",
            "Set-Cookie": "a=b",
        }
    )
    out = original_headers(headers)
    assert out.get(b"Server") == b"Apache/2.2"
    assert out.get(b"Content-Type") == b"text/html"
    assert out.get(b"Set-Cookie") == b"a=b"
    for gone in (b"Memento-Datetime", b"Link", b"Content-Location", b"X-Archive-Src"):
        assert gone not in out
    assert b"Content-Length" not in out


# ------------------------------------------------------------------ settings and stamping
def test_run_settings_and_scrapy_settings() -> None:
    policy = load_policy().section("archive")
    run = archive_run_settings(
        ["http://127.0.0.1:8080/gov2011", "https://web.archive.org/web/"], AS_OF, None, policy
    )
    assert run["urls"] == ["http://127.0.0.1:8080/gov2011/", "https://web.archive.org/web/"]
    assert run["as_of"] == "2011-10-24" and run["window_days"] == 60
    assert archive_run_settings(["web.archive.org"], AS_OF, 5, policy)["window_days"] == 5
    with pytest.raises(ArchiveConfigError):
        archive_run_settings([], AS_OF, None, policy)
    settings = scrapy_archive_settings(
        {"DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.ScopeGuardMiddleware": 50}}, run
    )
    middlewares = settings["DOWNLOADER_MIDDLEWARES"]
    assert middlewares["crawler.middlewares.ScopeGuardMiddleware"] is None
    assert middlewares["crawler.archive.ArchiveMiddleware"] == 70
    slots = settings["DOWNLOAD_SLOTS"]
    assert slots["archive:127.0.0.1:8080"]["concurrency"] == 1
    assert slots["archive:web.archive.org"]["delay"] == pytest.approx(1 / 3)
    # Two crawler processes share the archive's pace.
    shared = {**run, "processes": 2, "concurrent_requests": 4}
    slot = scrapy_archive_settings({}, shared)["DOWNLOAD_SLOTS"]["archive:web.archive.org"]
    assert slot["delay"] == pytest.approx(2 / 3) and slot["concurrency"] == 2


def test_observations_are_stamped_with_their_captures() -> None:
    log = CaptureLog()
    when = dt.datetime(2011, 10, 20, 12)
    for url, capture in (
        ("https://www.x.gov/open", "http://a/w/20111020120000/https://www.x.gov/open"),
        ("https://www.x.gov/open/plan.html", "http://a/w/20111020120000/https://www.x.gov/p"),
    ):
        log.add(
            "X Agency",
            url,
            {
                "archive": "http://a/w/",
                "capture_url": capture,
                "memento_datetime": when,
                "capture_distance_days": -4,
            },
        )
    item = PlanResult(
        1,
        "X Agency",
        {},
        tries=[
            {
                "url": "https://www.x.gov/open",
                "final_url": "https://www.x.gov/open",
                "redirect_chain": [{"url": "https://www.x.gov/open", "status": 301}],
            },
            {"url": "https://www.x.gov/open/", "final_url": None},
        ],
        documents=[{"url": "https://www.x.gov/open/plan.html", "final_url": None}],
    )
    stamp_captures(item, "X Agency", log)
    assert item.tries[0]["memento_datetime"] == when
    assert item.tries[0]["capture_distance_days"] == -4
    assert item.tries[0]["redirect_chain"][0]["memento_datetime"] == "2011-10-20T12:00:00"
    assert "capture_url" not in item.tries[1]  # not archived: nothing to stamp
    assert item.documents[0]["capture_url"].endswith("/https://www.x.gov/p")
    assert log.by_unit == {}  # forgotten once stored


def test_not_archived_is_a_fetch_outcome() -> None:
    assert failure_kind(NotArchived("not archived near 2011-10-24")) == (
        "not-archived",
        "not archived near 2011-10-24",
    )


# ------------------------------------------------------------------ judgement
def test_a_site_with_no_capture_is_not_archived_not_unreachable() -> None:
    endpoints = [
        EndpointObservation(f"{s}://{h}x.gov/", None, "not-archived", None)
        for s in ("https", "http")
        for h in ("www.", "")
    ]
    status = classify_site("x.gov", endpoints, AS_OF)
    assert (status.status, status.reason) == (
        "not-archived",
        "no endpoint was archived near 2011-10-24",
    )
    assert could_not_check(status.status, status.reason)
    endpoints[2] = EndpointObservation("http://www.x.gov/", 200, None, "http://www.x.gov/", "X")
    assert classify_site("x.gov", endpoints, AS_OF).status == "active"


def _facts(tries: list[dict[str, Any]], homepage: dict[str, Any] | None) -> Any:
    observation = {
        "agency": "X Agency",
        "domain": "x.gov",
        "fetched_at": dt.datetime(2026, 1, 1),
        "homepage_tries": [{"url": "https://www.x.gov/", "error_kind": "not-archived"}],
        "homepage": homepage,
        "origin": "https://www.x.gov" if homepage else None,
    }
    return facts_from_rows(observation, tries, [], AS_OF)


def test_open_never_archived_is_unreachable_with_the_date() -> None:
    policy = PlanPolicy.from_section(load_policy().section("plans"))
    tries = [
        {"url": f"https://www.x.gov{p}", "error_kind": "not-archived", "seq": i}
        for i, p in enumerate(("/open", "/open/"))
    ]
    home = {"url": "https://www.x.gov/", "status": 200, "final_url": "https://www.x.gov/"}
    judged = judge_plan(_facts(tries, home), policy)
    assert (judged.status, judged.reason) == (
        "unreachable",
        "not archived near 2011-10-24: no capture of /open",
    )
    nothing = judge_plan(_facts([], None), policy)
    assert (nothing.status, nothing.reason) == (
        "unreachable",
        "not archived near 2011-10-24: no capture of the homepage",
    )


# ------------------------------------------------------------------ the freeze
WINDOW = FreezeWindow("window 1", dt.date(2011, 6, 13), dt.date(2011, 9, 11), "", "")


def evidence(first: dt.datetime | None, lo: dt.date | None, hi: dt.date, returned: bool = False):
    snap_lo = SnapshotView(1, lo, "a.csv", "federal", frozenset()) if lo else None
    snap_hi = SnapshotView(2, hi, "b.csv", "federal", frozenset({"new.gov"}))
    capture = (
        FirstCapture(first, "http://a/w/2011/https://new.gov/", "http://a/w/", dt.datetime.now())
        if first
        else None
    )
    app = Appearance(snap_hi, snap_lo, returned)
    return Evidence("new.gov", (app,), lo or hi, None, {}, capture)


def test_captured_before_the_window_is_outside_whatever_the_snapshots_say() -> None:
    lo, hi = dt.date(2011, 6, 1), dt.date(2011, 8, 1)
    assert classify(evidence(None, lo, hi), WINDOW).classification == POSSIBLY
    narrowed = classify(evidence(dt.datetime(2011, 3, 1, 8), lo, hi), WINDOW)
    assert (narrowed.classification, narrowed.basis) == (OUTSIDE, "archive")
    assert "archived on 2011-03-01" in narrowed.note
    assert "http://a/w/2011/https://new.gov/" in narrowed.note


def test_a_capture_inside_the_interval_ends_it() -> None:
    lo, hi = dt.date(2011, 6, 20), dt.date(2011, 12, 1)
    assert classify(evidence(None, lo, hi), WINDOW).classification == POSSIBLY
    narrowed = classify(evidence(dt.datetime(2011, 8, 15), lo, hi), WINDOW)
    assert (narrowed.classification, narrowed.basis) == (IN_FREEZE, "archive")
    assert narrowed.interval == (lo, dt.date(2011, 8, 15))


def test_a_returned_domain_is_not_narrowed_by_an_older_capture() -> None:
    lo, hi = dt.date(2011, 6, 1), dt.date(2011, 8, 1)
    kept = classify(evidence(dt.datetime(2011, 3, 1), lo, hi, returned=True), WINDOW)
    assert kept.classification == POSSIBLY and kept.basis == "snapshots"


def test_without_snapshots_a_later_capture_is_only_noted() -> None:
    only = Evidence(
        "new.gov",
        (),
        None,
        None,
        {},
        FirstCapture(dt.datetime(2011, 7, 1), "http://a/x", "http://a/", dt.datetime.now()),
    )
    judged = classify(only, WINDOW)
    assert judged.classification == UNKNOWN and "first archived capture 2011-07-01" in judged.note


# ------------------------------------------------------------------ runs never mixed
def _run(session: Any, as_of: dt.date | None, archive: str | None = None, job: str = "open") -> int:
    run = CrawlRun(status="finished", as_of=as_of, archive=archive)
    session.add(run)
    session.flush()
    session.add(CrawlTask(run_id=run.id, job=job, key="X", domain="x.gov", state="done"))
    return run.id


def test_archived_runs_never_stand_in_for_live_ones(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/runs.db")
    a = "http://a/w/"
    with db.session() as s:
        live1 = _run(s, None)
        arch_late = _run(s, dt.date(2012, 1, 10), a)
        live2 = _run(s, None)
        arch_early = _run(s, dt.date(2011, 10, 24), a)
        other_archive = _run(s, dt.date(2011, 10, 24), "http://b/")
    with db.session() as s:
        # The newest live run is the default, even with newer archived runs.
        assert latest_run(s, "open").id == live2
        live = s.get(CrawlRun, live2)
        assert previous_run(s, live, "open").id == live1  # type: ignore[arg-type,union-attr]
        late = s.get(CrawlRun, arch_late)
        early = s.get(CrawlRun, arch_early)
        # An archived run is compared with the same archive's earlier date, never a live run.
        assert previous_run(s, late, "open").id == arch_early  # type: ignore[arg-type,union-attr]
        assert previous_run(s, early, "open") is None  # type: ignore[arg-type]
        # Paired runs are of the same kind.
        assert latest_run(s, "open", like=early).id == arch_early
        assert latest_run(s, "open", like=live).id == live2
        assert latest_run(s, "open", like=s.get(CrawlRun, other_archive)).id == other_archive
    db.dispose()


def test_only_archived_runs_make_the_newest_the_default(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/runs.db")
    with db.session() as s:
        _run(s, dt.date(2011, 10, 24), "http://a/w/")
        newest = _run(s, dt.date(2012, 1, 10), "http://a/w/")
    with db.session() as s:
        assert latest_run(s, "open").id == newest
    db.dispose()


# ------------------------------------------------------------------ configuration
def test_job_config_archive_table(tmp_path: Path) -> None:
    config = tmp_path / "job.toml"
    config.write_text(
        '[archive]\nurls = ["https://web.archive.org/web/"]\nas_of = 2011-10-24\n'
        "window_days = 30\n",
        encoding="utf-8",
    )
    values = load_config(config, environ={})
    assert values["archive.urls"] == ["https://web.archive.org/web/"]
    assert values["archive.as_of"] == "2011-10-24"
    assert values["archive.window_days"] == 30
    config.write_text('[archive]\nurls = ["https://web.archive.org/web/"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"archive\.urls needs archive\.as_of"):
        load_config(config, environ={})
    config.write_text("[archive]\nas_of = 2011-13-45\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"job\.toml"):
        load_config(config, environ={})
    env = {"GOVAUDIT_ARCHIVE_URLS": "http://a/w/,http://b/", "GOVAUDIT_ARCHIVE_AS_OF": "2012-01-10"}
    from_env = load_config(None, environ=env)
    assert from_env["archive.urls"] == ["http://a/w/", "http://b/"]
    assert from_env["archive.as_of"] == "2012-01-10"


def test_crawl_refuses_half_an_archive_request(tmp_path: Path) -> None:
    from govaudit.cli import cli

    runner = CliRunner()
    db = f"sqlite:///{tmp_path}/x.db"
    no_date = runner.invoke(cli, ["--db", db, "crawl", "--archive", "https://web.archive.org/web/"])
    assert no_date.exit_code == 2
    assert "--archive needs --as-of DATE" in no_date.output
    no_archive = runner.invoke(cli, ["--db", db, "crawl", "--as-of", "2011-10-24"])
    assert no_archive.exit_code == 2
    assert "--as-of and --window go with --archive URL" in no_archive.output
    bad = runner.invoke(
        cli, ["--db", db, "crawl", "--archive", "ftp://x/", "--as-of", "2011-10-24"]
    )
    assert bad.exit_code == 2 and "not an http(s) URL" in bad.output
