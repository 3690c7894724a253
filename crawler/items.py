"""Items: one per finished unit of work, carrying all of its observations.

A unit (a domain for the site crawl, an agency for /open, a domain for RDAP) is stored in one
transaction together with its task state, so an interrupted run never leaves half a unit.
A unit whose handling raised is `failed` with the error and carries no observations: what it
could not check is never stored as absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SiteResult:
    run_id: int
    domain: str
    endpoints: list[dict[str, Any]]
    site: dict[str, Any]
    pages: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    state: str = "done"
    error: str | None = None
    # final homepage / robots.txt responses kept for later checks (crawler.kept_responses)
    responses: list[dict[str, Any]] = field(default_factory=list)
    # "sites" (the unit, `domain`, is a registered domain) or "websites" (a host)
    job: str = "sites"


@dataclass
class PlanResult:
    """What the /open crawl saw of one agency: `open_observation`, `open_try` and
    `plan_document` rows (and bodies kept with --keep-evidence)."""

    run_id: int
    agency: str
    observation: dict[str, Any]
    tries: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    blobs: list[dict[str, Any]] = field(default_factory=list)
    state: str = "done"
    error: str | None = None


@dataclass
class RdapObservation:
    run_id: int | None
    domain: str
    result: dict[str, Any]
    state: str = "done"
    error: str | None = None


@dataclass
class FirstSeenObservation:
    """A domain's earliest captures, one `archive_first_seen` row per archive asked."""

    run_id: int | None
    domain: str
    rows: list[dict[str, Any]]
    state: str = "done"
    error: str | None = None
