"""The demo's web archive: the simulated web as captured in October and December 2011.

`govaudit demo` crawls its world twice (the world as first seen, then later) with `--warc`;
this step dates those captures 2011-10-20 and 2011-12-20, serves them with pywb, and crawls
the archive as of the plan deadline, 2011-10-24: the report's plans page then has an "as
archived near 2011-10-24" table beside today's. Without pywb (govaudit.replay_archive) the
step is skipped with a one-line note; the rest of the demo is unchanged.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from govaudit.replay_archive import (
    ReplayServer,
    ReplayUnavailable,
    build_collection,
    redate_warcs,
    wayback_program,
)

AS_OF = dt.datetime(2011, 10, 24)
COLLECTION = "demo2011"
# When the demo's archive "captured" each crawl of the world.
CAPTURED = {1: dt.datetime(2011, 10, 20, 12), 2: dt.datetime(2011, 12, 20, 12)}


@contextmanager
def _without_proxy() -> Iterator[None]:
    """The crawl of the local archive goes straight to it, not through the simulated web."""
    names = [k for k in os.environ if k.lower() in ("http_proxy", "https_proxy", "all_proxy")]
    saved = {k: os.environ.pop(k) for k in names}
    try:
        yield
    finally:
        os.environ.update(saved)


def archive_step(
    ctx: click.Context,
    crawl: click.Command,
    out_dir: Path,
    warc_dirs: dict[int, Path],
    workers: int | None,
    step: Callable[[str], None],
) -> bool:
    """Build, serve and crawl (with the `crawl` command) the demo's archive; False (with a
    note) when pywb is missing."""
    try:
        wayback_program()
    except ReplayUnavailable as exc:
        step(f"web archive skipped: {exc}")
        return False
    root = out_dir / "archive"
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        dated = []
        for epoch, directory in sorted(warc_dirs.items()):
            when = CAPTURED[epoch]
            target = Path(folder) / f"demo-captured-{when:%Y%m%d}.warc.gz"
            redate_warcs(sorted(directory.glob("*.warc.gz")), target, lambda _url, w=when: w)
            dated.append(target)
        build_collection(root, COLLECTION, dated)
    with ReplayServer(root) as server, _without_proxy():
        step(f"web archive of the demo world on {server.url(COLLECTION)} (pywb)")
        try:
            ctx.invoke(
                crawl,
                only="open",
                workers=workers,
                archives=(server.url(COLLECTION),),
                as_of=AS_OF,
            )
        except SystemExit as exc:
            if exc.code:
                raise click.ClickException("the demo's archive crawl did not finish") from exc
    return True
