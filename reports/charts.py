"""Inline SVG charts, drawn at render time in Python (no JavaScript, no remote code).

Each chart is an `<svg role="img">` named by its `<title>` and described by its `<desc>`
(through `aria-labelledby`), and the page puts an equivalent data table next to it. Colours
come from classes styled in report.css (no inline styles, so the page's CSP holds); every
text from data is escaped here with `markupsafe.escape`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from reports.display import parse_day

LINE = 22
MARGIN_YEARS = 3


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _frame(chart_id: str, width: float, height: float, title: str, desc: str, body: str) -> Markup:
    tid, did = f"{chart_id}-title", f"{chart_id}-desc"
    return Markup(
        f'<svg class="chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(tid)} {escape(did)}" viewBox="0 0 {_fmt(width)} '
        f'{_fmt(height)}" width="{_fmt(width)}" height="{_fmt(height)}" '
        f'xmlns="http://www.w3.org/2000/svg" focusable="false">'
        f'<title id="{escape(tid)}">{escape(title)}</title>'
        f'<desc id="{escape(did)}">{escape(desc)}</desc>{body}</svg>'
    )


def status_bar_chart(
    rows: Sequence[dict[str, Any]],
    statuses: Sequence[str],
    labels: dict[str, str],
    *,
    chart_id: str = "chart-status",
    title: str = "Site status by agency",
) -> Markup:
    """Horizontal stacked bars: one per agency, one segment per status, total at the end.

    `rows`: [{"agency": str, "counts": {status: n}, "total": n}], already in display order.
    """
    label_w, bar_w, right = 300.0, 380.0, 50.0
    legend_h = 30.0
    width = label_w + bar_w + right
    height = legend_h + LINE * max(len(rows), 1) + 10
    biggest = max((r["total"] for r in rows), default=0) or 1
    parts: list[str] = []
    x = 0.0
    for i, status in enumerate(statuses):
        parts.append(
            f'<rect class="fill-{escape(status)}" x="{_fmt(x)}" y="6" width="12" height="12"/>'
            f'<text class="chart-text" x="{_fmt(x + 16)}" y="16">'
            f"{escape(labels.get(status, status))}</text>"
        )
        x += 16 + 8 * len(labels.get(status, status)) + 18
        if i == len(statuses) - 1:
            break
    for i, row in enumerate(rows):
        y = legend_h + i * LINE
        parts.append(
            f'<text class="chart-text" x="{_fmt(label_w - 8)}" y="{_fmt(y + 15)}" '
            f'text-anchor="end">{escape(_clip(str(row["agency"]), 40))}</text>'
        )
        xpos = label_w
        for status in statuses:
            n = int(row["counts"].get(status, 0))
            if not n:
                continue
            w = bar_w * n / biggest
            parts.append(
                f'<rect class="fill-{escape(status)}" x="{_fmt(xpos)}" y="{_fmt(y + 3)}" '
                f'width="{_fmt(w)}" height="16"/>'
            )
            xpos += w
        parts.append(
            f'<text class="chart-text" x="{_fmt(xpos + 6)}" y="{_fmt(y + 15)}">'
            f"{int(row['total'])}</text>"
        )
    if not rows:
        parts.append(
            f'<text class="chart-text" x="10" y="{_fmt(legend_h + 15)}">No sites crawled.</text>'
        )
    desc_rows = "; ".join(
        f"{r['agency']}: {r['total']} sites ("
        + ", ".join(
            f"{r['counts'].get(s, 0)} {labels.get(s, s).lower()}"
            for s in statuses
            if r["counts"].get(s, 0)
        )
        + ")"
        for r in rows
    )
    desc = (
        f"Stacked bar chart of crawled sites per agency for the {len(rows)} agencies with the "
        f"most sites. {desc_rows}. The same numbers are in the table below."
        if rows
        else "No sites have been crawled yet."
    )
    return _frame(chart_id, width, height, title, desc, "".join(parts))


def _interval(row: dict[str, Any]) -> tuple[dt.date | None, dt.date | None]:
    interval = row.get("interval") or [None, None]
    lo = parse_day(interval[0]) if len(interval) > 0 else None
    hi = parse_day(interval[1]) if len(interval) > 1 else None
    return lo, hi


def registration_timeline(
    windows: Sequence[dict[str, Any]],
    rows: Sequence[dict[str, Any]],
    *,
    chart_id: str = "chart-timeline",
    title: str = "Registrations against the freeze windows",
    total: int | None = None,
) -> Markup:
    """Freeze windows as shaded bands; each domain a dot (RDAP date) or a bar (the interval
    between two registry snapshots that brackets its registration)."""
    label_w, plot_w, right = 220.0, 640.0, 20.0
    top, axis_h, legend_h = 34.0, 30.0, 24.0 * len(windows) + 66
    row_h = 18.0
    width = label_w + plot_w + right
    plot_h = row_h * max(len(rows), 1)
    height = top + plot_h + axis_h + legend_h

    win_days: list[dt.date] = []
    for w in windows:
        win_days += [d for d in (parse_day(w.get("start")), parse_day(w.get("end"))) if d]
    days: list[dt.date] = []
    for r in rows:
        d = parse_day(r.get("registration_date"))
        if d:
            days.append(d)
        days += [d for d in _interval(r) if d]
    if not days and not win_days:
        desc = "No freeze windows and no dated registrations to show."
        body = f'<text class="chart-text" x="10" y="{_fmt(top + 14)}">{escape(desc)}</text>'
        return _frame(chart_id, width, top + 40, title, desc, body)
    if win_days:
        # The axis spans the windows and MARGIN_YEARS either side, so that the windows stay
        # readable; older or newer registrations are drawn as arrows at the edge.
        first = dt.date(min(win_days).year - MARGIN_YEARS, 1, 1)
        last = dt.date(max(win_days).year + MARGIN_YEARS + 1, 1, 1)
    else:
        first = dt.date(min(days).year, 1, 1)
        last = dt.date(max(days).year + 1, 1, 1)
    span = (last - first).days or 1

    def xof(day: dt.date) -> float:
        return label_w + plot_w * (min(max(day, first), last) - first).days / span

    def edge_arrow(cls: str, day: dt.date, y: float) -> str:
        x = xof(day)
        d = -1 if day < first else 1
        return (
            f'<path class="{cls}" d="M{_fmt(x)} {_fmt(y)} L{_fmt(x - 8 * d)} {_fmt(y - 5)} '
            f'L{_fmt(x - 8 * d)} {_fmt(y + 5)} Z"/>'
        )

    parts: list[str] = []
    for i, w in enumerate(windows):
        start, end = parse_day(w.get("start")), parse_day(w.get("end"))
        if not start or not end:
            continue
        x0, x1 = xof(start), xof(end + dt.timedelta(days=1))
        parts.append(
            f'<rect class="window window-{i % 4}" x="{_fmt(x0)}" y="{_fmt(top)}" '
            f'width="{_fmt(max(x1 - x0, 1.5))}" height="{_fmt(plot_h)}"/>'
            f'<text class="chart-text chart-small" x="{_fmt(x0)}" '
            f'y="{_fmt(12 if i % 2 == 0 else 27)}">W{i + 1}</text>'
        )
    # axis and year ticks
    axis_y = top + plot_h
    parts.append(
        f'<line class="axis" x1="{_fmt(label_w)}" y1="{_fmt(axis_y)}" '
        f'x2="{_fmt(label_w + plot_w)}" y2="{_fmt(axis_y)}"/>'
    )
    years = range(first.year, last.year + 1)
    step = max(1, len(years) // 8)
    for year in years[::step]:
        x = xof(dt.date(year, 1, 1))
        parts.append(
            f'<line class="axis" x1="{_fmt(x)}" y1="{_fmt(axis_y)}" x2="{_fmt(x)}" '
            f'y2="{_fmt(axis_y + 5)}"/><text class="chart-text chart-small" x="{_fmt(x)}" '
            f'y="{_fmt(axis_y + 18)}" text-anchor="middle">{year}</text>'
        )
    for i, r in enumerate(rows):
        y = top + i * row_h + row_h / 2
        cls = f"mark-{escape(r.get('classification') or 'unknown')}"
        parts.append(
            f'<text class="chart-text chart-small" x="{_fmt(label_w - 6)}" y="{_fmt(y + 4)}" '
            f'text-anchor="end">{escape(_clip(str(r.get("domain") or ""), 30))}</text>'
        )
        day = parse_day(r.get("registration_date"))
        if day and not first <= day <= last:
            parts.append(edge_arrow(cls, day, y))
            continue
        if day:
            parts.append(f'<circle class="{cls}" cx="{_fmt(xof(day))}" cy="{_fmt(y)}" r="4.5"/>')
            continue
        lo, hi = _interval(r)
        x0 = xof(lo) if lo else label_w
        x1 = xof(hi) if hi else label_w + plot_w
        parts.append(
            f'<line class="{cls} interval" x1="{_fmt(x0)}" y1="{_fmt(y)}" x2="{_fmt(x1)}" '
            f'y2="{_fmt(y)}"/><line class="{cls} interval-cap" x1="{_fmt(x0)}" '
            f'y1="{_fmt(y - 4)}" x2="{_fmt(x0)}" y2="{_fmt(y + 4)}"/><line class="{cls} '
            f'interval-cap" x1="{_fmt(x1)}" y1="{_fmt(y - 4)}" x2="{_fmt(x1)}" '
            f'y2="{_fmt(y + 4)}"/>'
        )
    if not rows:
        parts.append(
            f'<text class="chart-text" x="{_fmt(label_w + 6)}" y="{_fmt(top + 30)}">'
            "No dated registrations.</text>"
        )
    ly = axis_y + axis_h + 6
    for i, w in enumerate(windows):
        parts.append(
            f'<rect class="window window-{i % 4}" x="0" y="{_fmt(ly + i * 24)}" width="14" '
            f'height="14"/><text class="chart-text chart-small" x="20" '
            f'y="{_fmt(ly + i * 24 + 11)}">W{i + 1}: {escape(_clip(str(w["name"]), 60))} '
            f"({escape(w.get('start') or '?')} to {escape(w.get('end') or '?')})</text>"
        )
    ly += 24 * len(windows)
    parts.append(
        f'<circle class="mark-in-freeze" cx="7" cy="{_fmt(ly + 7)}" r="4.5"/>'
        f'<text class="chart-text chart-small" x="20" y="{_fmt(ly + 11)}">registration date '
        f"from RDAP (colour: red in a window, orange possibly, blue outside)</text>"
        f'<line class="mark-possibly-in-freeze interval" x1="0" y1="{_fmt(ly + 27)}" x2="14" '
        f'y2="{_fmt(ly + 27)}"/><text class="chart-text chart-small" x="20" '
        f'y="{_fmt(ly + 31)}">registered between two registry snapshots</text>'
        f'<path class="mark-outside" d="M0 {_fmt(ly + 47)} L8 {_fmt(ly + 42)} L8 '
        f'{_fmt(ly + 52)} Z"/><text class="chart-text chart-small" x="20" '
        f'y="{_fmt(ly + 51)}">date before or after the axis (see the table)</text>'
    )
    shown = len(rows)
    total = shown if total is None else total
    in_freeze = sum(1 for r in rows if r.get("classification") == "in-freeze")
    possibly = sum(1 for r in rows if r.get("classification") == "possibly-in-freeze")
    win_text = "; ".join(f"{w['name']} from {w.get('start')} to {w.get('end')}" for w in windows)
    desc = (
        f"Timeline from {first.year} to {last.year - 1} of {shown} dated .gov registrations"
        + (f" (of {total})" if total > shown else "")
        + f" against {len(windows)} freeze windows ({win_text}). {in_freeze} fall inside a "
        f"window, {possibly} possibly inside. The same data is in the table below."
    )
    return _frame(chart_id, width, height, title, desc, "".join(parts))
