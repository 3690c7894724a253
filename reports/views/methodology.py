"""about.html: what was checked and how, the limits, the policy used, crawl settings and
per-worker Scrapy statistics."""

from __future__ import annotations

import json
from typing import Any

from reports.display import flatten, stats_table
from reports.views.report_index import ReportIndex


def unread_plan_documents(plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every plan candidate whose text could not be read, with why, per agency."""
    return [
        {"agency": p["agency"], "status": p["status"], **doc}
        for p in plans
        for doc in (p.get("evidence") or {}).get("unread_documents") or []
        if isinstance(doc, dict)
    ]


def methodology_view(ix: ReportIndex) -> dict[str, Any]:
    data = ix.data
    crawl_run = data["crawl_run"] or {}
    open_run = data["open_run"] or {}
    return {
        **ix.common,
        "policy": data["policy"],
        "policy_rows": flatten(data["policy"]),
        "policy_json": json.dumps(data["policy"], indent=2, sort_keys=True),
        "policy_sources": data["policy_sources"],
        "windows": data["windows"],
        "deadline": data["deadline"],
        "settings_rows": flatten(crawl_run.get("settings") or {}),
        "failed_units": data["failed_units"],
        "unread_plan_documents": unread_plan_documents(ix.plans),
        "job_run": data["job_run"],
        "stats": stats_table(crawl_run.get("stats") or {}),
        "open_stats": (
            stats_table(open_run.get("stats") or {})
            if open_run and open_run.get("id") != crawl_run.get("id")
            else None
        ),
    }
