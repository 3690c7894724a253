"""Accessibility observations: axe-core run in a real browser on each page to check.

Debian's Chromium, driven by Playwright (never a downloaded browser), loads each page the way
a visitor's browser would (scripts run, styles apply, so colour contrast is real), then the
axe-core copy bundled with `axe-playwright-python` (offline; its version recorded) is
evaluated in the page. This module only observes: what axe reported, or why the page could
not be checked. Judging (the `accessibility` rule, guideline predicates) is audit/'s.

Politeness is the crawl's: its User-Agent, robots.txt obeyed (read through the same browser,
so the same proxy and trust apply), one page per host at a time, N pages at once, images,
fonts, media and favicons never downloaded, and a deadline per page.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from protego import Protego

from audit.domain_names import registrable_domain

CHROMIUM = os.environ.get("GOVAUDIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    # The browser's own traffic (updates, sign-in, safe browsing, connectivity checks) would
    # go through the crawl's proxy to hosts that are not being audited: keep it quiet.
    "--no-pings",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-default-apps",
    "--disable-extensions",
    "--safebrowsing-disable-auto-update",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater,"
    "NetworkTimeServiceQuerying,CaptivePortalDetection,SignInProfileCreation,"
    "AccountConsistency,PushMessaging",
]
# Resources a check never needs: axe judges the DOM and computed styles, not the pixels.
SKIPPED_RESOURCES = frozenset({"image", "font", "media"})
SNIPPET_CHARS = 300
ROBOTS_BYTES = 500_000
# A favicon is an image (never downloaded), but Chromium asks a document's origin for
# /favicon.ico on its own, unseen by Playwright's routes, unless the document names an icon.
# robots.txt is read as a document too, and must stay the only thing a forbidding origin is
# asked; so every document gets a data: icon when it names none (axe ignores <link>s).
NO_DEFAULT_ICON = """(() => {
  const declare = () => {
    if (document.head && !document.querySelector('link[rel~="icon"]')) {
      const link = document.createElement('link');
      link.rel = 'icon';
      link.href = 'data:,';
      document.head.appendChild(link);
    }
  };
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', declare);
  } else {
    declare();
  }
})();"""
# Port 9 (discard) on loopback: nothing answers, so a request sent there fails at once.
BLACKHOLE_PROXY = "http://127.0.0.1:9"


@dataclass(frozen=True)
class PageTarget:
    """One page to check, and why it is on the list."""

    domain: str
    url: str
    kind: str  # "homepage" | "open" | "plan"
    agency: str | None = None


@dataclass
class Violation:
    rule: str
    impact: str | None
    wcag: list[str]
    nodes: int
    example_target: str
    example_html: str

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "impact": self.impact,
            "wcag": self.wcag,
            "nodes": self.nodes,
            "example_target": self.example_target,
            "example_html": self.example_html,
        }


@dataclass
class PageCheck:
    """What one check saw: violations, or the reason it could not be checked."""

    target: PageTarget
    checked_at: dt.datetime
    state: str  # "checked" | "couldn't check"
    reason: str | None = None
    final_url: str | None = None
    http_status: int | None = None
    axe_version: str | None = None
    violations: list[Violation] = field(default_factory=list)


def chromium_missing() -> str | None:
    """Why the browser cannot run here, or None (a clear one-line message for the CLI)."""
    if not Path(CHROMIUM).exists():
        return (
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) "
            "or set GOVAUDIT_CHROMIUM"
        )
    return None


def axe_source() -> str:
    """The axe-core script bundled with axe-playwright-python (no network needed)."""
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def ca_bundle_path(given: str | Path | None) -> Path | None:
    """--ca-bundle, else SSL_CERT_FILE: the extra trust roots, as for the crawl."""
    value = given or os.environ.get("SSL_CERT_FILE")
    return Path(value) if value else None


def trusting_home(pem_file: Path, home: Path) -> dict[str, str]:
    """A HOME whose NSS database trusts the CAs of a PEM bundle, for Chromium to run under.

    Chromium on Linux does not read SSL_CERT_FILE; it takes locally added roots from the
    user's NSS database (`$HOME/.pki/nssdb`). A throwaway HOME with the given CAs added there
    (certutil, Debian's libnss3-tools) trusts them for this run only, without touching the
    system's certificate store; the system roots stay trusted as usual.
    """
    import subprocess

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True, exist_ok=True)
    if shutil.which("certutil") is None:
        raise FileNotFoundError(
            "certutil not found: install Debian's libnss3-tools to trust a CA bundle in Chromium"
        )
    subprocess.run(
        ["certutil", "-N", "-d", f"sql:{nssdb}", "--empty-password"],
        check=True,
        capture_output=True,
    )
    for number, cert in enumerate(x509.load_pem_x509_certificates(pem_file.read_bytes())):
        ca = home / f"ca-{number}.pem"
        ca.write_bytes(cert.public_bytes(Encoding.PEM))
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{nssdb}", "-t", "C,,", "-n", f"ca-{number}", "-i", ca],
            check=True,
            capture_output=True,
        )
    return {**os.environ, "HOME": str(home)}


def proxy_from_env(scheme: str = "https") -> str | None:
    for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY", "http_proxy", "HTTP_PROXY"):
        if os.environ.get(name):
            return os.environ[name]
    return None


def chromium_launch_options(ca_bundle: Path | None, home: Path) -> dict[str, Any]:
    options: dict[str, Any] = {"executable_path": CHROMIUM, "args": list(CHROMIUM_ARGS)}
    if ca_bundle is not None:
        options["env"] = trusting_home(ca_bundle, home)
    if proxy_from_env():
        # Through a proxy, the browser's own background traffic (updates, sign-in) goes to a
        # port where nothing listens; pages get the crawl's proxy per context.
        options["proxy"] = {"server": BLACKHOLE_PROXY}
    return options


def context_proxy() -> dict[str, str] | None:
    proxy = proxy_from_env()
    return {"server": proxy, "bypass": ""} if proxy else None


def summarise_violations(raw: Iterable[dict[str, Any]]) -> list[Violation]:
    """axe's `violations` array -> one Violation per rule with its first node as example."""
    out = []
    for item in raw:
        nodes = item.get("nodes") or []
        first = nodes[0] if nodes else {}
        target = first.get("target") or []
        out.append(
            Violation(
                rule=str(item.get("id")),
                impact=item.get("impact"),
                wcag=sorted(t for t in item.get("tags", []) if re.match(r"wcag\d", t)),
                nodes=len(nodes),
                example_target=" ".join(map(str, target))[:SNIPPET_CHARS],
                example_html=str(first.get("html") or "")[:SNIPPET_CHARS],
            )
        )
    return sorted(out, key=lambda v: v.rule)


class HostGate:
    """At most one page per host at a time (the registrable domain is the host here)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    def __call__(self, url: str) -> asyncio.Lock:
        host = registrable_domain(urlsplit(url).hostname or "") or url
        return self._locks.setdefault(host, asyncio.Lock())


class AccessibilityChecker:
    """Checks pages with axe-core in headless Chromium; one instance per run."""

    def __init__(
        self,
        *,
        user_agent: str,
        concurrency: int = 2,
        timeout: float = 60.0,
        obey_robots: bool = True,
        ca_bundle: str | Path | None = None,
    ) -> None:
        self.user_agent = user_agent
        self.concurrency = concurrency
        self.timeout = timeout
        self.obey_robots = obey_robots
        self.ca_bundle = Path(ca_bundle) if ca_bundle else None
        self._axe = axe_source()
        self._robots: dict[str, Protego | None] = {}

    async def check_all(
        self, targets: Sequence[PageTarget], on_result: Callable[[PageCheck], None]
    ) -> None:
        from playwright.async_api import async_playwright

        missing = chromium_missing()
        if missing:
            raise FileNotFoundError(missing)
        slots = asyncio.Semaphore(self.concurrency)
        gate = HostGate()
        async with async_playwright() as playwright:
            home = Path(tempfile.mkdtemp(prefix="govaudit-a11y-"))
            try:
                launch = chromium_launch_options(self.ca_bundle, home)
                browser = await playwright.chromium.launch(**launch)
                try:

                    async def one(target: PageTarget) -> None:
                        async with gate(target.url), slots:
                            on_result(await self.check(browser, target))

                    await asyncio.gather(*(one(t) for t in targets))
                finally:
                    await browser.close()
            finally:
                shutil.rmtree(home, ignore_errors=True)

    async def check(self, browser: Any, target: PageTarget) -> PageCheck:
        started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        context = await browser.new_context(
            user_agent=self.user_agent,
            bypass_csp=True,
            java_script_enabled=True,
            proxy=context_proxy(),
        )
        try:
            return await asyncio.wait_for(
                self._check_in(context, target, started), timeout=self.timeout
            )
        except TimeoutError:
            return PageCheck(target, started, "couldn't check", f"timeout after {self.timeout:g} s")
        except Exception as exc:
            return PageCheck(target, started, "couldn't check", _browser_error(exc))
        finally:
            await context.close()

    async def _check_in(self, context: Any, target: PageTarget, started: dt.datetime) -> PageCheck:
        async def skip_heavy(route: Any) -> None:
            if route.request.resource_type in SKIPPED_RESOURCES:
                await route.abort()
            else:
                await route.continue_()

        page = await context.new_page()
        await page.route("**/*", skip_heavy)
        await page.add_init_script(NO_DEFAULT_ICON)
        if self.obey_robots and not await self._robots_allow(page, target.url):
            return PageCheck(target, started, "couldn't check", "blocked by robots.txt")
        response = await page.goto(target.url, wait_until="load")
        status = response.status if response is not None else None
        if status is not None and status >= 400:
            return PageCheck(target, started, "couldn't check", f"HTTP {status}", page.url, status)
        await page.evaluate(self._axe)
        result = await page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ['violations']});
                return {version: axe.version, violations: r.violations};
            }"""
        )
        return PageCheck(
            target,
            started,
            "checked",
            None,
            page.url,
            status,
            str(result.get("version")),
            summarise_violations(result.get("violations") or []),
        )

    async def _robots_allow(self, page: Any, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = await self._fetch_robots(page, origin)
        rules = self._robots[origin]
        return rules is None or rules.can_fetch(url, self.user_agent)

    async def _fetch_robots(self, page: Any, origin: str) -> Protego | None:
        try:
            response = await page.goto(f"{origin}/robots.txt", wait_until="commit")
            if response is None or response.status >= 400:
                return None
            body = (await response.body())[:ROBOTS_BYTES].decode("utf-8", "replace")
        except Exception:
            return None
        return Protego.parse(body)


def _browser_error(exc: BaseException) -> str:
    """Playwright's message names the network error (net::ERR_...) on its first line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    found = re.search(r"net::ERR_[A-Z_]+", text)
    return found.group(0) if found else text[:200]


def run_checks(
    targets: Sequence[PageTarget], on_result: Callable[[PageCheck], None], **options: Any
) -> None:
    asyncio.run(AccessibilityChecker(**options).check_all(targets, on_result))


# ------------------------------------------------------------------ a run over crawl tasks

BATCH_SIZE = 10
BATCH_SECONDS = 2.0


def task_key(target: PageTarget) -> str:
    """A crawl_task key for a page: its kind and URL (one task per page and kind)."""
    return f"{target.kind} {target.url}"


def target_of(key: str, domain: str, agency: str | None) -> PageTarget:
    kind, _, url = key.partition(" ")
    return PageTarget(domain, url, kind, agency)


def check_run(
    db: Any,
    run_id: int,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    **options: Any,
) -> tuple[int, int]:
    """Check every pending page of an a11y run; store each result with its task's state.

    A result and its task's `done` state are written in the same transaction (in batches),
    so a killed run loses at most the batch in flight, and re-running picks up what is still
    pending. Returns (checked, couldn't check) of this call.
    """
    import time

    from sqlalchemy import select

    from audit.models import A11yCheck, CrawlTask, utcnow

    with db.session() as session:
        tasks = session.execute(
            select(CrawlTask.id, CrawlTask.key, CrawlTask.domain, CrawlTask.agency).where(
                CrawlTask.run_id == run_id, CrawlTask.job == "a11y", CrawlTask.state == "pending"
            )
        ).all()
    task_ids = {key: task_id for task_id, key, _, _ in tasks}
    targets = [target_of(key, domain, agency) for _, key, domain, agency in tasks]
    pending: list[PageCheck] = []
    counts = {"checked": 0, "couldn't check": 0}
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal last_flush
        if not pending:
            return
        with db.session() as session:
            for check in pending:
                session.add(
                    A11yCheck(
                        run_id=run_id,
                        domain=check.target.domain,
                        agency=check.target.agency,
                        url=check.target.url,
                        kind=check.target.kind,
                        checked_at=check.checked_at,
                        state=check.state,
                        reason=check.reason,
                        final_url=check.final_url,
                        http_status=check.http_status,
                        axe_version=check.axe_version,
                        violations=[v.as_json() for v in check.violations],
                    )
                )
                task = session.get(CrawlTask, task_ids[task_key(check.target)])
                task.state = "done"
                task.finished_at = utcnow()
        pending.clear()
        last_flush = time.monotonic()

    def on_result(check: PageCheck) -> None:
        pending.append(check)
        counts[check.state] += 1
        if len(pending) >= BATCH_SIZE or time.monotonic() - last_flush > BATCH_SECONDS:
            flush()
        if on_progress is not None:
            on_progress(sum(counts.values()), len(targets))

    try:
        run_checks(targets, on_result, **options)
    finally:
        flush()
    return counts["checked"], counts["couldn't check"]
