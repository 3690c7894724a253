"""The registry inventory: loading snapshots, and reading them back (list, diff, stats)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, Table, func, insert, select
from sqlalchemy.orm import Session

from audit.domain_names import domain_kind
from audit.models import Agency, Domain, RegistryEntry, RegistrySnapshot
from audit.registry_csv import ParsedRegistry, RegistryFileError

DEFAULT_MAX_SHRINK = 0.5


class ShrinkRefused(RegistryFileError):
    """A file that would drop too many of the previous snapshot's domains (a partial export)."""


@dataclass
class LoadResult:
    source_name: str
    as_of: dt.date
    snapshot_id: int
    already_loaded: bool
    rows_read: int
    rows_loaded: int
    skipped: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        if self.already_loaded:
            return (
                f"{self.source_name}: already loaded as snapshot {self.snapshot_id} "
                f"(as of {self.as_of}); nothing added"
            )
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()))
        skipped = sum(self.skipped.values())
        detail = f" ({reasons})" if reasons else ""
        return (
            f"{self.source_name}: as of {self.as_of}: {self.rows_read} rows read, "
            f"{self.rows_loaded} loaded, {skipped} skipped{detail}"
        )


# Above this many names, one scan of the (registry-sized) table costs less than looking the
# names up 500 at a time.
_SCAN_ABOVE = 2000


def _existing_ids(conn: Connection, table: Table, names: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    if len(names) > _SCAN_ABOVE:
        for row_id, name in conn.execute(select(table.c.id, table.c.name)):
            if name in names:
                found[name] = row_id
        return found
    ordered = sorted(names)
    for i in range(0, len(ordered), 500):
        chunk = ordered[i : i + 500]
        for row_id, name in conn.execute(
            select(table.c.id, table.c.name).where(table.c.name.in_(chunk))
        ):
            found[name] = row_id
    return found


def _insert_tuples(
    conn: Connection, table: Table, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """INSERT `rows` (values in the order of `columns`) with the driver's executemany.

    SQLAlchemy's per-row parameter handling cost as much as SQLite's own work for a registry
    file; the columns' bind processors (JSON's serialiser) are applied here, as it would.
    Used on SQLite only (qmark parameters; PostgreSQL's driver binds JSON its own way).
    """
    dialect = conn.dialect
    processors = [
        (i, proc)
        for i, name in enumerate(columns)
        if (proc := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    if processors:
        # Nearly every row's `extra` is {}: its serialised form is computed once.
        empty = {i: proc({}) for i, proc in processors}
        processed = []
        for row in rows:
            values = list(row)
            for i, proc in processors:
                value = values[i]
                values[i] = empty[i] if type(value) is dict and not value else proc(value)
            processed.append(tuple(values))
        rows = processed
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    conn.exec_driver_sql(sql, rows)


def _insert_names_sqlite(conn: Connection, table: Table, names: list[str]) -> dict[str, int]:
    """Insert `names` (one transaction holds SQLite's write lock); return their new ids."""
    quoted = conn.dialect.identifier_preparer.quote(table.name)
    before = conn.exec_driver_sql(f"SELECT max(id) FROM {quoted}").scalar() or 0
    _insert_tuples(conn, table, ["name"], [(n,) for n in names])
    low, high, count = conn.exec_driver_sql(
        f"SELECT min(id), max(id), count(*) FROM {quoted} WHERE id > ?", (before,)
    ).one()
    if count == len(names) and low == before + 1 and high == before + len(names):
        # SQLite gives each new row the largest id + 1 (it picks another only once ids reach
        # 2**63 - 1): exactly the ids after the old largest, in the order inserted.
        return dict(zip(names, range(low, high + 1), strict=True))
    return _existing_ids(conn, table, set(names))


def _ids_by_name(
    session: Session, model: type[Domain] | type[Agency], names: set[str]
) -> dict[str, int]:
    # Core statements on the session's connection: the ORM's per-statement work (entity
    # loading, bulk-insert bookkeeping) cost more than the queries themselves here.
    table = model.__table__
    conn = session.connection()
    found = _existing_ids(conn, table, names)
    missing = sorted(names - found.keys())
    if missing and conn.dialect.name == "sqlite":
        # The driver's own executemany: half the time of SQLAlchemy's batched INSERT ...
        # RETURNING for a whole list.
        found.update(_insert_names_sqlite(conn, table, missing))
    elif missing:
        # RETURNING hands the new ids back (SQLAlchemy batches the rows into multi-row
        # INSERTs), so they need not be read again.
        added = conn.execute(
            insert(table).returning(table.c.id, table.c.name), [{"name": n} for n in missing]
        )
        found.update((name, row_id) for row_id, name in added)
    return found


# The load works on the tables (Core), not the ORM classes: the first ORM query of a process
# configures every mapper (about 50 ms), more than the load's own queries take.
_SNAPSHOT = RegistrySnapshot.__table__
_ENTRY = RegistryEntry.__table__
_DOMAIN = Domain.__table__


def previous_snapshot(session: Session, as_of: dt.date) -> Row[Any] | None:
    """The newest snapshot dated before `as_of` (a row of `registry_snapshot`)."""
    return (
        session.connection()
        .execute(
            select(_SNAPSHOT)
            .where(_SNAPSHOT.c.as_of < as_of)
            .order_by(_SNAPSHOT.c.as_of.desc(), _SNAPSHOT.c.id.desc())
            .limit(1)
        )
        .first()
    )


def snapshot_domains(session: Session, snapshot_id: int, federal_only: bool = False) -> set[str]:
    query = (
        select(_DOMAIN.c.name)
        .join(_ENTRY, _ENTRY.c.domain_id == _DOMAIN.c.id)
        .where(_ENTRY.c.snapshot_id == snapshot_id)
    )
    if federal_only:
        query = query.where(_ENTRY.c.domain_type.like("Federal%"))
    return set(session.connection().scalars(query))


ENTRY_COLUMNS = [
    "snapshot_id",
    "domain_id",
    "agency_id",
    "line",
    "domain_type",
    "domain_type_raw",
    "agency_name",
    "organization",
    "suborganization",
    "city",
    "state",
    "security_contact",
    "status",
    "extra",
]


def load_registry(
    session: Session,
    parsed: ParsedRegistry,
    as_of: dt.date,
    *,
    allow_shrink: bool = False,
    max_shrink: float = DEFAULT_MAX_SHRINK,
) -> LoadResult:
    """Store a parsed file as a snapshot, in the caller's transaction.

    Every check happens before the first write, so a refused file changes nothing.
    """
    conn = session.connection()
    existing = conn.execute(
        select(_SNAPSHOT.c.id, _SNAPSHOT.c.as_of).where(
            _SNAPSHOT.c.content_hash == parsed.content_hash
        )
    ).first()
    if existing is not None:
        return LoadResult(
            parsed.source_name, existing.as_of, existing.id, True, parsed.rows_read, 0
        )
    previous = previous_snapshot(session, as_of)
    if previous is not None and not allow_shrink:
        before = snapshot_domains(session, previous.id, federal_only=parsed.kind == "federal")
        if before:
            lost = before - {row.domain for row in parsed.rows}
            if len(lost) > max_shrink * len(before):
                raise ShrinkRefused(
                    f"{parsed.source_name}: refused: it would remove {len(lost)} of the "
                    f"{len(before)} domains of the previous snapshot {previous.source_name} "
                    f"(as of {previous.as_of}), more than {max_shrink:.0%}: likely a partial "
                    "export (use --allow-shrink to load it anyway)"
                )
    snapshot_id = conn.execute(
        insert(_SNAPSHOT).returning(_SNAPSHOT.c.id),
        {
            "source_name": parsed.source_name,
            "content_hash": parsed.content_hash,
            "as_of": as_of,
            "kind": parsed.kind,
            "rows_read": parsed.rows_read,
            "rows_loaded": len(parsed.rows),
            "rows_skipped": sum(parsed.skipped.values()),
            "skipped": dict(parsed.skipped),
            "columns": parsed.columns,
        },
    ).scalar_one()
    domain_ids = _ids_by_name(session, Domain, {r.domain for r in parsed.rows})
    agency_ids = _ids_by_name(session, Agency, {r.agency for r in parsed.rows if r.agency})
    rows = [
        (
            snapshot_id,
            domain_ids[r.domain],
            agency_ids.get(r.agency) if r.agency else None,
            r.line,
            r.domain_type,
            r.domain_type_raw,
            r.agency,
            r.organization,
            r.suborganization,
            r.city,
            r.state,
            r.security_contact,
            r.status,
            r.extra,
        )
        for r in parsed.rows
    ]
    if conn.dialect.name == "sqlite":
        _insert_tuples(conn, _ENTRY, ENTRY_COLUMNS, rows)
    else:
        # One executemany through Core: an ORM bulk insert groups rows by which columns are
        # non-null and issued thousands of small statements for one file.
        conn.execute(insert(_ENTRY), [dict(zip(ENTRY_COLUMNS, row, strict=True)) for row in rows])
    return LoadResult(
        parsed.source_name,
        as_of,
        snapshot_id,
        False,
        parsed.rows_read,
        len(parsed.rows),
        parsed.skipped,
    )


@dataclass(frozen=True)
class RegistryEntries:
    """Every snapshot, the domains each lists, and each domain's entry (agency, domain type)
    in the newest snapshot that lists it (newest by as-of date, then by load order)."""

    snapshots: dict[int, Row[Any]]  # id -> (id, as_of, source_name, kind, content_hash)
    members: dict[int, set[str]]
    newest: dict[str, tuple[str | None, str | None]]


def registry_entries(session: Session) -> RegistryEntries:
    snapshots = {
        row.id: row
        for row in session.execute(
            select(
                RegistrySnapshot.id,
                RegistrySnapshot.as_of,
                RegistrySnapshot.source_name,
                RegistrySnapshot.kind,
                RegistrySnapshot.content_hash,
            )
        )
    }
    members: dict[int, set[str]] = {sid: set() for sid in snapshots}
    newest: dict[str, tuple[dt.date, int, str | None, str | None]] = {}
    for snap_id, name, agency, dtype in session.execute(
        select(
            RegistryEntry.snapshot_id,
            Domain.name,
            RegistryEntry.agency_name,
            RegistryEntry.domain_type,
        ).join(Domain, RegistryEntry.domain_id == Domain.id)
    ):
        members[snap_id].add(name)
        order = (snapshots[snap_id].as_of, snap_id)
        if name not in newest or order > newest[name][:2]:
            newest[name] = (*order, agency, dtype)
    return RegistryEntries(snapshots, members, {name: (v[2], v[3]) for name, v in newest.items()})


class SnapshotNotFound(LookupError):
    pass


def find_snapshot(session: Session, when: str | dt.date | None = None) -> RegistrySnapshot:
    """The snapshot as of a date (the last loaded one for that date), or the newest."""
    query = select(RegistrySnapshot).order_by(
        RegistrySnapshot.as_of.desc(), RegistrySnapshot.id.desc()
    )
    if when is not None:
        day = when if isinstance(when, dt.date) else _parse_date(when)
        query = query.where(RegistrySnapshot.as_of == day)
    snap = session.scalars(query.limit(1)).first()
    if snap is None:
        if when is None:
            raise SnapshotNotFound("no registry snapshot is loaded (govaudit inventory load FILE)")
        dates = ", ".join(
            str(d)
            for d in session.scalars(
                select(RegistrySnapshot.as_of).distinct().order_by(RegistrySnapshot.as_of)
            )
        )
        raise SnapshotNotFound(f"no snapshot as of {when} (loaded: {dates or 'none'})")
    return snap


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise SnapshotNotFound(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def entry_rows(
    session: Session, snapshot: RegistrySnapshot, agency: str | None = None
) -> list[dict[str, Any]]:
    query = (
        select(RegistryEntry, Domain.name)
        .join(Domain, RegistryEntry.domain_id == Domain.id)
        .where(RegistryEntry.snapshot_id == snapshot.id)
        .order_by(Domain.name)
    )
    if agency:
        pattern = f"%{agency.lower()}%"
        query = query.where(
            func.lower(RegistryEntry.agency_name).like(pattern)
            | func.lower(func.coalesce(RegistryEntry.organization, "")).like(pattern)
        )
    return [
        {
            "domain": name,
            "kind": domain_kind(name),
            "domain_type": e.domain_type,
            "agency": e.agency_name,
            "organization": e.organization,
            "suborganization": e.suborganization,
            "city": e.city,
            "state": e.state,
            "security_contact": e.security_contact,
            "snapshot": snapshot.as_of.isoformat(),
        }
        for e, name in session.execute(query)
    ]


DIFF_FIELDS = ("agency", "organization", "domain_type")


def diff_snapshots(
    session: Session, old: RegistrySnapshot, new: RegistrySnapshot
) -> dict[str, Any]:
    before = {r["domain"]: r for r in entry_rows(session, old)}
    after = {r["domain"]: r for r in entry_rows(session, new)}
    changed = [
        {"domain": d, "field": f, "old": before[d][f], "new": after[d][f]}
        for d in sorted(before.keys() & after.keys())
        for f in DIFF_FIELDS
        if before[d][f] != after[d][f]
    ]
    return {
        "old": old.as_of.isoformat(),
        "new": new.as_of.isoformat(),
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": changed,
    }


def snapshot_stats(session: Session, snapshot: RegistrySnapshot) -> list[dict[str, Any]]:
    """Domains per agency and type, the table the 2011 State of the Federal Web report kept."""
    query = (
        select(RegistryEntry.agency_name, RegistryEntry.domain_type, func.count())
        .where(RegistryEntry.snapshot_id == snapshot.id)
        .group_by(RegistryEntry.agency_name, RegistryEntry.domain_type)
    )
    per_agency: dict[str, dict[str, Any]] = {}
    for agency, dtype, count in session.execute(query):
        row = per_agency.setdefault(
            agency or "(none)", {"agency": agency or "(none)", "domains": 0, "types": {}}
        )
        row["domains"] += count
        row["types"][dtype or "(none)"] = count
    return sorted(per_agency.values(), key=lambda r: (-r["domains"], r["agency"]))
