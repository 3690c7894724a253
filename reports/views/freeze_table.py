"""The audit's freeze table as the report shows it: the rows and counts the audit stored in
its summary, or rebuilt from its `freeze-registration` findings when it stored none."""

from __future__ import annotations

from typing import Any

from reports.views.labels import CLASSIFICATIONS

Row = dict[str, Any]


def _row(source: Row, evidence: Row) -> Row:
    interval = evidence.get("interval")
    return {
        "domain": source.get("domain"),
        "agency": source.get("agency"),
        "window": source.get("window"),
        "classification": source.get("classification") or "unknown",
        "waiver": source.get("waiver"),
        "registration_date": evidence.get("registration_date"),
        "interval": list(interval) if isinstance(interval, list | tuple) else None,
        "basis": evidence.get("basis") or "none",
        "note": evidence.get("note") or "",
    }


def freeze_rows(summary: Row, findings: list[Row]) -> list[Row]:
    rows = summary.get("freeze_rows")
    if isinstance(rows, list) and rows:
        return [_row(r, r) for r in rows if isinstance(r, dict)]
    return [
        _row(f, f.get("evidence") or {}) for f in findings if f["rule"] == "freeze-registration"
    ]


def freeze_counts(summary: Row, rows: list[Row]) -> dict[str, dict[str, int]]:
    """window -> classification -> count (the audit's own counts when it stored them)."""
    stored = summary.get("freeze_counts")
    if isinstance(stored, dict) and stored:
        return {str(w): {str(k): int(v) for k, v in (c or {}).items()} for w, c in stored.items()}
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        win = counts.setdefault(str(r["window"]), {})
        win[r["classification"]] = win.get(r["classification"], 0) + 1
    return counts


def timeline_rows(rows: list[Row]) -> list[Row]:
    """Dated freeze rows for the timeline, one per domain: flagged first, then by date."""

    def start(r: Row) -> str:
        if r["registration_date"]:
            return str(r["registration_date"])[:10]
        lo = (r["interval"] or [None])[0]
        return str(lo or "")[:10]

    order = {c: i for i, c in enumerate(CLASSIFICATIONS)}
    ranked = sorted(
        rows, key=lambda r: (order.get(r["classification"], 9), start(r), r["domain"] or "")
    )
    seen: set[str] = set()
    out = []
    for r in ranked:  # one line per domain: its most serious classification
        if r["domain"] in seen:
            continue
        seen.add(r["domain"])
        out.append(r)
    return out
