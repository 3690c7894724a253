"""Evidence an auditor can replay (issue 16): `crawl --warc`, record locations, `evidence`."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.warc import FILE_NAME
from simweb.server import SimulatedWeb
from tests.crawl_world import GOVAUDIT, govaudit, govaudit_here, registry_csv

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "simweb" / "demo" / "seeds"
COMMON = (
    "--policy",
    str(SEEDS / "policy.toml"),
    "--agencies",
    str(SEEDS / "agencies.csv"),
    "--waivers",
    str(SEEDS / "waivers.csv"),
)
# dol.gov: an incomplete plan linked from /open; hud.gov: an /open page without a plan.
DOMAINS = ("dol.gov", "hud.gov")


def read_warc(path: Path) -> list[dict[str, Any]]:
    """Every record of a WARC file, with its payload digest checked (raises on a mismatch)."""
    out = []
    with path.open("rb") as stream:
        records = ArchiveIterator(stream, check_digests="raise")
        for record in records:
            body = record.content_stream().read()
            out.append(
                {
                    "type": record.rec_type,
                    "uri": record.rec_headers.get_header("WARC-Target-URI"),
                    "offset": records.get_record_offset(),
                    "payload_digest": record.rec_headers.get_header("WARC-Payload-Digest"),
                    "status": record.http_headers.get_statuscode() if record.http_headers else None,
                    "body": body,
                    "headers": record.rec_headers,
                }
            )
    return out


class WarcWorld:
    def __init__(self, web: SimulatedWeb, db_url: str, db_path: Path, warc: Path) -> None:
        self.web, self.db_url, self.db_path, self.warc = web, db_url, db_path, warc
        self.crawl_output = ""

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return govaudit(self.web, self.db_url, *COMMON, *args, check=check)

    def here(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A command that reads the database and the WARC files, run in this process."""
        return govaudit_here(self.db_url, *COMMON, *args, check=check)

    def json(self, *args: str) -> Any:
        return json.loads(self.here(*args, "--format", "json").stdout)

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db_path) as db:
            return db.execute(query).fetchall()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WarcWorld]:
    tmp = tmp_path_factory.mktemp("warc")
    with SimulatedWeb.demo() as web:
        web.set_epoch(1)
        runs = WarcWorld(web, f"sqlite:///{tmp}/govaudit.db", tmp / "govaudit.db", tmp / "warc")
        runs.run("inventory", "load", str(SEEDS / "demo-federal-2014-12-16.csv"))
        domain_args = [a for d in DOMAINS for a in ("--domain", d)]
        args = ["crawl", "--workers", "2", "--warc", str(runs.warc), *domain_args]
        runs.crawl_output = runs.run(*args).stderr
        runs.run("audit")
        yield runs


def test_warc_files_read_back_and_their_digests_verify(world: WarcWorld) -> None:
    files = sorted(world.warc.glob("*.warc.gz"))
    assert files, "no WARC file written"
    for path in files:
        assert path.name.startswith("govaudit-1-")
        records = read_warc(path)
        assert records[0]["type"] == "warcinfo"
        info = records[0]["body"].decode()
        assert "software: govaudit/" in info
        assert "govaudit-run: 1" in info
        assert "http-header-user-agent:" in info
        assert "govaudit-settings:" in info and '"warc_dir"' in info
        assert all(r["type"] != "warcinfo" for r in records[1:])
        for r in records:
            if r["type"] == "response":
                assert r["payload_digest"].startswith("sha1:")
    every = [r for p in files for r in read_warc(p)]
    uris = {r["uri"] for r in every if r["type"] == "response"}
    assert "https://www.hud.gov/open" in uris or "http://www.hud.gov/open" in uris
    # Each response has its request, linked by WARC-Concurrent-To.
    responses = {
        r["headers"].get_header("WARC-Record-ID"): r for r in every if r["type"] == "response"
    }
    requests = [r for r in every if r["type"] == "request"]
    assert len(requests) == len(responses)
    assert all(r["headers"].get_header("WARC-Concurrent-To") in responses for r in requests)


def test_warcinfo_names_the_settings_without_secrets() -> None:
    from crawler.warc import masked_settings, masked_url

    assert masked_url("http://bob:hunter2@proxy.example:3128/x") == (
        "http://bob:***@proxy.example:3128/x"
    )
    cleaned = masked_settings(
        {"rdap_url": "https://u:pw@rdap.example/", "crawl": {"api_key": "k", "max_depth": 2}}
    )
    assert cleaned == {"rdap_url": "https://u:***@rdap.example/", "crawl": {"max_depth": 2}}


def test_observations_name_their_records(world: WarcWorld) -> None:
    for table in ("open_try", "plan_document", "endpoint_observation"):
        rows = world.sql(f"select url, warc_file, warc_offset, warc_digest from {table}")
        assert rows, table
        assert all(r[1] for r in rows), f"{table}: observation without a WARC record"
    by_file: dict[str, list[dict[str, Any]]] = {}
    for url, wfile, offset, digest in world.sql(
        "select coalesce(final_url, url), warc_file, warc_offset, warc_digest from plan_document"
    ):
        records = by_file.setdefault(wfile, read_warc(world.warc / wfile))
        at = next(r for r in records if r["offset"] == offset)
        assert at["type"] == "response"
        assert at["uri"] == url
        assert at["payload_digest"] == digest
    robots = [json.loads(r[0]) for r in world.sql("select robots from site_observation")]
    assert any(r.get("warc_file") for r in robots)


def test_exports_carry_warc_file_and_offset(world: WarcWorld) -> None:
    plans = {r["domain"]: r for r in world.json("export", "plans")}
    for domain in DOMAINS:
        assert plans[domain]["warc_file"], domain
        assert isinstance(plans[domain]["warc_offset"], int)
    findings = world.json("export", "findings")
    plan_findings = [f for f in findings if f["domain"] in DOMAINS and f["rule"].startswith("plan")]
    assert plan_findings
    for f in plan_findings:
        assert f["warc_file"] and isinstance(f["warc_offset"], int)
        assert isinstance(f["finding_id"], int)
    csv_head = world.here("export", "findings").stdout.splitlines()[0]
    assert csv_head.endswith("audit_run,warc_file,warc_offset,finding_id")
    assert (
        world.here("export", "plans")
        .stdout.splitlines()[0]
        .endswith("date_note,warc_file,warc_offset,archive,as_of,memento_datetime")
    )


def test_evidence_extracts_the_cited_open_page(world: WarcWorld, tmp_path: Path) -> None:
    findings = world.json("export", "findings")
    hud = next(f for f in findings if f["domain"] == "hud.gov" and f["rule"] == "plan-missing")
    out = tmp_path / "hud-evidence.warc.gz"
    result = world.here("evidence", str(hud["finding_id"]), "--out", str(out))
    text = result.stdout
    open_url = hud["evidence"]["open_page_url"]
    assert f"/open try {open_url}" in text or f"plan document {open_url}" in text
    assert "payload digest: verified" in text
    assert "HTTP/1.1 200" in text
    assert "WARC-Type: response" in text
    open_body = next(
        r["body"]
        for p in sorted(world.warc.glob("*.warc.gz"))
        for r in read_warc(p)
        if r["type"] == "response" and r["uri"] == open_url
    )
    assert open_body.decode() in text
    copied = read_warc(out)
    assert copied[0]["type"] == "response" and copied[0]["uri"] == open_url
    assert copied[0]["body"] == open_body
    assert any(r["type"] == "request" for r in copied)


def test_evidence_of_an_unknown_finding_is_refused(world: WarcWorld) -> None:
    result = world.here("evidence", "999999", check=False)
    assert result.returncode == 2
    assert "no finding 999999" in result.stderr


def test_evidence_says_when_the_warc_file_is_gone(world: WarcWorld, tmp_path: Path) -> None:
    findings = world.json("export", "findings")
    hud = next(f for f in findings if f["domain"] == "hud.gov" and f["rule"] == "plan-missing")
    out = tmp_path / "never.warc.gz"
    moved = tmp_path / "moved"
    world.warc.rename(moved)
    try:
        result = world.here(
            "evidence",
            str(hud["finding_id"]),
            "--warc",
            str(tmp_path),
            "--out",
            str(out),
            check=False,
        )
        assert result.returncode == 1
        assert "couldn't read the record:" in result.stdout and "(give --warc DIR)" in result.stdout
        assert not out.exists()
        # Given the folder the files were moved to, every record is found there.
        found = world.here("evidence", str(hud["finding_id"]), "--warc", str(moved))
        assert "couldn't read" not in found.stdout and str(moved) in found.stdout
    finally:
        moved.rename(world.warc)


def test_sigkilled_crawl_resumed_into_a_new_folder_gives_evidence_that_reads_back(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    """Issue 28.1: `crawl --resume --warc NEWDIR` after a SIGKILL starts files whose names
    no file of the first attempt has, every observation's record is found in the folder it
    was written to, and `evidence` reads every cited record with its digest verified."""
    names = [f"slow{i:02d}.gov" for i in range(12)]
    pages = {f"/p{j}": {"title": f"page {j}"} for j in range(6)}
    links = "".join(f"<a href='/p{j}'>p{j}</a>" for j in range(6))
    world = {
        n.split(".")[0]: {
            "hosts": [n, f"www.{n}"],
            "delay": 0.05,
            "robots": "User-agent: *\nDisallow:\n",
            "pages": {"/": {"body": f"<title>{n}</title>{links}"}, **pages},
        }
        for n in names
    }
    web = simulated_web_factory(world)
    db = f"sqlite:///{tmp_path}/killed.db"
    warc = tmp_path / "warc"
    govaudit_here(db, "inventory", "load", str(registry_csv(tmp_path / "r-2026-01-01.csv", names)))
    args = ["crawl", "--only", "sites", "--workers", "1", "--timeout", "5", "--per-host", "1"]
    args += ["--concurrency", "2", "--warc", str(warc)]
    env = {**os.environ, **web.proxy_env(), "GOVAUDIT_DB": db, "GOVAUDIT_BATCH_UNITS": "1"}
    proc = subprocess.Popen(
        [GOVAUDIT, *args],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while _done(db) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _done(db) < 12, "the run finished before it could be killed"
    first = sorted(p.name for p in warc.glob("*.warc.gz"))
    assert len(first) == 1 and FILE_NAME.match(first[0]), first
    # Cut the file inside its last record, as a kill in the middle of a write would leave it.
    path = warc / first[0]
    whole = read_warc(path)
    data = path.read_bytes()
    path.write_bytes(data[: whole[-1]["offset"] + 20])
    kept = read_warc_tolerant(path)
    assert [r["offset"] for r in kept] == [r["offset"] for r in whole[:-1]]
    path.write_bytes(data)
    before = len(read_warc(path))

    new_warc = tmp_path / "warc-resumed"
    govaudit(web, db, "crawl", "--resume", "--workers", "1", "--warc", str(new_warc))
    assert _done(db) == 12
    assert sorted(p.name for p in warc.glob("*.warc.gz")) == first
    assert len(read_warc(path)) == before, "the resumed crawl wrote into the old file"
    resumed_files = sorted(p.name for p in new_warc.glob("*.warc.gz"))
    assert resumed_files and not set(resumed_files) & set(first), resumed_files
    assert all(FILE_NAME.match(name) for name in resumed_files)
    resumed = read_warc(new_warc / resumed_files[0])
    assert resumed[0]["type"] == "warcinfo"
    assert any(r["type"] == "response" for r in resumed)
    # Every file is registered with the folder it was written to...
    with sqlite3.connect(tmp_path / "killed.db") as conn:
        folders = dict(conn.execute("select name, directory from warc_file").fetchall())
        cited = conn.execute("select warc_file, warc_offset from endpoint_observation").fetchall()
    assert folders == {
        **{name: str(warc) for name in first},
        **{name: str(new_warc) for name in resumed_files},
    }
    # ...and every stored endpoint names a record that is there, in that folder.
    offsets = {n: {r["offset"] for r in read_warc(Path(d) / n)} for n, d in folders.items()}
    assert cited and all(offset in offsets[name] for name, offset in cited)
    assert {name for name, _ in cited} & set(first) and {name for name, _ in cited} - set(first)

    # The findings of both attempts' sites: each cited record is read back and verified.
    govaudit_here(db, "audit")
    findings = json.loads(govaudit_here(db, "export", "findings", "--format", "json").stdout)
    archived = [f for f in findings if f["warc_file"]]
    assert {f["warc_file"] for f in archived} & set(first)
    assert {f["warc_file"] for f in archived} & set(resumed_files)
    # One finding per file cited (each `evidence` is a process start; the records of a file
    # are read the same way).
    one_per_file = {f["warc_file"]: f for f in archived}
    for finding in one_per_file.values():
        shown = govaudit_here(db, "evidence", str(finding["finding_id"]), check=False)
        assert shown.returncode == 0, shown.stdout + shown.stderr
        records = shown.stdout.count("\nrecord ")
        assert records and shown.stdout.count("payload digest: verified") == records


def read_warc_tolerant(path: Path) -> list[dict[str, Any]]:
    """Records up to the first damaged one, as a reader skipping a torn tail sees them."""
    out: list[dict[str, Any]] = []
    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        try:
            for record in records:
                record.content_stream().read()
                out.append({"offset": records.get_record_offset(), "type": record.rec_type})
        except (EOFError, OSError, gzip.BadGzipFile, Exception):
            pass
    return out


def _done(db: str) -> int:
    path = db.removeprefix("sqlite:///")
    if not os.path.exists(path):
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as conn:
            row = conn.execute("select count(*) from crawl_task where state = 'done'").fetchone()
            return int(row[0])
    except sqlite3.OperationalError:
        return 0


def test_report_names_the_archived_record(world: WarcWorld, tmp_path: Path) -> None:
    findings = world.json("export", "findings")
    hud = next(f for f in findings if f["domain"] == "hud.gov" and f["rule"] == "plan-missing")
    out = tmp_path / "report"
    world.here("report", "--out", str(out))
    html = "\n".join(p.read_text(encoding="utf-8") for p in out.rglob("*.html"))
    assert f"{hud['warc_file']}#{hud['warc_offset']}" in html
    assert f"govaudit evidence {hud['finding_id']}" in html


def test_failed_fetches_are_metadata_records_the_observations_cite(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    """A domain whose name does not resolve: every endpoint try is a `metadata` record with
    the reason, and the endpoint observations (and the site-unreachable finding) cite them."""
    web = simulated_web_factory(
        {"up": {"hosts": ["up.gov", "www.up.gov"], "pages": {"/": {"title": "Up"}}}}
    )
    db = f"sqlite:///{tmp_path}/g.db"
    warc = tmp_path / "warc"
    registry = registry_csv(tmp_path / "r-2026-01-01.csv", ["up.gov", "nohost.gov"])
    govaudit_here(db, "inventory", "load", str(registry))
    govaudit(
        web, db, "crawl", "--only", "sites", "--workers", "1", "--timeout", "5", "--warc", str(warc)
    )
    records = [r for p in sorted(warc.glob("*.warc.gz")) for r in read_warc(p)]
    failed = {
        r["uri"]: json.loads(r["body"])
        for r in records
        if r["type"] == "metadata" and "nohost.gov" in r["uri"]
    }
    assert set(failed) >= {"http://nohost.gov/", "https://nohost.gov/"}
    assert all(m["kind"] == "dns" and m["reason"] for m in failed.values())
    with sqlite3.connect(tmp_path / "g.db") as conn:
        rows = conn.execute(
            "select url, warc_file, warc_offset from endpoint_observation where domain = ?",
            ("nohost.gov",),
        ).fetchall()
    offsets = {r["offset"]: r for p in sorted(warc.glob("*.warc.gz")) for r in read_warc(p)}
    assert len(rows) == 4
    for url, wfile, offset in rows:
        assert wfile and offsets[offset]["type"] == "metadata" and offsets[offset]["uri"] == url
    govaudit_here(db, "audit")
    finding = next(
        f
        for f in json.loads(govaudit_here(db, "export", "findings", "--format", "json").stdout)
        if f["rule"] == "site-unreachable" and f["domain"] == "nohost.gov"
    )
    assert finding["warc_file"]
    shown = govaudit_here(db, "evidence", str(finding["finding_id"])).stdout
    assert shown.count("WARC-Type: metadata") == 4
    assert '"kind": "dns"' in shown


def test_files_rotate_and_each_starts_with_warcinfo(tmp_path: Path) -> None:
    import datetime as dt

    from crawler.warc import WarcArchive

    archive = WarcArchive(tmp_path, 7, "1", {"software": "govaudit/test"}, max_bytes=4000)
    for i in range(40):
        archive.put(
            "response",
            {
                "url": f"https://www.x.gov/p{i}",
                "at": dt.datetime.now(dt.UTC),
                "status": 200,
                "protocol": "HTTP/1.1",
                "headers": [("Content-Type", "text/plain")],
                "body": os.urandom(300),
                "method": "GET",
                "target": f"/p{i}",
                "request_headers": [("Host", "www.x.gov")],
                "request_body": b"",
            },
        )
    archive.sync()
    where = archive.location("https://www.x.gov/p39")
    archive.close()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) > 2
    named = [FILE_NAME.match(p.name) for p in files]
    assert all(named) and {m["run"] for m in named if m} == {"7"}
    assert [int(m["seq"]) for m in named if m] == list(range(len(files)))
    assert {m["pid"] for m in named if m} == {str(os.getpid())}
    responses = 0
    for path in files:
        assert path.stat().st_size <= 4000 or len(read_warc(path)) == 3
        records = read_warc(path)
        assert records[0]["type"] == "warcinfo"
        responses += sum(r["type"] == "response" for r in records)
    assert responses == 40
    assert where is not None
    last = read_warc(tmp_path / where.file)
    hit = next(r for r in last if r["offset"] == where.offset)
    assert hit["uri"] == "https://www.x.gov/p39" and hit["payload_digest"] == where.digest


def test_request_records_carry_no_credentials() -> None:
    from scrapy import Request
    from scrapy.http import HtmlResponse

    from crawler.warc import WarcMiddleware

    class Queue:
        def __init__(self) -> None:
            self.items: list[tuple[str, dict[str, Any]]] = []

        def put(self, kind: str, data: dict[str, Any]) -> None:
            self.items.append((kind, data))

    queued = Queue()
    middleware = WarcMiddleware(None, queued)  # type: ignore[arg-type]
    request = Request(
        "https://www.x.gov/open?a=1",
        headers={"Proxy-Authorization": "Basic Ym9iOmh1bnRlcjI=", "Accept": "text/html"},
        meta={"proxy": "http://bob:hunter2@127.0.0.1:3128"},
    )
    response = HtmlResponse(request.url, status=200, body=b"<html></html>", request=request)
    assert middleware.process_response(request, response) is response
    [(kind, data)] = queued.items
    assert kind == "response"
    names = [k.lower() for k, _ in data["request_headers"]]
    assert "proxy-authorization" not in names and "accept" in names
    assert ("Host", "www.x.gov") in data["request_headers"]
    assert data["target"] == "/open?a=1"
    assert "hunter2" not in json.dumps(data, default=str)
    middleware.process_exception(
        request, OSError("proxy http://bob:hunter2@127.0.0.1:3128 said no")
    )
    assert queued.items[-1][0] == "metadata"
    assert "hunter2" not in queued.items[-1][1]["reason"]


def test_a_record_that_cannot_be_built_is_skipped_not_the_writer(tmp_path: Path) -> None:
    import datetime as dt

    from crawler.warc import WarcArchive

    archive = WarcArchive(tmp_path, 3, "0", {"software": "govaudit/test"})
    good = {
        "at": dt.datetime.now(dt.UTC),
        "protocol": "HTTP/1.1",
        "headers": [],
        "body": b"ok",
        "method": "GET",
        "target": "/",
        "request_headers": [],
    }
    archive.put("response", {**good, "url": "https://bad.gov/", "status": "not a status"})
    archive.put("response", {**good, "url": "https://good.gov/", "status": 200})
    archive.sync()
    archive.close()
    assert archive.location("https://bad.gov/") is None
    assert archive.location("https://good.gov/") is not None
    [path] = tmp_path.glob("*.warc.gz")
    assert [r["uri"] for r in read_warc(path) if r["type"] == "response"] == ["https://good.gov/"]


def test_the_record_index_holds_only_the_units_in_flight(tmp_path: Path) -> None:
    import datetime as dt

    from crawler.warc import WarcArchive

    archive = WarcArchive(tmp_path, 5, "0", {"software": "govaudit/test"})

    def fetched(unit: str | None, url: str) -> None:
        archive.put(
            "response",
            {
                "url": url,
                "at": dt.datetime.now(dt.UTC),
                "status": 200,
                "protocol": "HTTP/1.1",
                "headers": [("Content-Type", "text/plain")],
                "body": b"x",
                "method": "GET",
                "target": "/",
                "request_headers": [],
                "request_body": b"",
                "unit": unit,
            },
        )

    fetched("alpha.gov", "https://www.alpha.gov/")
    fetched("alpha.gov", "https://www.usa.gov/")  # a link both units checked...
    fetched("beta.gov", "https://www.beta.gov/")
    fetched("beta.gov", "https://www.usa.gov/")  # ...beta's record is the newer one
    archive.put(  # a failed fetch is indexed (and dropped) the same way
        "metadata",
        {
            "url": "https://alpha.gov/",
            "at": dt.datetime.now(dt.UTC),
            "error_kind": "timeout",
            "reason": "took longer than 5 s",
            "unit": "alpha.gov",
        },
    )
    archive.sync()
    usa = archive.location("https://www.usa.gov/")
    archive.forget_unit("alpha.gov")
    assert archive.location("https://www.alpha.gov/") is None
    assert archive.location("https://alpha.gov/") is None
    assert archive.location("https://www.usa.gov/") is usa  # still beta's, which is in flight
    assert archive.location("https://www.beta.gov/") is not None
    archive.forget_unit("beta.gov")
    archive.close()
    assert archive.locations == {} and archive.unit_entries == {}


def test_files_are_warc_1_1_and_not_executable(world: WarcWorld) -> None:
    """Issue 28.4: every record says WARC/1.1 (as the warcinfo record does); files are 0644."""
    umask = os.umask(0)
    os.umask(umask)
    files = sorted(world.warc.glob("*.warc.gz"))
    assert files
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o644 & ~umask, oct(path.stat().st_mode)
        versions = {r["headers"].protocol for r in read_warc(path)}
        assert versions == {"WARC/1.1"}, (path.name, versions)


def _response(url: str, body: bytes) -> dict[str, Any]:
    import datetime as dt

    return {
        "url": url,
        "at": dt.datetime.now(dt.UTC),
        "status": 200,
        "protocol": "HTTP/1.1",
        "headers": [("Content-Type", "text/plain")],
        "body": body,
        "method": "GET",
        "target": "/",
        "request_headers": [],
        "request_body": b"",
    }


def _written(folder: Path, run_id: int, *responses: tuple[str, bytes]) -> list[Any]:
    from crawler.warc import WarcArchive

    archive = WarcArchive(folder, run_id, "0", {"software": "govaudit/test"})
    for url, body in responses:
        archive.put("response", _response(url, body))
    archive.sync()
    archive.close()
    return [archive.location(url) for url, _ in responses]


def _cited(where: Any, url: str, folders: tuple[str, ...]) -> Any:
    from audit.warc_citations import CitedRecord

    return CitedRecord(
        "page", url, None, 1, None, 200, None, where.file, where.offset, where.digest, folders, "x"
    )


def test_a_damaged_or_foreign_file_is_one_line_never_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 28.1: the record is looked for in every folder; a file of the same name that is
    damaged (zlib's "incorrect header check") or holds another record at the offset is
    passed over with its reason, in one line; the right file wins wherever it is."""
    import dataclasses

    from audit.warc_citations import UnreadableRecord, read_cited

    good = tmp_path / "good"
    url = "https://www.x.gov/"
    [where] = _written(good, 1, (url, b"the cited body"))
    assert where is not None
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    data = (good / where.file).read_bytes()
    # Not gzip at the offset: zlib.error deep inside warcio.
    (damaged / where.file).write_bytes(data[: where.offset] + b"\x00garbage" * 50)

    cited = _cited(where, url, (str(damaged), str(good)))
    found = read_cited(cited)
    assert found.path == good / where.file and found.body == b"the cited body"
    assert found.digest_ok is True
    with pytest.raises(UnreadableRecord) as failed:
        read_cited(_cited(where, url, (str(damaged),)))
    assert "\n" not in str(failed.value) and str(damaged / where.file) in str(failed.value)
    # A record whose Content-Length is wrong (warcio warns on stderr: "perhaps Content-Length
    # is invalid"): the warning is not written over the command's output.
    import gzip
    import re

    record = gzip.decompress(data[where.offset :])
    length = int(re.search(rb"Content-Length: (\d+)", record).group(1))  # type: ignore[union-attr]
    short = record.replace(b"Content-Length: %d" % length, b"Content-Length: %d" % (length - 7), 1)
    lying = tmp_path / "lying"
    lying.mkdir()
    (lying / where.file).write_bytes(data[: where.offset] + short)
    with pytest.raises(UnreadableRecord):
        read_cited(_cited(where, url, (str(lying),)))
    assert capsys.readouterr().err == ""
    # A record of another URL, or with another digest, at the offset is not the cited one.
    with pytest.raises(UnreadableRecord, match="another URL"):
        read_cited(dataclasses.replace(cited, url="https://www.y.gov/"))
    with pytest.raises(UnreadableRecord, match="another payload digest"):
        read_cited(dataclasses.replace(cited, warc_digest="sha1:AAAA"))
    with pytest.raises(UnreadableRecord, match="is not in"):
        read_cited(_cited(where, url, (str(tmp_path / "nowhere"),)))
    # --warc DIR given: looked at first.
    assert read_cited(_cited(where, url, (str(damaged),)), [good]).path == good / where.file
