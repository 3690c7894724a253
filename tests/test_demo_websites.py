"""`govaudit demo` shows websites beyond www (issue 21): the demo source list loaded, two
website crawls, every planted website judged as simweb/demo/world.yaml says, the Websites
page and the agency pages filled."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from simweb.sites import DEMO_DIR, DEMO_WORLD_FILE

pytestmark = pytest.mark.integration


def export(out: Path, *args: str) -> Any:
    govaudit = str(Path(sys.executable).parent / "govaudit")
    db = f"sqlite:///{out / 'govaudit-demo.db'}"
    result = subprocess.run(
        [govaudit, "--db", db, *args], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(result.stdout)


def test_demo_websites_are_judged_as_the_world_says(demo_run: dict[str, Any]) -> None:
    out = Path(str(demo_run["out"]))
    world = yaml.safe_load(DEMO_WORLD_FILE.read_text())["websites"]
    rows = {r["host"]: r for r in export(out, "export", "websites", "--format", "json")}
    for entry in world:
        row = rows[entry["host"]]
        for key, value in entry["expected"].items():
            assert row[key] == value, (entry["host"], key, row[key])
        listed = "demo-websites-2011-09-01" in row["sources"]
        assert listed == entry["listed"], entry["host"]
        if entry["site_file"]:
            assert (DEMO_DIR / entry["site_file"]).is_file()
    db = sqlite3.connect(out / "govaudit-demo.db")
    first, second = (
        run_id
        for (run_id,) in db.execute(
            "select distinct run_id from crawl_task where job = 'websites' order by run_id"
        )
    )
    # Every website got a status from the second website crawl.
    assert all(r["status"] for r in rows.values())
    assert {r["crawl_run"] for r in rows.values()} == {second}
    # The candidate lists are exactly the planted ones.
    planted = {e["host"]: e["expected"]["candidate"] for e in world if e["expected"]["candidate"]}
    assert {h: r["candidate"] for h, r in rows.items() if r["candidate"]} == planted
    candidates = export(out, "inventory", "websites", "--candidates", "--format", "json")
    retire = {r["host"]: r for r in candidates["retire"]}
    (first_website_crawl,) = db.execute(
        "select fetched_at from site_observation where run_id = ? and domain = 'legacy.epa.gov'",
        (first,),
    ).fetchone()
    # Unreachable in both website crawls: since the first.
    assert retire["legacy.epa.gov"]["since"] == first_website_crawl.replace(" ", "T")[:19]
    runs = dict(
        db.execute(
            "select t.job, count(distinct r.id) from crawl_run r join crawl_task t "
            "on t.run_id = r.id where r.status = 'finished' group by t.job"
        )
    )
    assert runs["websites"] == 2 and runs["sites"] == 2


def test_demo_report_has_the_websites_page(demo_run: dict[str, Any]) -> None:
    from bs4 import BeautifulSoup

    index = Path(str(demo_run["stdout"]).strip().splitlines()[-1])
    page = BeautifulSoup((index.parent / "websites.html").read_text(), "lxml")
    hosts = {row.td.get_text(" ").split()[0] for row in page.select("#websites-table tbody tr")}
    assert {"earthobservatory.nasa.gov", "legacy.epa.gov", "history.state.gov"} <= hosts
    add = [r.td.get_text() for r in page.select("#website-add-table tbody tr")]
    assert add == ["earthobservatory.nasa.gov"]
    retire = {r.td.get_text(" ").split()[0] for r in page.select("#website-retire-table tbody tr")}
    assert retire == {"climate.nasa.gov", "legacy.epa.gov", "beta.sba.gov"}
    nasa = next(a["href"] for a in page.select("#website-agencies a") if "Aeronautics" in a.text)
    agency = BeautifulSoup((index.parent / nasa.split("#")[0]).read_text(), "lxml")
    listed = {r.td.get_text(" ").split()[0] for r in agency.select("#agency-websites tbody tr")}
    assert {"science.nasa.gov", "climate.nasa.gov", "earthobservatory.nasa.gov"} <= listed
    assert (index.parent / "websites.csv").read_text().startswith("host,domain,agency,sources,")
