"""The website inventory: websites (host names under registered federal .gov domains) and
every source that lists or saw them.

Three kinds of sources feed it, each stored as a `website_list` with one `website_sighting`
per website: a source-list file (`govaudit inventory sources load`), a registry snapshot
(each federal domain, bare and `www.`: the source `registry`) and a crawl run (the hosts it
saw: the source `crawl`, see audit/website_sightings.py). A website's first and last seen
are the earliest and latest dates of its sightings; its agency is its domain's (newest
registry entry), else a list's own agency column.

Loading is idempotent: a file already loaded (same content) against the same registry adds
nothing; after the registry changed, loading it again judges its rows again in place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from audit.domain_names import registrable_domain
from audit.inventory import registry_entries
from audit.models import (
    Domain,
    RegistryEntry,
    RegistrySnapshot,
    Website,
    WebsiteList,
    WebsiteSighting,
    utcnow,
)
from audit.nonpublic_names import NonPublicNames
from audit.source_list_csv import (
    DUPLICATE,
    NON_FEDERAL,
    NON_PUBLIC,
    NOT_GOV,
    REJECT_REASONS,
    UNREGISTERED,
    HostRejected,
    ParsedSourceList,
    clean_host,
)

_WEBSITE = Website.__table__
_LIST = WebsiteList.__table__
_SIGHTING = WebsiteSighting.__table__

REGISTRY_SOURCE = "registry"
CRAWL_SOURCE = "crawl"


# ---------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class RegistryView:
    """Every domain any loaded snapshot lists: its newest entry's agency and whether it is
    federal (a federal type, or no type given). `key` names the registry's state."""

    key: str
    domains: dict[str, tuple[str | None, bool]]

    def judge(self, host: str) -> tuple[str, str | None]:
        """(registered domain, its agency) of a host, or raise HostRejected."""
        labels = host.split(".")
        if labels[-1] != "gov" and labels[-2:] != ["fed", "us"]:
            raise HostRejected(NOT_GOV, f"{host} is not under .gov")
        domain = registrable_domain(host)
        known = self.domains.get(domain) if domain else None
        if known is None:
            raise HostRejected(UNREGISTERED, f"{host}: {domain or host} is not a registered domain")
        agency, federal = known
        if not federal:
            raise HostRejected(NON_FEDERAL, f"{host}: {domain} is not a federal domain")
        return domain, agency


def registry_view(session: Session) -> RegistryView:
    entries = registry_entries(session)
    key = hashlib.sha256(
        "\n".join(sorted(s.content_hash for s in entries.snapshots.values())).encode()
    ).hexdigest()
    # A domain without a type counts as federal here: website lists name federal hosts.
    return RegistryView(
        key,
        {
            name: (agency, (dtype or "Federal").startswith("Federal"))
            for name, (agency, dtype) in entries.newest.items()
        },
    )


# ---------------------------------------------------------------------------- writing


@dataclass
class Accepted:
    line: int | None
    host: str
    domain: str
    agency: str | None  # the domain's
    row_agency: str | None  # the row's own agency column
    seen_on: str | None = None
    how: str | None = None


def _website_ids(conn: Connection, hosts: Iterable[str]) -> dict[str, int]:
    wanted = set(hosts)
    found: dict[str, int] = {}
    if len(wanted) > 2000:
        for row_id, host in conn.execute(select(_WEBSITE.c.id, _WEBSITE.c.host)):
            if host in wanted:
                found[host] = row_id
        return found
    ordered = sorted(wanted)
    for i in range(0, len(ordered), 500):
        for row_id, host in conn.execute(
            select(_WEBSITE.c.id, _WEBSITE.c.host).where(_WEBSITE.c.host.in_(ordered[i : i + 500]))
        ):
            found[host] = row_id
    return found


def store_sightings(
    session: Session, list_id: int, as_of: dt.date, accepted: Sequence[Accepted]
) -> int:
    """Replace the list's sightings with `accepted` (one per host); add the websites not yet
    known; recompute first/last seen of every website the list names. Returns the number of
    websites added."""
    conn = session.connection()
    conn.execute(delete(_SIGHTING).where(_SIGHTING.c.list_id == list_id))
    ids = _website_ids(conn, (a.host for a in accepted))
    missing = {a.host: a for a in accepted if a.host not in ids}
    if missing:
        conn.execute(
            insert(_WEBSITE),
            [
                {
                    "host": a.host,
                    "domain": a.domain,
                    "agency": a.agency or a.row_agency,
                    "first_seen": as_of,
                    "last_seen": as_of,
                }
                for a in missing.values()
            ],
        )
        ids.update(_website_ids(conn, missing))
    if accepted:
        conn.execute(
            insert(_SIGHTING),
            [
                {
                    "list_id": list_id,
                    "website_id": ids[a.host],
                    "line": a.line,
                    "agency": a.row_agency,
                    "seen_on": a.seen_on,
                    "how": a.how,
                }
                for a in accepted
            ],
        )
    _refresh_seen(conn, list_id)
    return len(missing)


def _refresh_seen(conn: Connection, list_id: int) -> None:
    """First and last seen of the list's websites, from all their sightings' list dates."""

    def seen(aggregate: Any) -> Any:
        return (
            select(aggregate(_LIST.c.as_of))
            .join(_SIGHTING, _SIGHTING.c.list_id == _LIST.c.id)
            .where(_SIGHTING.c.website_id == _WEBSITE.c.id)
            .scalar_subquery()
        )

    named = select(_SIGHTING.c.website_id).where(_SIGHTING.c.list_id == list_id)
    conn.execute(
        update(_WEBSITE)
        .where(_WEBSITE.c.id.in_(named))
        .values(first_seen=seen(func.min), last_seen=seen(func.max))
    )


def refresh_agencies(session: Session, registry: RegistryView) -> int:
    """Each website's agency: its domain's newest registry entry's, else (the registry names
    none) the first list agency given for it. Returns the number changed."""
    conn = session.connection()
    listed: dict[int, str] = {}
    for website_id, agency in conn.execute(
        select(_SIGHTING.c.website_id, _SIGHTING.c.agency)
        .where(_SIGHTING.c.agency.is_not(None))
        .order_by(_SIGHTING.c.id)
    ):
        listed.setdefault(website_id, agency)
    changes = []
    for website_id, domain, agency in conn.execute(
        select(_WEBSITE.c.id, _WEBSITE.c.domain, _WEBSITE.c.agency)
    ):
        wanted = (registry.domains.get(domain) or (None, True))[0] or listed.get(website_id)
        if wanted != agency:
            changes.append({"wid": website_id, "new_agency": wanted})
    if changes:
        conn.execute(
            update(_WEBSITE)
            .where(_WEBSITE.c.id == bindparam("wid"))
            .values(agency=bindparam("new_agency")),
            changes,
        )
    return len(changes)


def drop_orphans(session: Session) -> None:
    """Websites no source names any more (a list judged again after the registry changed)."""
    conn = session.connection()
    conn.execute(delete(_WEBSITE).where(~_WEBSITE.c.id.in_(select(_SIGHTING.c.website_id))))


# ---------------------------------------------------------------------------- source lists


@dataclass
class SourceLoad:
    """What loading one source-list file did."""

    file: str
    source: str
    as_of: dt.date
    list_id: int
    already_loaded: bool
    rows_read: int
    websites: int  # rows that became (or named) a website
    new_websites: int
    rejected: Counter[str] = field(default_factory=Counter)
    rejudged: bool = False  # loaded before, judged again against a changed registry
    problems: list[str] = field(default_factory=list)  # "file:line: reason: detail"

    def summary(self) -> str:
        if self.already_loaded:
            return (
                f"{self.file}: already loaded as list {self.list_id} ({self.source}, as of "
                f"{self.as_of}): {self.websites} websites; nothing added"
            )
        reasons = ", ".join(f"{n} {why}" for why, n in self.rejected_items())
        rejected = sum(self.rejected.values())
        again = " (judged again: the registry changed)" if self.rejudged else ""
        return (
            f"{self.file}: {self.source} as of {self.as_of}{again}: {self.rows_read} rows, "
            f"{self.websites} websites ({self.new_websites} new), {rejected} rejected"
            + (f" ({reasons})" if reasons else "")
        )

    def rejected_items(self) -> list[tuple[str, int]]:
        order = {r: i for i, r in enumerate(REJECT_REASONS)}
        return sorted(
            ((r, n) for r, n in self.rejected.items() if n),
            key=lambda item: order.get(item[0], len(order)),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "source": self.source,
            "as_of": self.as_of.isoformat(),
            "list_id": self.list_id,
            "already_loaded": self.already_loaded,
            "rejudged": self.rejudged,
            "rows": self.rows_read,
            "websites": self.websites,
            "new_websites": self.new_websites,
            "rejected": {r: self.rejected.get(r, 0) for r in REJECT_REASONS},
            "rejected_total": sum(self.rejected.values()),
        }


def judge_rows(
    parsed: ParsedSourceList, registry: RegistryView, names: NonPublicNames
) -> tuple[list[Accepted], Counter[str], list[str]]:
    """Each row of a list: a website, or rejected with a counted reason (and a `file:line`
    problem line naming the cell)."""
    accepted: list[Accepted] = []
    rejected: Counter[str] = Counter()
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for row in parsed.rows:
        try:
            host = clean_host(row.cell)
            domain, agency = registry.judge(host)
            pattern = names.match(host)
            if pattern is not None:
                raise HostRejected(NON_PUBLIC, f"{host} {pattern}")
            if host in first_line:
                raise HostRejected(DUPLICATE, f"{host} (first on line {first_line[host]})")
        except HostRejected as exc:
            rejected[exc.reason] += 1
            problems.append(f"{parsed.file}:{row.line}: {exc.reason}: {exc}")
            continue
        first_line[host] = row.line
        accepted.append(Accepted(row.line, host, domain, agency, row.agency))
    return accepted, rejected, problems


def load_source_list(
    session: Session,
    parsed: ParsedSourceList,
    as_of: dt.date,
    registry: RegistryView,
    names: NonPublicNames,
) -> SourceLoad:
    """Store a parsed list in the caller's transaction (see the module's notes)."""
    conn = session.connection()
    existing = conn.execute(
        select(_LIST).where(_LIST.c.content_hash == parsed.content_hash)
    ).first()
    if existing is not None and existing.registry_key == registry.key:
        return SourceLoad(
            parsed.file,
            existing.source,
            existing.as_of,
            existing.id,
            True,
            existing.rows_read,
            existing.rows_loaded,
            0,
            Counter(existing.rejected or {}),
        )
    accepted, rejected, problems = judge_rows(parsed, registry, names)
    values = {
        "source": parsed.source,
        "file": parsed.file,
        "kind": "list",
        "content_hash": parsed.content_hash,
        "as_of": as_of,
        "loaded_at": utcnow(),
        "registry_key": registry.key,
        "host_column": parsed.host_column,
        "agency_column": parsed.agency_column,
        "rows_read": len(parsed.rows),
        "rows_loaded": len(accepted),
        "rejected": dict(rejected),
    }
    if existing is not None:
        list_id = existing.id
        conn.execute(update(_LIST).where(_LIST.c.id == list_id).values(**values))
    else:
        list_id = conn.execute(insert(_LIST).returning(_LIST.c.id), values).scalar_one()
    added = store_sightings(session, list_id, as_of, accepted)
    if existing is not None:
        drop_orphans(session)
    refresh_agencies(session, registry)
    return SourceLoad(
        parsed.file,
        parsed.source,
        as_of,
        list_id,
        False,
        len(parsed.rows),
        len(accepted),
        added,
        rejected,
        rejudged=existing is not None,
        problems=problems,
    )


# ---------------------------------------------------------------------------- the registry's


def sync_registry_websites(session: Session, registry: RegistryView | None = None) -> int:
    """Make every registry snapshot a list of the source `registry`: each federal domain,
    bare and `www.` (line: the snapshot's row). Returns the number of snapshots added."""
    conn = session.connection()
    done = set(conn.scalars(select(_LIST.c.snapshot_id).where(_LIST.c.snapshot_id.is_not(None))))
    todo = conn.execute(
        select(RegistrySnapshot.id, RegistrySnapshot.source_name, RegistrySnapshot.as_of).order_by(
            RegistrySnapshot.as_of, RegistrySnapshot.id
        )
    ).all()
    todo = [t for t in todo if t.id not in done]
    if not todo:
        return 0
    registry = registry or registry_view(session)
    for snap in todo:
        accepted: list[Accepted] = []
        for name, line, agency, dtype in conn.execute(
            select(
                Domain.name,
                RegistryEntry.line,
                RegistryEntry.agency_name,
                RegistryEntry.domain_type,
            )
            .join(Domain, RegistryEntry.domain_id == Domain.id)
            .where(RegistryEntry.snapshot_id == snap.id)
            .order_by(RegistryEntry.line)
        ):
            if not (dtype or "Federal").startswith("Federal"):
                continue
            for host in (name, f"www.{name}"):
                accepted.append(Accepted(line, host, name, agency, None, how="registry"))
        list_id = conn.execute(
            insert(_LIST).returning(_LIST.c.id),
            {
                "source": REGISTRY_SOURCE,
                "file": snap.source_name,
                "kind": "registry",
                "snapshot_id": snap.id,
                "as_of": snap.as_of,
                "loaded_at": utcnow(),
                "registry_key": registry.key,
                "rows_read": len(accepted) // 2,
                "rows_loaded": len(accepted),
                "rejected": {},
            },
        ).scalar_one()
        store_sightings(session, list_id, snap.as_of, accepted)
    refresh_agencies(session, registry)
    return len(todo)


# ---------------------------------------------------------------------------- reading


WEBSITE_COLUMNS = ["host", "domain", "agency", "sources", "first_seen", "last_seen"]


def website_rows(
    session: Session, agency: str | None = None, source: str | None = None
) -> list[dict[str, Any]]:
    """Every website with its sources (names, and each sighting: source, file, date, row or
    the page that showed it), by host; `agency` (a substring) and `source` (a source name)
    narrow the list."""
    conn = session.connection()
    query = select(_WEBSITE).order_by(_WEBSITE.c.domain, _WEBSITE.c.host)
    if agency:
        query = query.where(
            func.lower(func.coalesce(_WEBSITE.c.agency, "")).like(f"%{agency.lower()}%")
        )
    if source:
        listed = (
            select(_SIGHTING.c.website_id)
            .join(_LIST, _LIST.c.id == _SIGHTING.c.list_id)
            .where(_LIST.c.source == source)
        )
        query = query.where(_WEBSITE.c.id.in_(listed))
    websites = conn.execute(query).all()
    wanted = {w.id for w in websites}
    sightings: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for s in conn.execute(
        select(
            _SIGHTING.c.website_id,
            _SIGHTING.c.line,
            _SIGHTING.c.seen_on,
            _SIGHTING.c.how,
            _LIST.c.source,
            _LIST.c.file,
            _LIST.c.as_of,
            _LIST.c.crawl_run_id,
        )
        .join(_LIST, _LIST.c.id == _SIGHTING.c.list_id)
        .order_by(_LIST.c.as_of, _LIST.c.id)
    ):
        if s.website_id not in wanted:
            continue
        seen: dict[str, Any] = {"source": s.source, "file": s.file, "as_of": s.as_of.isoformat()}
        if s.line is not None:
            seen["line"] = s.line
        if s.crawl_run_id is not None:
            seen["crawl_run"] = s.crawl_run_id
        if s.seen_on:
            seen["seen_on"] = s.seen_on
            seen["how"] = s.how
        sightings[s.website_id].append(seen)
    return [
        {
            "host": w.host,
            "domain": w.domain,
            "agency": w.agency,
            "sources": sorted({s["source"] for s in sightings[w.id]}),
            "first_seen": w.first_seen.isoformat(),
            "last_seen": w.last_seen.isoformat(),
            "sightings": sightings[w.id],
        }
        for w in websites
    ]


LIST_COLUMNS = ["list", "source", "file", "as_of", "rows", "websites", "rejected", "loaded_at"]


def list_rows(session: Session) -> list[dict[str, Any]]:
    """Every loaded list (files, registry snapshots, crawl runs) with its counts."""
    return [
        {
            "list": r.id,
            "source": r.source,
            "kind": r.kind,
            "file": r.file,
            "as_of": r.as_of.isoformat(),
            "rows": r.rows_read,
            "websites": r.rows_loaded,
            "rejected": sum((r.rejected or {}).values()),
            "rejected_by_reason": dict(r.rejected or {}),
            "loaded_at": r.loaded_at.isoformat(timespec="seconds"),
        }
        for r in session.connection().execute(select(_LIST).order_by(_LIST.c.id))
    ]
