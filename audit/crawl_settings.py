"""The crawl's settings, described once: name, type, default, bounds, help, and the names the
run configuration (`govaudit run`'s `[crawl]`) and `govaudit crawl` give them.

Read by the policy file's `[crawl]` section (audit/policy_file.py: types and bounds), the
Scrapy settings (crawler/settings.py: defaults), the run configuration
(govaudit/job_config.py: its keys, types and minimums) and the crawl command's options
(govaudit/commands/crawl.py: bounds and help). `name` is the key everywhere a run's
settings are stored (`crawl_run.settings["crawl"]`) and in the policy.

"Concurrency" is said of two things in govaudit's public words, and only there: the run
configuration's `[crawl] concurrency` and `crawl --concurrency` are `concurrent_requests`
(requests in flight in one crawler process), while `govaudit worker --concurrency` is how
many batches (crawler processes) one worker runs at once (`parallel_batches` inside).
"""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class CrawlSetting:
    name: str
    kind: type
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    # the key of `govaudit run`'s [crawl] table (None: not settable there)
    job_key: str | None = None
    # settable in the policy's [crawl] (False: only by a command, e.g. --ca-bundle)
    in_policy: bool = True


CRAWL_SETTINGS: tuple[CrawlSetting, ...] = (
    CrawlSetting(
        "user_agent",
        str,
        "govaudit/0.1 (+https://github.com/govaudit/govaudit)",
        "User-Agent header",
        job_key="user_agent",
    ),
    CrawlSetting(
        "max_pages_per_site",
        int,
        50,
        "Pages crawled per site at most",
        minimum=1,
        job_key="max_pages_per_site",
    ),
    CrawlSetting("max_depth", int, 2, "Links followed from the homepage", 0, job_key="max_depth"),
    CrawlSetting(
        "concurrent_requests",
        int,
        64,
        "Requests in flight per crawler process",
        minimum=1,
        job_key="concurrency",
    ),
    CrawlSetting(
        "concurrent_requests_per_host",
        int,
        2,
        "Requests in flight per host",
        minimum=1,
        job_key="per_host",
    ),
    CrawlSetting(
        "download_timeout", float, 20.0, "Download timeout, seconds", 0.1, job_key="timeout"
    ),
    CrawlSetting("download_maxsize", int, 10 * 1024 * 1024, "Largest response, bytes", 1024),
    CrawlSetting("obey_robots", bool, True, "Obey robots.txt", job_key="obey_robots"),
    CrawlSetting("retry_times", int, 2, "Retries of a failed request", 0, 20),
    CrawlSetting("autothrottle", bool, True, "Slow down for slow hosts (Scrapy's AutoThrottle)"),
    # default 4 x concurrent_requests
    CrawlSetting(
        "max_open_units", int, None, "Units (domains, agencies) open at once in one process", 1
    ),
    CrawlSetting(
        "ca_bundle",
        str,
        None,
        "PEM certificates to trust besides the system's",
        in_policy=False,
    ),
    # 0: off, each registered domain then has one download slot; the website crawl sets it
    # (crawler/domain_limit.py)
    CrawlSetting(
        "concurrent_requests_per_domain",
        int,
        0,
        "Requests in flight to all hosts of one registered domain",
        in_policy=False,
    ),
)
BY_NAME = {s.name: s for s in CRAWL_SETTINGS}


def crawl_defaults() -> dict[str, Any]:
    return {s.name: s.default for s in CRAWL_SETTINGS}


def policy_schema() -> dict[str, type]:
    """The policy's [crawl] keys and their types."""
    return {s.name: s.kind for s in CRAWL_SETTINGS if s.in_policy}


def policy_bounds() -> dict[tuple[str, str], tuple[float | None, float | None]]:
    return {
        ("crawl", s.name): (s.minimum, s.maximum)
        for s in CRAWL_SETTINGS
        if s.in_policy and (s.minimum is not None or s.maximum is not None)
    }


def job_settings() -> dict[str, CrawlSetting]:
    """The run configuration's [crawl] key -> the setting it sets."""
    return {s.job_key: s for s in CRAWL_SETTINGS if s.job_key is not None}


def option_help(name: str, words: str | None = None) -> str:
    """An option's help: the setting's help (or `words`) and its default."""
    setting = BY_NAME[name]
    return f"{words or setting.help} (default {setting.default})."
