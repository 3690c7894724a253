"""`govaudit worker`: one machine's share of distributed crawls (batches from PostgreSQL)."""

from __future__ import annotations

import click

from govaudit.app import App, Failure, fail_input, pass_app


@click.command()
@click.option(
    "--concurrency",
    "parallel_batches",
    type=click.IntRange(min=1),
    help="Batches crawled at once, one crawler process each (default: one per core).",
)
@click.option(
    "--stalled-after",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="A worker silent this long is presumed dead; its batches are queued again.",
)
@pass_app
def worker(app: App, parallel_batches: int | None, stalled_after: float) -> None:
    """Crawl batches of domains queued by `govaudit crawl --distributed`, until stopped.

    Start one on each machine with the same --db (PostgreSQL). Each batch is crawled by the
    same spiders and pipeline as a local crawl; a worker that dies loses nothing (its
    batches go back in the queue). SIGTERM or Ctrl-C stops it after its running batches.
    """
    from crawler.crawl_run import default_workers
    from crawler.distributed import DistributedError, is_postgresql, serve

    if not is_postgresql(app.db.url):
        fail_input(
            f"--db {app.db.url}: `govaudit worker` needs the PostgreSQL database the "
            "coordinator uses (--db postgresql://user:pass@host/db)"
        )
    parallel_batches = parallel_batches or default_workers()
    _ = app.db.engine  # a database that cannot be opened fails here, with one line
    click.echo(
        f"govaudit worker: {parallel_batches} crawler process(es), waiting for batches", err=True
    )
    try:
        serve(app.db.url, parallel_batches, app.verbose, stalled_after)
    except DistributedError as exc:
        raise Failure(str(exc)) from exc
