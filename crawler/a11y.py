"""Accessibility observations: axe-core run in a real browser on each page to check.

Debian's Chromium, driven by Playwright (never a downloaded browser), loads each page the way
a visitor's browser would (scripts run, styles apply, so colour contrast is real), then the
axe-core copy bundled with `axe-playwright-python` (offline; its version recorded) is
evaluated in the page. This module only observes: what axe reported, or why the page could
not be checked. Judging (the `accessibility` rule, guideline predicates) is audit/'s.

Politeness is the crawl's: its User-Agent, robots.txt obeyed (read through the same browser,
so the same proxy and trust apply), one page per host at a time, N pages at once, images,
fonts, media and favicons never downloaded, and a deadline per page.

A host's pages are checked one after another in one browser context and one page, the way
one visitor browses one site: a fresh context and page cost about 0.4 CPU-s each, and axe
evaluated in a fresh renderer about 0.33 CPU-s instead of 0.14 in a warm one (the demo
world's 50 pages: 78 -> 52 CPU-s, the same violations on every page; benchmarks/README.md).
Hosts never share a context, so one agency's site is checked apart from the others';
anything abnormal (a timeout, a browser error, an exception, a relaunched browser) gives the
host's next page a fresh context.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

from protego import Protego

from audit.config_files import chromium_path
from audit.domain_names import registrable_domain

logger = logging.getLogger(__name__)

CHROMIUM = chromium_path()
# Browser features a check turns off (see CHROMIUM_ARGS).
DISABLED_FEATURES = (
    # Automatic https upgrades of http:// URLs.
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "HttpsFirstBalancedMode",
    "HttpsFirstModeIncognito",
    "HttpsFirstModeV2ForTypicallySecureUsers",
    # Playwright's own list (1.65), which ours replaces.
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    # The browser's own traffic to hosts that are not being audited.
    "Translate",
    "DialMediaRouteProvider",
    "AutofillServerCommunication",
    "CertificateTransparencyComponentUpdater",
    "CaptivePortalDetection",
    "SignInProfileCreation",
    "AccountConsistency",
    "PushMessaging",
)
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
    # Chromium keeps only the last --disable-features it is given, so this one replaces
    # Playwright's own (chromiumSwitches.ts) and repeats the features it turns off. Among them
    # HttpsUpgrades and HTTPS-First: a page the crawl found on plain http is checked on http,
    # not upgraded to an https that may not exist (a refused CONNECT is no fallback).
    "--disable-features=" + ",".join(DISABLED_FEATURES),
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


ROLES = ("homepage", "open", "plan")


@dataclass(frozen=True)
class PageTarget:
    """One page to check, and why it is on the list: the roles it plays (an /open page may
    also be the plan), `kind` being the first of them."""

    domain: str
    url: str
    kind: str  # "homepage" | "open" | "plan"
    agency: str | None = None
    roles: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.roles:
            object.__setattr__(self, "roles", (self.kind,))


def merge_targets(targets: Iterable[PageTarget]) -> list[PageTarget]:
    """One target per URL, whatever roles it plays: a page is checked once per run.

    The first target of a URL gives its domain and agency; the roles are merged (homepage,
    open, plan order) and the first of them is the target's `kind`.
    """
    by_url: dict[str, PageTarget] = {}
    for target in targets:
        known = by_url.get(target.url)
        if known is None:
            by_url[target.url] = target
            continue
        roles = sorted({*known.roles, *target.roles}, key=_role_rank)
        by_url[target.url] = PageTarget(
            known.domain, known.url, roles[0], known.agency, tuple(roles)
        )
    return list(by_url.values())


def _role_rank(role: str) -> tuple[int, str]:
    return (ROLES.index(role) if role in ROLES else len(ROLES), role)


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
    state: str  # "checked" | "couldn't check" | "failed" (an internal error: a failed unit)
    reason: str | None = None
    final_url: str | None = None
    http_status: int | None = None
    axe_version: str | None = None
    violations: list[Violation] = field(default_factory=list)


def chromium_missing() -> str | None:
    """Why the browser cannot run here, or None (a clear one-line message for the CLI)."""
    if not Path(CHROMIUM).exists():
        return (
            f"{CHROMIUM} not found: install Debian's chromium-headless-shell "
            "(apt-get install chromium-headless-shell) or set GOVAUDIT_CHROMIUM"
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
    with warnings.catch_warnings():
        # A system bundle may hold an old root with a non-positive serial number: still a
        # root the system trusts, so it is added, without a deprecation notice on stderr.
        warnings.simplefilter("ignore")
        certificates = x509.load_pem_x509_certificates(pem_file.read_bytes())
    for number, cert in enumerate(certificates):
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


class BrowserDidNotStart(RuntimeError):
    """The browser binary could not be started: the message names it, for the operator."""


async def launch_chromium(playwright: Any, options: dict[str, Any]) -> Any:
    try:
        return await playwright.chromium.launch(**options)
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        why = lines[0][:300] if lines else type(exc).__name__
        raise BrowserDidNotStart(
            f"Chromium at {options['executable_path']} did not start (set GOVAUDIT_CHROMIUM to "
            f"a working chromium): {why}"
        ) from exc


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


def host_key(url: str) -> str:
    """The host whose pages are checked one at a time, in one browser context: the
    registrable domain (www.x.gov and x.gov are one agency's site), else the URL itself."""
    return registrable_domain(urlsplit(url).hostname or "") or url


class HostVisit:
    """The browser context and page one host's pages are checked in, one after another.

    Made for the host's first page and kept while its pages go well; `discard` after anything
    abnormal, so the next page starts in a fresh context. A context belongs to one browser:
    after a relaunch the host gets a new one in the new browser.
    """

    def __init__(self, new_context: Callable[[Any], Awaitable[Any]]) -> None:
        self._new_context = new_context
        self._browser: Any = None
        self._page: Any = None
        self.context: Any = None

    async def open_in(self, browser: Any) -> None:
        stale = self._browser is not browser or (self._page is not None and self._page.is_closed())
        if self.context is not None and stale:
            await self.discard()
        if self.context is None:
            self.context = await self._new_context(browser)
            self._browser = browser

    async def page(self) -> Any:
        """The host's page, made in its context on first use (inside the page's deadline)."""
        if self._page is None:
            page = await self.context.new_page()
            await page.route("**/*", _route)
            await page.add_init_script(NO_DEFAULT_ICON)
            self._page = page
        return self._page

    async def discard(self) -> None:
        context = self.context
        self.context = self._page = self._browser = None
        if context is not None:
            with contextlib.suppress(Exception):
                await context.close()


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
        """Check every target; each ends in one result, whatever happens to the others.

        A check that raises (the browser crashed, a bug of ours) is a failed unit, state
        "failed" with the error; a browser that died is started again for the next pages.
        Each host's pages are checked in turn in one context of its own (HostVisit).
        """
        from playwright.async_api import async_playwright

        missing = chromium_missing()
        if missing:
            raise FileNotFoundError(missing)
        slots = asyncio.Semaphore(self.concurrency)
        # A host's pages are checked back to back, each host holding one of the N slots
        # while it has pages left: one page per host at a time, and never more contexts
        # open than pages being checked. (A slot per page would run every host's first page
        # before any second one, since a host's next page queues behind all the others, and
        # keep every host's context open for most of the run.)
        by_host: dict[str, list[PageTarget]] = {}
        for target in targets:
            by_host.setdefault(host_key(target.url), []).append(target)
        async with async_playwright() as playwright:
            home = Path(tempfile.mkdtemp(prefix="govaudit-a11y-"))
            try:
                launch = chromium_launch_options(self.ca_bundle, home)
                browsers = [await launch_chromium(playwright, launch)]
                starting = asyncio.Lock()

                async def live_browser() -> Any:
                    async with starting:
                        if not browsers[-1].is_connected():
                            browsers.append(await launch_chromium(playwright, launch))
                        return browsers[-1]

                async def one_host(host_targets: list[PageTarget]) -> None:
                    async with slots:
                        visit = HostVisit(self._new_context)
                        try:
                            for target in host_targets:
                                started = _now()
                                try:
                                    result = await self.check(await live_browser(), visit, target)
                                except Exception as exc:
                                    logger.debug(
                                        "a11y: the check of %s raised", target.url, exc_info=True
                                    )
                                    await visit.discard()
                                    result = PageCheck(
                                        target, started, "failed", _internal_error(exc)
                                    )
                                on_result(result)
                        finally:
                            await visit.discard()

                try:
                    await asyncio.gather(*(one_host(group) for group in by_host.values()))
                finally:
                    for browser in browsers:
                        with contextlib.suppress(Exception):
                            await browser.close()
            finally:
                shutil.rmtree(home, ignore_errors=True)

    async def _new_context(self, browser: Any) -> Any:
        return await browser.new_context(
            user_agent=self.user_agent,
            bypass_csp=True,
            java_script_enabled=True,
            proxy=context_proxy(),
        )

    async def check(self, browser: Any, visit: HostVisit, target: PageTarget) -> PageCheck:
        """One page, in its host's context: "checked", or "couldn't check" and why (the page's
        or the network's doing). An error of the browser itself or of this code is raised: a
        failed unit. Anything but a page that loaded (or answered HTTP >= 400, or that
        robots.txt forbids: ordinary answers, which leave an ordinary document in the page)
        discards the host's context, so a hung or broken page never carries over to the
        host's next one."""
        from playwright.async_api import Error as PlaywrightError

        started = _now()
        await visit.open_in(browser)
        try:
            return await asyncio.wait_for(
                self._check_in(visit, target, started), timeout=self.timeout
            )
        except TimeoutError:
            await visit.discard()
            return PageCheck(target, started, "couldn't check", f"timeout after {self.timeout:g} s")
        except PlaywrightError as exc:
            await visit.discard()
            if _browser_gone(exc) or not browser.is_connected():
                raise
            return PageCheck(target, started, "couldn't check", _browser_error(exc))
        except BaseException:
            await visit.discard()
            raise

    async def _check_in(
        self, visit: HostVisit, target: PageTarget, started: dt.datetime
    ) -> PageCheck:
        page = await visit.page()
        if self.obey_robots and not await self._robots_allow(page, target.url):
            return PageCheck(target, started, "couldn't check", "blocked by robots.txt")
        if urldefrag(page.url).url == urldefrag(target.url).url:
            # The URL already shown, but for its #fragment: going there would only scroll (no
            # response, no fresh document to check), so the page leaves it first.
            await page.goto("about:blank")
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


async def _route(route: Any) -> None:
    """Every request of a page: heavy resources never fetched; plain http through
    Playwright's own HTTP client.

    Chromium upgrades a host on its built-in HSTS preload list to https whatever its flags
    say, so a site that answers only on plain http could not be checked at all. The request
    goes instead, with the page's own headers, through the same proxy from Playwright's
    client, which has no such list; a redirect is handed back to the browser to follow.
    """
    from playwright.async_api import Error as PlaywrightError

    request = route.request
    if request.resource_type in SKIPPED_RESOURCES:
        await route.abort()
        return
    if not request.url.startswith("http://"):
        await route.continue_()
        return
    try:
        response = await route.fetch(max_redirects=0)
    except PlaywrightError:
        await route.abort("connectionfailed")
        return
    await route.fulfill(response=response)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# Playwright's messages when the browser, the page's renderer or the context went away.
BROWSER_GONE = ("has been closed", "crashed", "browser closed", "connection closed")


def _browser_gone(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in BROWSER_GONE)


def _internal_error(exc: BaseException) -> str:
    """A failed unit's reason: the exception's type and first line."""
    lines = str(exc).strip().splitlines()
    return f"internal error: {type(exc).__name__}" + (f": {lines[0][:300]}" if lines else "")


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
    """A crawl_task key for a page: its roles and URL ("homepage,open https://...")."""
    return f"{','.join(target.roles)} {target.url}"


def target_of(key: str, domain: str, agency: str | None) -> PageTarget:
    roles, _, url = key.partition(" ")
    names = tuple(roles.split(","))
    return PageTarget(domain, url, names[0], agency, names)


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
    pending. Each page is checked once, whatever roles it plays; in a run made before roles
    were merged (one task per role) its tasks all finish with the one check. Every unit ends
    done or failed: a check that raised, or a row the database refuses, fails that unit
    (its task `failed` with the error, no a11y_check row) and the others go on. Returns
    (checked, couldn't check) of this call.
    """
    import time

    from sqlalchemy import select, update
    from sqlalchemy.exc import SQLAlchemyError

    from audit.models import A11yCheck, CrawlTask, utcnow

    with db.session() as session:
        tasks = session.execute(
            select(CrawlTask.id, CrawlTask.key, CrawlTask.domain, CrawlTask.agency).where(
                CrawlTask.run_id == run_id, CrawlTask.job == "a11y", CrawlTask.state == "pending"
            )
        ).all()
        stored = set(session.scalars(select(A11yCheck.url).where(A11yCheck.run_id == run_id)))
    task_ids: dict[str, list[int]] = {}
    for task_id, key, _, _ in tasks:
        task_ids.setdefault(target_of(key, "", None).url, []).append(task_id)
    if stored & set(task_ids):
        # Checked already (a run killed between storing a page and finishing its other
        # role's task): those tasks are done.
        with db.session() as session:
            session.execute(
                update(CrawlTask)
                .where(
                    CrawlTask.id.in_([i for url in stored & set(task_ids) for i in task_ids[url]])
                )
                .values(state="done", finished_at=utcnow())
            )
    targets = merge_targets(
        target_of(key, domain, agency)
        for _, key, domain, agency in tasks
        if target_of(key, "", None).url not in stored
    )
    pending: list[PageCheck] = []
    counts = {"checked": 0, "couldn't check": 0, "failed": 0}
    last_flush = time.monotonic()

    def finish(session: Any, url: str, state: str, error: str | None) -> None:
        session.execute(
            update(CrawlTask)
            .where(CrawlTask.id.in_(task_ids[url]), CrawlTask.state == "pending")
            .values(state=state, finished_at=utcnow(), error=error)
        )

    def flush() -> None:
        nonlocal last_flush
        if not pending:
            return
        with db.session() as session:
            for check in pending:
                url = check.target.url
                if check.state == "failed":
                    finish(session, url, "failed", check.reason)
                    continue
                # One savepoint per page: a row the database refuses fails that page only.
                try:
                    with session.begin_nested():
                        session.add(_a11y_row(A11yCheck, run_id, check))
                        session.flush()
                        finish(session, url, "done", None)
                except SQLAlchemyError as exc:
                    logger.debug("a11y: the row of %s was refused", url, exc_info=True)
                    counts[check.state] -= 1
                    counts["failed"] += 1
                    finish(session, url, "failed", _internal_error(exc))
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


def _a11y_row(model: Any, run_id: int, check: PageCheck) -> Any:
    return model(
        run_id=run_id,
        domain=check.target.domain,
        agency=check.target.agency,
        url=check.target.url,
        kind=check.target.kind,
        roles=list(check.target.roles),
        checked_at=check.checked_at,
        state=check.state,
        reason=check.reason,
        final_url=check.final_url,
        http_status=check.http_status,
        axe_version=check.axe_version,
        violations=[v.as_json() for v in check.violations],
    )
