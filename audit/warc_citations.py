"""Which archived WARC records a finding cites: its evidence URLs matched against the stored
observations that name a WARC record (crawls with `--warc`). Read-only.

A finding's evidence names URLs (the /open page, the plan, the homepage, the RDAP query,
robots.txt...) and the crawl run it came from. The observations of that run (or, for RDAP
answers, of any run) fetched from those URLs carry `warc_file`, `warc_offset` and
`warc_digest`; the first URL of the evidence comes first (for a plan finding: the /open page).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import (
    AuditRun,
    CrawlRun,
    EndpointObservation,
    Finding,
    OpenTry,
    PageObservation,
    PlanDocument,
    RdapResult,
    SiteObservation,
)


@dataclass(frozen=True)
class CitedRecord:
    """One archived fetch a finding cites."""

    source: str  # endpoint | page | robots.txt | /open try | plan document | rdap
    url: str
    final_url: str | None
    run_id: int | None
    fetched_at: dt.datetime | None
    status: int | None
    sha256: str | None
    warc_file: str
    warc_offset: int
    warc_digest: str | None
    warc_dir: str | None  # the crawl run's WARC directory, as given to `crawl --warc`
    owner: str | None  # the domain (or agency) the observation belongs to

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "url": self.url,
            "final_url": self.final_url,
            "crawl_run": self.run_id,
            "fetched_at": self.fetched_at.isoformat(timespec="seconds")
            if self.fetched_at
            else None,
            "status": self.status,
            "sha256": self.sha256,
            "warc_file": self.warc_file,
            "warc_offset": self.warc_offset,
            "warc_digest": self.warc_digest,
        }


def evidence_urls(evidence: Any) -> list[str]:
    """Every http(s) URL in a finding's evidence, in order of appearance, each once."""
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif (
            isinstance(value, str)
            and value.startswith(("http://", "https://"))
            and value not in out
        ):
            out.append(value)

    walk(evidence)
    return out


class CitationIndex:
    """The archived observations of some crawl runs, by URL, for matching many findings."""

    def __init__(self, session: Session, run_ids: Iterable[int]) -> None:
        runs = sorted({r for r in run_ids if r is not None})
        self.by_url: dict[str, list[CitedRecord]] = {}
        self.rdap_by_url: dict[str, list[CitedRecord]] = {}
        self.warc_dirs = {
            run.id: (run.settings or {}).get("warc_dir")
            for run in session.scalars(select(CrawlRun).where(CrawlRun.id.in_(runs)))
        }
        self.site_runs: set[int] = set()
        tables: list[tuple[str, Any, str]] = [
            ("/open try", OpenTry, "agency"),
            ("plan document", PlanDocument, "agency"),
            ("endpoint", EndpointObservation, "domain"),
            ("page", PageObservation, "domain"),
        ]
        for source, model, owner in tables:
            query = select(model).where(model.run_id.in_(runs), model.warc_file.is_not(None))
            for row in session.scalars(query):
                self._add(self.by_url, source, row, getattr(row, owner))
        for site in session.scalars(
            select(SiteObservation).where(SiteObservation.run_id.in_(runs))
        ):
            robots = site.robots or {}
            if robots.get("warc_file") and robots.get("url"):
                record = CitedRecord(
                    "robots.txt",
                    robots["url"],
                    None,
                    site.run_id,
                    site.fetched_at,
                    robots.get("status"),
                    None,
                    robots["warc_file"],
                    int(robots["warc_offset"]),
                    robots.get("warc_digest"),
                    self.warc_dirs.get(site.run_id),
                    site.domain,
                )
                self.by_url.setdefault(record.url, []).append(record)
        rdap_runs = select(RdapResult).where(RdapResult.warc_file.is_not(None))
        for row in session.scalars(rdap_runs.order_by(RdapResult.fetched_at.desc())):
            if row.run_id is not None and row.run_id not in self.warc_dirs:
                run = session.get(CrawlRun, row.run_id)
                self.warc_dirs[row.run_id] = (run.settings or {}).get("warc_dir") if run else None
            self._add(self.rdap_by_url, "rdap", row, row.domain)

    def _add(self, index: dict[str, list[CitedRecord]], source: str, row: Any, owner: Any) -> None:
        final = getattr(row, "final_url", None)
        sha = getattr(row, "sha256", None) or getattr(row, "content_hash", None)
        status = getattr(row, "status", None)
        if status is None:
            status = getattr(row, "http_status", None)
        record = CitedRecord(
            source,
            row.url,
            final,
            row.run_id,
            row.fetched_at,
            status,
            sha,
            row.warc_file,
            int(row.warc_offset),
            row.warc_digest,
            self.warc_dirs.get(row.run_id),
            owner,
        )
        for url in {row.url, final} - {None}:
            index.setdefault(url, []).append(record)

    def cited(self, finding: Finding) -> list[CitedRecord]:
        evidence = finding.evidence or {}
        owners = {finding.domain, finding.agency} - {None}
        out: list[CitedRecord] = []
        seen: set[tuple[str, int]] = set()

        def take(records: Iterable[CitedRecord], any_owner: bool = False) -> None:
            for r in records:
                key = (r.warc_file, r.warc_offset)
                if key in seen or not (any_owner or not owners or r.owner in owners):
                    continue
                seen.add(key)
                out.append(r)

        for url in evidence_urls(evidence):
            # A page of another domain can be the evidence (where an unlisted domain was
            # linked from); the RDAP answer is the newest for the URL, whichever run.
            take(self.by_url.get(url, []), any_owner=True)
            take(self.rdap_by_url.get(url, [])[:1], any_owner=True)
        if evidence.get("source") == "site crawl" and finding.domain:
            # An unreachable site: every endpoint try is the evidence.
            for records in self.by_url.values():
                take(r for r in records if r.source == "endpoint" and r.owner == finding.domain)
        return out


def finding_run_ids(session: Session, findings: Iterable[Finding]) -> set[int]:
    """The crawl runs findings draw on: the ones their evidence names and the audit's."""
    runs: set[int] = set()
    audits: set[int] = set()
    for f in findings:
        audits.add(f.audit_run_id)
        value = (f.evidence or {}).get("crawl_run")
        if isinstance(value, int):
            runs.add(value)
    for audit in session.scalars(select(AuditRun).where(AuditRun.id.in_(audits))):
        if audit.crawl_run_id is not None:
            runs.add(audit.crawl_run_id)
    return runs


def cited_records(session: Session, finding: Finding) -> list[CitedRecord]:
    index = CitationIndex(session, finding_run_ids(session, [finding]))
    return index.cited(finding)
