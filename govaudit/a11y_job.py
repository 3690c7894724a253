"""Accessibility runs: which pages to check, and a run over them (`govaudit a11y`, and the
periodic job's a11y step). The browser work is crawler/a11y.py's; judging is audit/'s."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from govaudit.app import App, fail_input


def a11y_targets(app: App, source_run: int | None) -> tuple[int | None, list[Any]]:
    """Final homepage URLs of the active sites of the newest finished site crawl (or
    `source_run`), and each agency's /open page and plan page when they are HTML: one
    target per URL, with every role it plays (an /open page that is also the plan)."""
    from audit.plan_rows import plans_rows
    from audit.run_selection import NoData, latest_run
    from audit.site_rows import sites_rows
    from crawler.a11y import PageTarget, merge_targets

    targets: list[PageTarget] = []
    with app.db.session() as session:
        try:
            run = latest_run(session, "sites", source_run)
        except NoData as exc:
            fail_input(str(exc))
        for site in sites_rows(session, run.id):
            if site["status"] == "active" and site["final_url"]:
                targets.append(
                    PageTarget(site["domain"], site["final_url"], "homepage", site["agency"])
                )
        try:
            open_run = latest_run(session, "open", source_run)
        except NoData:
            open_run = None
        if open_run is not None:
            for plan in plans_rows(session, open_run.id, app.policy.plan_deadline):
                if plan["open_page_url"]:
                    targets.append(
                        PageTarget(plan["domain"], plan["open_page_url"], "open", plan["agency"])
                    )
                if plan["plan_url"] and "html" in (plan["plan_content_type"] or ""):
                    targets.append(
                        PageTarget(plan["domain"], plan["plan_url"], "plan", plan["agency"])
                    )
    return run.snapshot_id, merge_targets(targets)


def a11y_options(
    app: App,
    *,
    concurrency: int = 2,
    timeout: float = 60.0,
    ca_bundle: Path | None = None,
    no_robots: bool = False,
) -> dict[str, Any]:
    """The checker's options: the crawl's User-Agent and robots.txt setting, the trust roots."""
    from crawler.a11y import ca_bundle_path

    crawl = app.policy.crawl_settings
    return {
        "user_agent": crawl.user_agent,
        "concurrency": concurrency,
        "timeout": timeout,
        "obey_robots": not no_robots and crawl.obey_robots,
        "ca_bundle": ca_bundle_path(ca_bundle),
    }


def create_a11y_run(
    app: App,
    snapshot_id: int | None,
    targets: Sequence[Any],
    options: dict[str, Any],
    extra_settings: dict[str, Any] | None = None,
) -> int:
    from crawler.a11y import task_key
    from crawler.crawl_run import TaskSpec, create_run
    from govaudit.run_settings import run_settings

    bundle = options.get("ca_bundle")
    settings = run_settings(
        ["a11y"],
        a11y={**options, "ca_bundle": str(bundle) if bundle else None},
        **(extra_settings or {}),
    )
    return create_run(
        app.db,
        snapshot_id,
        settings,
        [TaskSpec("a11y", task_key(t), t.domain, t.agency) for t in targets],
    )


def execute_a11y_run(
    app: App,
    run_id: int,
    options: dict[str, Any],
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Check the run's pending pages, mark the run finished when none is left; counts
    (`failed`: units that failed with an internal error, no result stored)."""
    from sqlalchemy import func, select

    from audit.a11y import INTERNAL_ERROR, SERIOUS, a11y_pages, worst_impact
    from audit.models import CrawlRun, CrawlTask, utcnow
    from crawler.a11y import check_run

    check_run(app.db, run_id, on_progress=on_progress, **options)
    with app.db.session() as session:
        pending = session.scalar(
            select(func.count())
            .select_from(CrawlTask)
            .where(CrawlTask.run_id == run_id, CrawlTask.state == "pending")
        )
        run = session.get(CrawlRun, run_id)
        run.status = "finished" if not pending else "interrupted"
        run.finished_at = utcnow()
        pages = a11y_pages(session, run_id)
    checked = [p for p in pages if p["state"] == "checked"]
    failed = [p for p in pages if p["reason"] == INTERNAL_ERROR and p["state"] != "checked"]
    return {
        "pages": len(pages),
        "checked": len(checked),
        "couldnt_check": len(pages) - len(checked) - len(failed),
        "failed": len(failed),
        "serious": sum(1 for p in checked if worst_impact(p) in SERIOUS),
        "pending": int(pending or 0),
    }
