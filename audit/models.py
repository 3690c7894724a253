"""The govaudit database: registry inventory, crawl observations, checks and findings.

Data flows one way: seeds/registry files -> `registry_*` tables; crawls -> `crawl_*`,
`*_observation`, `open_try`, `plan_document`, `rdap_result` (raw observations, never
judgements); the audit runner -> `audit_run`, `finding` and `plan_check` (its judgement of
each agency's plan).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class WarcRecordColumns:
    """Where the fetch's WARC record is (`govaudit crawl --warc`): file name (its folder is
    in `warc_file` the table, by run and name), byte offset of the record, its
    WARC-Payload-Digest. Null without --warc."""

    warc_file: Mapped[str | None] = mapped_column(Text, nullable=True)
    warc_offset: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    warc_digest: Mapped[str | None] = mapped_column(Text, nullable=True)


class WarcFile(Base):
    """A WARC file a crawl run wrote, and where: the folder it was written to (absolute, as
    the writing process saw it) and the host that wrote it. A file name is unique within its
    run (it carries the writer's start time, host and pid), so an observation's `warc_file`
    and its run find the file, whichever attempt or machine wrote it."""

    __tablename__ = "warc_file"
    __table_args__ = (UniqueConstraint("run_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    directory: Mapped[str] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ArchiveCaptureColumns:
    """The archive's capture a fetch was answered with (`govaudit crawl --archive`): its
    replay URL, its `Memento-Datetime`, and its distance in days from the run's as-of date
    (negative: before). Null in live runs and for URLs not archived."""

    capture_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    memento_datetime: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    capture_distance_days: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Agency(Base):
    """An agency as the registry spells it.

    Slugs and primary domains are configuration (seeds/agencies.csv, or --agencies), read by
    the commands that need them, so that one command can use another agencies file.
    """

    __tablename__ = "agency"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)


class Domain(Base):
    """A registrable .gov name, normalised (lower case, IDNA)."""

    __tablename__ = "domain"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(253), unique=True)


class RegistrySnapshot(Base):
    """One loaded registry export file."""

    __tablename__ = "registry_snapshot"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_name: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(Text)  # "federal" or "full"
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_loaded: Mapped[int] = mapped_column(Integer)
    rows_skipped: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[dict[str, Any]] = mapped_column(default=dict)  # reason -> count
    columns: Mapped[list[Any]] = mapped_column(default=list)  # header as given
    entries: Mapped[list[RegistryEntry]] = relationship(back_populates="snapshot")


class RegistryEntry(Base):
    """A domain in a snapshot with every attribute the file gives.

    `agency` is the top-level body (the `Agency` column, or `Organization name` in files from
    2026 on, where the old Agency values moved); `organization` is the sub-unit (`Organization`
    / `Organization name` before 2026, `Suborganization name` after).
    """

    __tablename__ = "registry_entry"
    __table_args__ = (UniqueConstraint("snapshot_id", "domain_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("registry_snapshot.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    domain_type: Mapped[str | None] = mapped_column(Text)
    domain_type_raw: Mapped[str | None] = mapped_column(Text)
    agency_name: Mapped[str | None] = mapped_column(Text)
    organization: Mapped[str | None] = mapped_column(Text)
    suborganization: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text)
    security_contact: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    snapshot: Mapped[RegistrySnapshot] = relationship(back_populates="entries")
    domain: Mapped[Domain] = relationship()


class CrawlRun(Base):
    """One `govaudit crawl` invocation (resumed runs keep their row)."""

    __tablename__ = "crawl_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("registry_snapshot.id"))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A crawl of web archives (`crawl --archive`): the archives asked, in order (one URL a
    # line), and the date the web is seen as of. Null for a crawl of the live web.
    archive: Mapped[str | None] = mapped_column(Text, nullable=True)
    as_of: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class CrawlTask(Base):
    """Progress of one unit of a run (a domain for the site crawl, an agency for /open).

    Its state is written in the same transaction as the unit's observations, so a resumed run
    redoes exactly the unfinished units.
    """

    __tablename__ = "crawl_task"
    __table_args__ = (UniqueConstraint("run_id", "job", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    job: Mapped[str] = mapped_column(String(20))  # "sites" | "open" | "rdap"
    key: Mapped[str] = mapped_column(Text)  # domain, or agency name
    domain: Mapped[str] = mapped_column(String(253))
    agency: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    worker: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)


class EndpointObservation(WarcRecordColumns, ArchiveCaptureColumns, Base):
    """One of http://D, http://www.D, https://D, https://www.D as fetched."""

    __tablename__ = "endpoint_observation"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[int | None] = mapped_column(Integer)
    error_kind: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    redirect_chain: Mapped[list[Any]] = mapped_column(default=list)
    https_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    redirects_to_https: Mapped[bool] = mapped_column(Boolean, default=False)
    hsts: Mapped[str | None] = mapped_column(Text)
    # Certificate of an https endpoint's own answer: valid|expired|wrong-host|untrusted|other,
    # and its evidence (issuer, subject, names, expiry, fingerprint, reason).
    tls: Mapped[str | None] = mapped_column(Text, nullable=True)
    tls_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    response_ms: Mapped[float | None] = mapped_column(Float)
    server: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text)
    content_length: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)


class SiteObservation(Base):
    """What one crawl saw of one domain's site as a whole (homepage, well-known files, crawl)."""

    __tablename__ = "site_observation"
    __table_args__ = (UniqueConstraint("run_id", "domain"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    agency: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    homepage_url: Mapped[str | None] = mapped_column(Text)
    homepage: Mapped[dict[str, Any]] = mapped_column(default=dict)
    robots: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sitemap: Mapped[dict[str, Any]] = mapped_column(default=dict)
    security_txt: Mapped[dict[str, Any]] = mapped_column(default=dict)
    soft_404: Mapped[dict[str, Any]] = mapped_column(default=dict)
    hostnames: Mapped[list[Any]] = mapped_column(default=list)
    unlisted_gov_domains: Mapped[list[Any]] = mapped_column(default=list)
    pages_crawled: Mapped[int] = mapped_column(Integer, default=0)
    broken_links: Mapped[int] = mapped_column(Integer, default=0)
    # "truncated: page limit" / "truncated: depth limit" when a bound left links unfetched
    truncated: Mapped[str | None] = mapped_column(Text)
    # Hosts under other registered federal domains (and this one's) that the site showed:
    # host -> {"url": the page, sitemap or endpoint, "how": link|sitemap}; null before 0004w.
    seen_hosts: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class PageObservation(WarcRecordColumns, ArchiveCaptureColumns, Base):
    __tablename__ = "page_observation"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    url: Mapped[str] = mapped_column(Text)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    referrer: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[int | None] = mapped_column(Integer)
    error_kind: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))


class LinkObservation(Base):
    """A link found on a crawled page that leaves the page's host or is broken."""

    __tablename__ = "link_observation"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    from_url: Mapped[str] = mapped_column(Text)
    to_url: Mapped[str] = mapped_column(Text)
    to_host: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)  # broken|subdomain|gov-listed|gov-unlisted|...
    status: Mapped[int | None] = mapped_column(Integer)


class RdapResult(WarcRecordColumns, Base):
    """One RDAP answer for a domain (cached; the newest per domain is used)."""

    __tablename__ = "rdap_result"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"))
    domain: Mapped[str] = mapped_column(String(253), index=True)
    url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(30))
    http_status: Mapped[int | None] = mapped_column(Integer)
    registration: Mapped[dt.datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)


class ArchiveFirstSeen(Base):
    """A domain's earliest capture in a web archive (`govaudit archive first-seen`): the
    domain existed by then, a "registered no later than" bound for the freeze.

    `state`: found | none (the archive has no capture) | an error kind (couldn't check)."""

    __tablename__ = "archive_first_seen"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"), nullable=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    archive: Mapped[str] = mapped_column(Text)
    query_url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(30))
    first_capture: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    capture_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    captured_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class OpenObservation(Base):
    """What the /open crawl saw of one agency's site, apart from its /open tries and the
    documents (`open_try`, `plan_document`): homepage answers, the random-path probe, the
    plan links found and those that gave no document. Facts only; `audit/plan_status.py`
    judges them."""

    __tablename__ = "open_observation"
    __table_args__ = (UniqueConstraint("run_id", "agency"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    agency: Mapped[str] = mapped_column(Text)
    domain: Mapped[str] = mapped_column(String(253))
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Every homepage try: url, status, error_kind, final_url, left_scope.
    homepage_tries: Mapped[list[Any]] = mapped_column(default=list)
    # The try that answered (same keys), or null when none did; origin: its scheme://host.
    homepage: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    origin: Mapped[str | None] = mapped_column(Text)
    # Fingerprints (audit.page_similarity.Fingerprint as JSON) of the homepage and of the
    # site's answer for a path that cannot exist (with its url).
    homepage_fingerprint: Mapped[dict[str, Any]] = mapped_column(default=dict)
    probe: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Links the crawl took for plan candidates: url, text, match, depth, from.
    candidates: Mapped[list[Any]] = mapped_column(default=list)
    # Candidate fetches that gave no document: url, status, error_kind, final_url,
    # left_scope, link_text.
    failed_links: Mapped[list[Any]] = mapped_column(default=list)
    # Open Government Directive links on the /open page: open_gov_plan_url, feedback_url.
    extras: Mapped[dict[str, Any]] = mapped_column(default=dict)
    visits: Mapped[list[Any]] = mapped_column(default=list)
    notes: Mapped[list[Any]] = mapped_column(default=list)
    scope: Mapped[list[Any]] = mapped_column(default=list)


class OpenTry(WarcRecordColumns, ArchiveCaptureColumns, Base):
    """One fetch of a candidate /open URL and how it ended."""

    __tablename__ = "open_try"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    agency: Mapped[str] = mapped_column(Text, index=True)
    seq: Mapped[int] = mapped_column(Integer)  # order of the tries
    url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[int | None] = mapped_column(Integer)
    error_kind: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    # The redirect led off the agency's domains (final_url is where): recorded, not fetched.
    left_scope: Mapped[bool] = mapped_column(Boolean, default=False)
    redirect_chain: Mapped[list[Any]] = mapped_column(default=list)
    fingerprint: Mapped[dict[str, Any]] = mapped_column(default=dict)
    content_type: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # The crawl took plan candidates from this page (its first answer that looked real).
    followed: Mapped[bool] = mapped_column(Boolean, default=False)


class PlanDocument(WarcRecordColumns, ArchiveCaptureColumns, Base):
    """A document the /open crawl fetched as a possible plan (the /open page itself included),
    with its extracted text (zlib-compressed UTF-8) and every date in it with its context."""

    __tablename__ = "plan_document"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    agency: Mapped[str] = mapped_column(Text, index=True)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    text_kind: Mapped[str] = mapped_column(String(10))  # html|pdf|docx|doc|rtf|text|other
    # The format from the bytes (crawler/parsing/document_text.py: pdf, docx, doc, rtf, html,
    # text, xlsx, png, ...); null for documents stored before revision 0004pf.
    format: Mapped[str | None] = mapped_column(String(20))
    # Why the text could not be read (empty text), or the first damaged page of a PDF.
    text_error: Mapped[str | None] = mapped_column(Text)
    text_z: Mapped[bytes] = mapped_column(LargeBinary)
    dates: Mapped[list[Any]] = mapped_column(default=list)  # audit.plan_text.DateMention
    source: Mapped[str] = mapped_column(String(10))  # "open" (the /open page) | "link"
    depth: Mapped[int] = mapped_column(Integer, default=0)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    link_text: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)


class PlanCheck(Base):
    """One agency's plan status for one crawl run, as the newest `govaudit audit` judged it
    from the observations above (crawls before revision 0002p wrote it themselves). Exports
    and reports judge afresh under the policy in force; this row serves SQL readers."""

    __tablename__ = "plan_check"
    __table_args__ = (UniqueConstraint("run_id", "agency"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    agency: Mapped[str] = mapped_column(Text)
    domain: Mapped[str] = mapped_column(String(253))
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text)
    open_page_url: Mapped[str | None] = mapped_column(Text)
    plan_url: Mapped[str | None] = mapped_column(Text)
    plan_content_type: Mapped[str | None] = mapped_column(Text)
    plan_hash: Mapped[str | None] = mapped_column(String(64))
    stated_date: Mapped[dt.date | None] = mapped_column(Date)
    elements: Mapped[dict[str, Any]] = mapped_column(default=dict)  # name -> snippet|None
    extras: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    audit_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class A11yCheck(Base):
    """One page checked with axe-core in a browser (`govaudit a11y`): what axe reported.

    `state` is "checked" (violations may be empty: none found) or "couldn't check" with the
    reason (timeout, network error, HTTP error, blocked by robots.txt): never "no violations".
    One row per page and run: a page playing several roles is checked once (`roles`).
    """

    __tablename__ = "a11y_check"
    __table_args__ = (UniqueConstraint("run_id", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    agency: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))  # homepage | open | plan: its first role
    # Every role the page plays (checked once per run whatever its roles), kind first.
    roles: Mapped[list[Any] | None] = mapped_column(default=list)
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    axe_version: Mapped[str | None] = mapped_column(Text)
    # [{rule, impact, wcag: [tags], nodes, example_target, example_html}]
    violations: Mapped[list[Any]] = mapped_column(default=list)


class DnsObservation(Base):
    """What `govaudit dns` saw of one domain: every DNS answer as received, and what the SPF
    and DMARC records say (parsed and validated with checkdmarc), never a judgement.

    `answers`: one entry per query (name, type, outcome: answer | nodata | nxdomain |
    servfail | refused | timeout | error, rcode, records as text, ttl, cname, ms, error).
    `spf`, `dmarc`: the records found and the library's reading of them, with the lookups
    it made that got no answer. `resolver`: the nameserver(s) asked, as IP:PORT.
    """

    __tablename__ = "dns_observation"
    __table_args__ = (UniqueConstraint("run_id", "domain"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    agency: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resolver: Mapped[str] = mapped_column(Text)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    answers: Mapped[list[Any]] = mapped_column(default=list)
    spf: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dmarc: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EvidenceBlob(Base):
    """A raw body kept with --keep-evidence (zlib-compressed), so a finding can be re-shown."""

    __tablename__ = "evidence_blob"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    content_type: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)


class ResponseBody(Base):
    """A kept response body (zlib-compressed), stored once per content hash.

    Identical homepages (default server pages, parked pages, a site unchanged between
    crawls) share one row. `sha256` is the hash of the kept bytes (after the size bound).
    """

    __tablename__ = "response_body"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class KeptResponse(Base):
    """A site's final homepage (or robots.txt) response as one crawl received it.

    Kept so that new guideline checks can be judged on the stored crawl without crawling
    again: headers as received, the body bounded in size (`truncated` when cut).
    """

    __tablename__ = "kept_response"
    __table_args__ = (UniqueConstraint("run_id", "domain", "purpose"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # "homepage" | "robots"
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    body_length: Mapped[int] = mapped_column(Integer, default=0)  # as received
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditRun(Base):
    __tablename__ = "audit_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"))
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("registry_snapshot.id"))
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    policy_hash: Mapped[str] = mapped_column(String(64))
    policy_sources: Mapped[list[Any]] = mapped_column(default=list)
    # Per-window classification counts and the freeze table (see audit/freeze.py).
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Finding(Base):
    __tablename__ = "finding"
    __table_args__ = (Index("ix_finding_run_rule", "audit_run_id", "rule"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    audit_run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id"), index=True)
    rule: Mapped[str] = mapped_column(String(50))
    severity: Mapped[str] = mapped_column(String(10))
    domain: Mapped[str | None] = mapped_column(String(253), index=True)
    agency: Mapped[str | None] = mapped_column(Text)
    window: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[str | None] = mapped_column(String(50))
    waiver: Mapped[str | None] = mapped_column(String(30))
    summary: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)


class JobLock(Base):
    """The one lock of `govaudit run` per database: a row, so it holds across machines.

    A holder refreshes `heartbeat_at`; a row whose holder is a dead process on the same host,
    or whose heartbeat is too old, is stale and may be taken over.
    """

    __tablename__ = "job_lock"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(Text)
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    job_run_id: Mapped[int | None] = mapped_column(Integer)


class JobRun(Base):
    """One periodic job (`govaudit run`): the step it is at, and what each step produced.

    `state` holds the ids of the crawl, RDAP and audit runs it made, the report folder and
    each finished step's counts, so a run killed at any step continues at that step.
    """

    __tablename__ = "job_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|failed|done
    step: Mapped[str] = mapped_column(String(20), default="registry")
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class WebsiteList(Base):
    """One source of websites as loaded: a source-list file (`inventory sources load`), a
    registry snapshot (its federal domains, bare and www.) or a crawl run (the hosts it saw).

    Rows of a file are judged against the registry loaded at the time (`registry_key`): a file
    loaded again after the registry changed is judged again, never stored twice.
    """

    __tablename__ = "website_list"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(Text, index=True)  # list name, "registry" or "crawl"
    file: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10))  # "list" | "registry" | "crawl"
    content_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("registry_snapshot.id"), unique=True, nullable=True
    )
    crawl_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_run.id"), unique=True, nullable=True
    )
    as_of: Mapped[dt.date] = mapped_column(Date)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    registry_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    host_column: Mapped[str | None] = mapped_column(Text, nullable=True)
    agency_column: Mapped[str | None] = mapped_column(Text, nullable=True)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[dict[str, Any]] = mapped_column(default=dict)  # reason -> count


class Website(Base):
    """A website: a host name under a registered .gov domain, with the domain's agency (or a
    list's own agency column when the registry names none) and when any source first and
    last listed or saw it."""

    __tablename__ = "website"
    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(253), unique=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    agency: Mapped[str | None] = mapped_column(Text, nullable=True)
    first_seen: Mapped[dt.date] = mapped_column(Date)
    last_seen: Mapped[dt.date] = mapped_column(Date)


class WebsiteSighting(Base):
    """A website in one source: the file's row (`line`) and its own agency column, or for a
    crawl the page or endpoint that showed the host and how (link, redirect, sitemap,
    certificate)."""

    __tablename__ = "website_sighting"
    __table_args__ = (UniqueConstraint("list_id", "website_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("website_list.id"), index=True)
    website_id: Mapped[int] = mapped_column(ForeignKey("website.id"), index=True)
    line: Mapped[int | None] = mapped_column(Integer, nullable=True)
    agency: Mapped[str | None] = mapped_column(Text, nullable=True)
    seen_on: Mapped[str | None] = mapped_column(Text, nullable=True)
    how: Mapped[str | None] = mapped_column(String(20), nullable=True)
