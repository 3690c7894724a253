"""Render the static HTML report: one Jinja2 environment (autoescape, StrictUndefined), one
template per page kind over a base layout and partials, contexts from `reports.views`.

The output is a self-contained folder that opens from file:// and works offline: relative
links only, the CSS and JS copied next to the pages, charts as inline SVG, no remote fonts,
scripts or images, and a Content-Security-Policy in every page that forbids them anyway.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from audit.a11y import A11Y_COLUMNS
from audit.agencies_file import AgencySeed
from audit.config_files import chromium_path
from audit.db import Database
from audit.dns_results import DNS_COLUMNS, csv_words
from audit.export import FINDING_COLUMNS, to_csv
from audit.fleet_figures import SITE_STATUSES
from audit.plan_rows import PLAN_COLUMNS
from audit.policy_file import Policy
from audit.reason_words import element_label
from audit.site_rows import SITE_COLUMNS
from audit.website_rows import EXPORT_COLUMNS as WEBSITE_EXPORT_COLUMNS
from reports import charts, report_data
from reports.display import evidence_items, is_web_url, short_url
from reports.views import build
from reports.views.labels import STATUS_LABELS

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_FILES = ("report.css", "report.js")

INVENTORY_COLUMNS = [
    "domain",
    "domain_type",
    "agency",
    "organization",
    "suborganization",
    "city",
    "state",
    "security_contact",
    "snapshot",
    "site_status",
    "https",
]
# (file, navigation label), in the navigation's order.
PAGES: list[tuple[str, str]] = [
    ("index.html", "Overview"),
    ("agencies.html", "Agencies"),
    ("freeze.html", "Domain freeze"),
    ("plans.html", "Customer Service Plans"),
    ("inventory.html", "Inventory"),
    ("websites.html", "Websites"),
    ("changes.html", "Changes"),
    ("guidelines.html", "Guidelines"),
    ("accessibility.html", "Accessibility"),
    ("email-dns.html", "Email and DNS"),
    ("about.html", "Methodology"),
    ("downloads.html", "Downloads"),
]

CHROMIUM = chromium_path()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# ---------------------------------------------------------------------------- filters


def safe_url(value: Any) -> str:
    """The URL itself when it is an absolute http(s) URL (safe to make a link), else ""."""
    return str(value).strip() if is_web_url(value) else ""


def num(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return f"{value:,}"
    return str(value)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def yesno(value: Any) -> str:
    if value is None:
        return "n/a"
    return "Yes" if value else "No"


def token(value: Any) -> str:
    """A CSS class fragment from data: lower case letters, digits and hyphens only."""
    text = "".join(c if c.isalnum() or c == "-" else "-" for c in str(value).lower())
    return text.strip("-") or "none"


def make_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        safe_url=safe_url,
        num=num,
        pct=pct,
        yesno=yesno,
        token=token,
        evidence=evidence_items,
        short_url=short_url,
        element_label=element_label,
    )
    env.globals["nav_pages"] = PAGES
    return env


# ---------------------------------------------------------------------------- downloads


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------- rendering


def render_report(
    db: Database,
    out_dir: Path,
    run_id: int | None = None,
    audit_run_id: int | None = None,
    *,
    policy: Policy | None = None,
    agencies: Sequence[AgencySeed] | None = None,
    other_reports: Sequence[tuple[str, str]] = (),
) -> Path:
    """Write the report into `out_dir`; return the absolute path of its index.html.

    `policy` (an `audit.policy_file.Policy`) and `agencies` (AgencySeed list) default to the
    bundled seeds; the policy an audit stored wins over both, except for the guideline
    checks of the Guidelines page, which are always `policy`'s. `other_reports`: (label,
    relative URL) of reports of the same data with another guideline set, linked from the
    Guidelines page. Raises `audit.run_selection.NoData` only for an explicit run id that does not
    exist.
    """
    with db.session() as session:
        data = report_data.gather(
            session, run_id, audit_run_id, policy=policy, agency_seeds=agencies
        )
    data["other_reports"] = [{"label": label, "href": href} for label, href in other_reports]
    return write_report(data, Path(out_dir))


def write_report(data: dict[str, Any], out_dir: Path) -> Path:
    """Render gathered data (see `report_data.gather`) into `out_dir`."""
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    model = build(data)
    env = make_env()

    overview = model["overview"]
    overview["status_chart"] = charts.status_bar_chart(
        overview["chart_agencies"],
        SITE_STATUSES,
        STATUS_LABELS,
        chart_id="chart-status",
        title=f"Site status for the {len(overview['chart_agencies'])} agencies with most sites",
    )
    freeze = model["freeze"]
    for ctx, chart_id in ((overview, "chart-timeline"), (freeze, "chart-freeze-timeline")):
        ctx["timeline_chart"] = charts.registration_timeline(
            overview["freeze_windows"],
            overview["timeline_rows"],
            chart_id=chart_id,
            total=overview["dated_total"],
        )

    def page(template: str, rel: str, ctx: dict[str, Any], current: str) -> None:
        depth = rel.count("/")
        html = env.get_template(template).render(
            **ctx, root="../" * depth, current=current, page_path=rel
        )
        _write(out_dir / rel, html)

    page("index.html", "index.html", overview, "index.html")
    page("agencies.html", "agencies.html", model["agencies_index"], "agencies.html")
    page("freeze.html", "freeze.html", freeze, "freeze.html")
    page("plans.html", "plans.html", model["plans"], "plans.html")
    page("inventory.html", "inventory.html", model["inventory"], "inventory.html")
    page("websites.html", "websites.html", model["websites"], "websites.html")
    page("changes.html", "changes.html", model["changes"], "changes.html")
    page("guidelines.html", "guidelines.html", model["guidelines"], "guidelines.html")
    page("accessibility.html", "accessibility.html", model["accessibility"], "accessibility.html")
    page("email_dns.html", "email-dns.html", model["email_dns"], "email-dns.html")
    page("about.html", "about.html", model["about"], "about.html")
    page("downloads.html", "downloads.html", model["downloads"], "downloads.html")

    agency_dir = out_dir / "agencies"
    wanted = set()
    template = env.get_template("agency.html")
    for ctx in model["agency_pages"]:
        rel = ctx["agency"]["page"]
        wanted.add(Path(rel).name)
        _write(
            out_dir / rel,
            template.render(**ctx, root="../", current="agencies.html", page_path=rel),
        )
    if agency_dir.is_dir():  # pages of agencies no longer in the data
        for old in agency_dir.glob("*.html"):
            if old.name not in wanted:
                old.unlink()

    for name in STATIC_FILES:
        shutil.copyfile(STATIC / name, out_dir / name)

    csvs = model["csv"]
    _write(out_dir / "sites.csv", to_csv(csvs["sites"], SITE_COLUMNS))
    _write(out_dir / "plans.csv", to_csv(csvs["plans"], PLAN_COLUMNS))
    _write(out_dir / "findings.csv", to_csv(csvs["findings"], FINDING_COLUMNS))
    _write(out_dir / "inventory.csv", to_csv(csvs["inventory"], INVENTORY_COLUMNS))
    if data["a11y_run"]:
        _write(out_dir / "a11y.csv", to_csv(csvs["a11y"], A11Y_COLUMNS))
    if data["dns_run"]:
        _write(out_dir / "dns.csv", to_csv(csv_words(csvs["dns"]), DNS_COLUMNS))
    if data["websites"]:
        _write(out_dir / "websites.csv", to_csv(csvs["websites"], WEBSITE_EXPORT_COLUMNS))
    _write(
        out_dir / "report.json",
        json.dumps(model["report_json"], default=str, ensure_ascii=False) + "\n",
    )
    return out_dir / "index.html"


# ---------------------------------------------------------------------------- browser


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium through Playwright (no `playwright install` needed)."""
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(
            f"{CHROMIUM} not found: install Debian's chromium-headless-shell "
            "(apt-get install chromium-headless-shell) or set GOVAUDIT_CHROMIUM"
        )
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def screenshot(
    page_path: Path,
    png_path: Path,
    width: int = 1280,
    height: int = 900,
    full_page: bool = False,
) -> Path:
    """A PNG of one report page as Chromium shows it (for README screenshots).

    Only file:// requests are allowed, so a screenshot proves the page works offline.
    """
    from playwright.sync_api import sync_playwright

    page_path = Path(page_path).resolve()
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.route(
                "**/*",
                lambda route: (
                    route.continue_() if route.request.url.startswith("file://") else route.abort()
                ),
            )
            page.goto(page_path.as_uri(), wait_until="load")
            page.screenshot(path=str(png_path), full_page=full_page)
        finally:
            browser.close()
    return png_path.resolve()
